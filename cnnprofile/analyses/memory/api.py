"""``cnnprofile.memory()``: predict the peak memory of an inference pass or a training step."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional, Sequence, Union

import torch
from torch import nn

from ...errors import InputError, TraceError, first_line
from ...inputs import dtype_name, parse_dtype
from ...sources.keras_bridge import KerasAsTorch, check_keras_dtype, is_keras
from ...record.calls import ModelRaised
from ...record.collector import collector_paused
from ...record.run import record_module
from ...sources import module_and_shape
from .amp import parse_amp
from .optimizers import check_optimizer
from .replay import inference_report, peaks
from .report import LayerCosts, MemoryReport, PeakShare
from .step import run_step
from .targets import MATMUL_OPS, Target, get_target
from .trainable import ordered_rules, resolve_trainable



class Predictor:
    """A resolved model and settings; ``at(batch)`` predicts one batch size (``fit`` calls it repeatedly)."""

    @collector_paused()  # building the model (``record.collector``)
    def __init__(self, model, input_size=None, *, batch: Optional[int] = None,
                 dtype: Union[str, torch.dtype] = "float32", amp: Optional[str] = None, train: bool = False,
                 optimizer: str = "none", trainable: Optional[Iterable[str]] = None,
                 freeze: Optional[Iterable[str]] = None, rules: Optional[Sequence[tuple]] = None,
                 device: str = "cuda", kwargs: Optional[dict] = None):
        self.target: Target = get_target(device)
        self.dtype = parse_dtype(dtype) if isinstance(dtype, str) else dtype
        self.amp = parse_amp(amp, self.target.name) if amp else None
        self.amp_name = amp
        self.optimizer = check_optimizer(optimizer)
        self.train = train
        self.module, self.shape, name = module_and_shape(model, input_size, batch, kwargs, device="meta")
        if is_keras(self.module):  # its weights as parameters of a torch module, and layer.trainable honoured
            check_keras_dtype(self.module, self.dtype, name or type(self.module).__name__)
            self.module = KerasAsTorch(self.module)
        self.name = name or type(self.module).__name__
        rules = ordered_rules(trainable, freeze, rules)
        self.trainable = resolve_trainable({n: p.requires_grad for n, p in self.module.named_parameters()}, rules)
        if train and not self.trainable:
            raise InputError("nothing is trainable: every parameter is frozen (check --trainable/--freeze)")
        self._traced = None

    @property
    def replays(self) -> bool:
        """An inference pass without autocast: read from the one recording's storage log (``replay``); a
        training step or autocast runs ``step.run_step``'s pass."""
        return not self.train and self.amp is None and not isinstance(self.module, KerasAsTorch)

    def recorded(self, batch: Optional[int] = None):
        """The recorded pass (``record.run.Traced``, with its storage log) at ``batch``, once per batch."""
        shape = (batch, *self.shape[1:]) if batch is not None else self.shape
        if self._traced is None or self._traced.inputs.main.shape != shape:
            try:
                self._traced = record_module(self.module, shape, dtype=self.dtype, name=self.name, lifetimes=True)
            except TraceError as e:
                raise self._cannot_run(shape, e.__cause__ or e) from e.__cause__ or e
        return self._traced

    def _cannot_run(self, shape: tuple, error: BaseException) -> TraceError:
        """The one-line error for the model's own ``error`` (not where it was caught) on ``shape``."""
        return TraceError(f"{self.name} cannot run a {'training step' if self.train else 'forward pass'} on input "
                          f"{'x'.join(map(str, shape))}: {first_line(error)}")

    def peaks(self, batches: Sequence[int]) -> tuple:
        """The peak (bytes) at each of ``batches``: an inference pass is recorded once (at the first batch) and
        replayed at the others where the recording allows (``replay.peaks``); otherwise a pass per batch."""
        if not self.replays:
            return tuple(self.at(b).peak_bytes for b in batches)
        traced = self.recorded(batches[0] if batches else None)
        return peaks(traced, self.target, batches, step=lambda b: self._step(b).peak_bytes)

    def at(self, batch: Optional[int] = None) -> MemoryReport:
        if self.replays:
            return inference_report(self.recorded(batch), self.target)
        return self._step(batch)

    def _step(self, batch: Optional[int]) -> MemoryReport:
        shape = (batch, *self.shape[1:]) if batch is not None else self.shape
        try:
            run = run_step(self.module, shape, dtype=self.dtype, target=self.target, train=self.train,
                           trainable=self.trainable, optimizer=self.optimizer, amp=self.amp)
        except (ModelRaised, RuntimeError, TypeError, ValueError, NotImplementedError) as e:
            e = e.error if isinstance(e, ModelRaised) else e
            raise self._cannot_run(shape, e) from e
        return _report(self, run, shape)


def _report(p: Predictor, run, shape: tuple) -> MemoryReport:
    t = run.tracker
    threads = sum(1 for phase in ("forward", "backward") if run.ops_seen.get(phase, set()) & MATMUL_OPS)
    workspace = threads * p.target.matmul_workspace_bytes
    shares: dict = defaultdict(int)
    for b in t.peak_blocks.values():
        shares[(b.category, b.layer)] += b.nbytes
    at_peak = tuple(sorted((PeakShare(c, layer, n) for (c, layer), n in shares.items()), key=lambda s: -s.bytes))
    layers = tuple(LayerCosts(unit.name, c.forward_macs, c.forward_flops, c.backward_macs, c.backward_flops,
                              c.saved_bytes, unit.call, unit.after) for unit, c in run.layers.items())
    uncounted = tuple((phase, op, where) for (phase, op), where in run.uncounted.items())
    return MemoryReport(
        model=p.name, input_shape=tuple(shape), dtype=dtype_name(p.dtype), amp=p.amp_name, device=p.target.name,
        train=p.train, optimizer=p.optimizer if p.train else "none", batch=shape[0],
        peak_bytes=t.peak + workspace, weights_bytes=run.weights_bytes, buffers_bytes=run.buffers_bytes,
        input_bytes=run.input_bytes, gradients_bytes=run.gradients_bytes,
        optimizer_state_bytes=run.optimizer_state_bytes, saved_activations_bytes=run.saved_bytes,
        activations_at_peak_bytes=sum(s.bytes for s in at_peak if s.category == "activations"),
        trainable_params=run.trainable_params, frozen_params=run.frozen_params,
        forward_macs=sum(r.forward_macs for r in layers), backward_macs=sum(r.backward_macs for r in layers),
        forward_flops=sum(r.forward_flops for r in layers), backward_flops=sum(r.backward_flops for r in layers),
        workspace_bytes=workspace + sum(s.bytes for s in at_peak if s.category == "workspace"),
        peak_phase=t.peak_phase, peak_layer=t.peak_layer, at_peak=at_peak,
        layers=layers, uncounted_ops=uncounted, target_notes=p.target.notes)


def memory(model: Union[str, nn.Module], input_size=None, *, batch: Optional[int] = None,
           dtype: Union[str, torch.dtype] = "float32", amp: Optional[str] = None, train: bool = False,
           optimizer: str = "none", trainable: Optional[Iterable[str]] = None,
           freeze: Optional[Iterable[str]] = None, device: str = "cuda", kwargs: Optional[dict] = None,
           fit: Union[None, str, int] = None, rules: Optional[Sequence[tuple]] = None) -> MemoryReport:
    """Predict the peak memory of one inference pass (``train=False``) or one training step of ``model``.

    ``model`` is a spec (``"resnet50"``, ``"torchvision:vit_b_16"``, ``"file.py:build"``) or an ``nn.Module``
    (never changed; ``input_size`` required). ``amp``: ``"bf16"``/``"fp16"`` autocast with float32 weights.
    ``trainable``/``freeze``: globs on parameter names (see ``cnnprofile.analyses.memory.trainable``). ``device``: whose
    allocator and kernels to model, ``"cuda"`` or ``"cpu"``. ``fit``: a memory size (``"24GB"``, ``"22GiB"``
    or bytes); the report is then for the largest batch that fits, with ``max_batch`` set.
    """
    if fit is not None and batch is not None:
        raise InputError("fit searches for the largest batch that fits; it cannot be combined with batch")
    predictor = Predictor(model, input_size, batch=batch, dtype=dtype, amp=amp, train=train, optimizer=optimizer,
                          trainable=trainable, freeze=freeze, rules=rules, device=device, kwargs=kwargs)
    if fit is None:
        return predictor.at()
    from .fit import fit_batch

    return fit_batch(predictor, fit)
