"""The inference peak read from the one recorded pass: its storage log (``record.storage.StorageLog``) replayed
under a target's allocator and kernels, at the recorded batch or at another one.

The pass that gives the layer rows, the receptive field and the roofline also logged when each storage was
allocated and freed, so an inference peak needs no pass of its own. Replaying it applies what the target adds:
the allocator's rounding, a convolution's transient workspace, the CPU kernels' column buffers, the matrix
library's persistent workspace; ``step.run_step`` observes the same things while it runs (it remains the
training step's and autocast's pass), and the two agree to the byte (tests/test_memory_replay.py).

Another batch: a storage derived from an input of the pass (by data flow over the recorded ops: an
activation) has a size proportional to the batch, for a network whose ops do not mix samples, except batch
norm's per-channel statistics and tensors made to a given size (``new_zeros``); one derived from the weights
alone (a cast or reshaped weight, a constant) does not. The log's order of allocations and frees is the same at
every batch for a network whose control flow does not depend on it, and whose layouts do not: a tensor that is
contiguous only because a dimension has size 1 at the recorded batch makes a later ``view`` a copy at another
(``rescalable`` finds these, and that batch then gets a pass of its own). Otherwise the peak at batch B is the
same replay with every input-derived storage scaled by B / (the recorded batch). The CPU target's column
buffers depend on which kernel PyTorch picks, which depends on the batch: they are replayed at the recorded
batch only.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import torch

from ...errors import InputError
from ...inputs import dtype_name
from ..formulas import cost_of
from .report import LayerCosts, MemoryReport, PeakShare
from .step import MODEL, Unit
from .targets import MATMUL_OPS, Target

# Batch normalisation returns its output and then per-channel statistics: derived from the input, but the size
# of the channels, not of the batch (layer and group norm's statistics are per sample: they do scale).
_STATISTICS = {"aten.native_batch_norm", "aten._native_batch_norm_legit", "aten._native_batch_norm_legit_no_training",
               "aten._native_batch_norm_legit_functional", "aten.cudnn_batch_norm", "aten.miopen_batch_norm"}
# ``x.new_zeros(size)`` and its kin read only the dtype and device of ``x``: their size is the one given (Swin's
# attention mask, the size of a window, not of the batch).
_SIZED = {"aten.new_zeros", "aten.new_ones", "aten.new_empty", "aten.new_full", "aten.new_empty_strided"}
_WORKSPACE = -1  # the key of a transient workspace block in a snapshot


class _Block(NamedTuple):
    nbytes: int
    category: str
    layer: str


@dataclass(frozen=True)
class Replayed:
    """An inference pass's storage, replayed: the peak of live bytes (without the matrix library's persistent
    workspace, which ``peak_bytes`` adds), what was alive then, and the bytes of what existed before it."""

    batch: int
    peak: int
    at_peak: dict  # key -> _Block, the workspace under _WORKSPACE
    peak_layer: str
    before: dict  # category -> bytes of the storages that existed before the pass (weights, buffers, input)
    matmul_threads: int  # threads that ran a matrix product (each holds the library's workspace)
    workspace_bytes: int  # the persistent matrix workspace

    @property
    def peak_bytes(self) -> int:
        return self.peak + self.workspace_bytes


def _layer(rec, node: Optional[int]) -> str:
    call = rec.nodes[node].call if node is not None else None
    return (rec.calls[call].name or MODEL) if call is not None else MODEL


def _transient(rec, target: Target, node, out_nbytes: Optional[int], rescaled: bool) -> int:
    n = rec.nodes[node]
    if n.op != "aten.convolution":
        return 0
    nbytes = target.conv_workspace(n.args[1].shape, out_nbytes) if out_nbytes is not None else 0
    if target.kernel_transients is not None:
        if rescaled:
            raise InputError(f"the {target.name} target's convolution buffers depend on the batch: replayed at "
                             "the recorded batch only")
        nbytes += target.kernel_transients(torch.ops.aten.convolution.default, n.args, n.out)
    return nbytes


def replay(rec, target: Target, batch: Optional[int] = None, recorded_batch: int = 1,
           carried: Optional[dict] = None) -> Replayed:
    """Replay ``rec``'s storage log (a recording made with lifetimes) for ``target``, at ``batch`` (default:
    the recorded one, ``recorded_batch``). ``carried``: ``_carried(rec)[0]``, where the caller has it."""
    log = rec.storage
    if log is None:
        raise ValueError("this recording has no storage log (record it with lifetimes=True)")
    batch = recorded_batch if batch is None else batch
    rescaled = batch != recorded_batch
    if rescaled and carried is None:
        carried = _carried(rec)[0]  # node -> which outputs are derived from the input

    def scaled(nbytes: int, category: str, node: Optional[int], output: int) -> int:
        carries = category == "input" or (node is not None and carried[node][output])
        return nbytes // recorded_batch * batch if carries and nbytes % recorded_batch == 0 else nbytes

    r = target.round_to
    # Only sizes are followed here; what was alive at the peak is rebuilt once afterwards, from the peak's
    # place in the log (copying the live set at every new high was most of a replay's time).
    sizes: dict = {}  # key -> bytes reserved
    live: dict = {}
    total = peak = 0
    peak_at, peak_extra = -1, None  # the event that made the peak; a workspace then: (bytes, node)
    before: dict = defaultdict(int)
    outs: dict = {}  # node -> bytes of its first new storage (a convolution's output)
    events = log.events
    for i, event in enumerate(events):
        kind = event[0]
        if kind == "alloc":
            _, key, nbytes, category, node, output, layer = event
            if rescaled:
                nbytes = scaled(nbytes, category, node, output)
            size = -(-nbytes // r) * r if r > 1 else nbytes
            sizes[key] = live[key] = size
            total += size
            if node is None and layer:
                before[category] += size
            elif node is not None:
                outs.setdefault(node, nbytes)  # a workspace sized by it goes by its exact size
            if total > peak:
                peak, peak_at, peak_extra = total, i, None
        elif kind == "free":
            size = live.pop(event[1], None)
            if size is not None:
                total -= size
        elif event[1] is not None:
            node = event[1]
            extra = _transient(rec, target, node, outs.get(node), rescaled)
            if extra:
                extra = -(-extra // r) * r if r > 1 else extra
                if total + extra > peak:
                    peak, peak_at, peak_extra = total + extra, i, (extra, node)
    alive: dict = {}
    for event in events[:peak_at + 1]:
        if event[0] == "alloc":
            alive[event[1]] = event
        elif event[0] == "free":
            alive.pop(event[1], None)
    at_peak = {key: _Block(sizes[key], e[3], e[6] if e[4] is None and e[6] else _layer(rec, e[4]))
               for key, e in alive.items()}
    peak_layer = ""
    if peak_extra is not None:
        peak_layer = _layer(rec, peak_extra[1])
        at_peak[_WORKSPACE] = _Block(peak_extra[0], "workspace", peak_layer)
    elif peak_at >= 0:
        peak_layer = at_peak[events[peak_at][1]].layer
    threads = 1 if any(n.op in MATMUL_OPS for n in rec.nodes) else 0
    return Replayed(batch, peak, at_peak, peak_layer, dict(before), threads, threads * target.matmul_workspace_bytes)


def _strictly_contiguous(t: torch.Tensor) -> bool:
    expected = 1
    for size, stride in zip(reversed(t.shape), reversed(t.stride())):
        if stride != expected:
            return False
        expected *= size
    return True


def _carried(rec) -> tuple:
    """({node: [whether each output is derived from an input of the pass]}, the first op whose layout makes the
    replay at another batch unsafe, or None).

    Unsafe: an op read an input-derived tensor that PyTorch deems contiguous only because a dimension has size 1
    (Swin's last stage has one window per image at batch 1). At a larger batch that dimension grows, the
    tensor is no longer contiguous, and a ``view`` there becomes a copy: the ops, and the storages, differ."""
    carry = {id(t) for t in rec.inputs}
    out: dict = {}
    unsafe = None
    for n in rec.nodes:
        reads = [t for t in n.inputs if id(t) in carry]
        if unsafe is None:
            for t in reads:
                if 1 in t.shape and t.numel() and t.is_contiguous() and not _strictly_contiguous(t):
                    unsafe = n
                    break
        flags = [bool(reads) and n.op not in _SIZED and not (i and n.op in _STATISTICS) for i in range(len(n.outputs))]
        for t, flag in zip(n.outputs, flags):
            if flag:
                carry.add(id(t))
        out[n.index] = flags
    return out, unsafe


def rescalable(rec) -> Optional[str]:
    """None if the inference peak at another batch can be replayed from this recording; else why not."""
    return _why_not(rec, _carried(rec)[1])


def _why_not(rec, unsafe) -> Optional[str]:
    if unsafe is None:
        return None
    where = rec.calls[unsafe.call].name if unsafe.call is not None else ""
    return (f"{unsafe.op} in {where or MODEL} reads a tensor that is contiguous only because one of its dimensions "
            "has size 1 at the recorded batch")


def peaks(traced, target: Target, batches, step: Optional[Callable[[int], int]] = None) -> tuple:
    """The inference peak (bytes, ``MemoryReport.peak_bytes``) of the recorded model at each of ``batches``:
    replayed from the one recording where it can be (``rescalable``; the recorded batch always), else
    ``step(batch)`` (a pass of its own, ``step.run_step``'s) or, without ``step``, ``InputError``."""
    rec, recorded = traced.recording, traced.inputs.main.shape[0]
    why = carried = None
    if any(b != recorded for b in batches):
        if target.kernel_transients is not None:
            why = "the CPU's convolution buffers depend on which kernel the batch selects"
        else:
            carried, unsafe = _carried(rec)
            why = _why_not(rec, unsafe)
    out = []
    for b in batches:
        if b == recorded or why is None:
            out.append(replay(rec, target, b, recorded, carried).peak_bytes)
        elif step is not None:
            out.append(step(b))
        else:
            raise InputError(f"{traced.name}: the inference peak at batch {b} cannot be replayed from the pass at "
                             f"batch {recorded}: {why}")
    return tuple(out)


def _units(rec) -> dict:
    """node index -> the memory report's unit (``step.Unit``) of the op: the module call that ran it, or the run
    of functional ops in a module's forward after its last child call, as ``step._Layers`` names them."""
    out, stack, counts = {}, [], defaultdict(int)
    for kind, ref in rec.events:
        if kind == "start":
            name = rec.calls[ref].name or MODEL
            unit = Unit(name, counts[name])
            counts[name] += 1
            if stack:
                stack[-1][1] = (unit.name, unit.call)
            stack.append([unit, None])
        elif kind == "end":
            stack.pop()
        elif stack:
            unit, last = stack[-1]
            out[ref] = unit if last is None else unit._replace(after=last)
    return out


def inference_report(traced, target: Target) -> MemoryReport:
    """``cnnprofile.memory``'s report of an inference pass, at the recorded batch, from the one recording."""
    rec = traced.recording
    r = replay(rec, target, recorded_batch=traced.inputs.main.shape[0])
    costs: dict = {}
    uncounted: dict = defaultdict(set)
    for i, unit in _units(rec).items():
        node = rec.nodes[i]
        cost = cost_of(node.op, node.args, node.kwargs, node.out)
        row = costs.setdefault(unit, [0, 0])
        if cost is None:
            uncounted[("forward", node.op)].add(_layer(rec, i))
        else:
            row[0] += cost.macs
            row[1] += cost.flops
    layers = tuple(LayerCosts(u.name, macs, flops, 0, 0, 0, u.call, u.after) for u, (macs, flops) in costs.items())
    shares: dict = defaultdict(int)
    for b in r.at_peak.values():
        shares[(b.category, b.layer)] += b.nbytes
    at_peak = tuple(sorted((PeakShare(c, layer, n) for (c, layer), n in shares.items()), key=lambda s: -s.bytes))
    params = sum(numel for _, numel, _ in rec.params.values())
    return MemoryReport(
        model=traced.name, input_shape=tuple(traced.inputs.main.shape), dtype=dtype_name(traced.dtype), amp=None,
        device=target.name, train=False, optimizer="none", batch=r.batch, peak_bytes=r.peak_bytes,
        weights_bytes=r.before.get("weights", 0), buffers_bytes=r.before.get("buffers", 0),
        input_bytes=r.before.get("input", 0), gradients_bytes=0, optimizer_state_bytes=0,
        saved_activations_bytes=0,
        activations_at_peak_bytes=sum(s.bytes for s in at_peak if s.category == "activations"),
        trainable_params=0, frozen_params=params,
        forward_macs=sum(x.forward_macs for x in layers), backward_macs=0,
        forward_flops=sum(x.forward_flops for x in layers), backward_flops=0,
        workspace_bytes=r.workspace_bytes + sum(s.bytes for s in at_peak if s.category == "workspace"),
        peak_phase="forward", peak_layer=r.peak_layer, at_peak=at_peak, layers=layers,
        uncounted_ops=tuple((phase, op, tuple(sorted(where))) for (phase, op), where in uncounted.items()),
        target_notes=target.notes)


__all__ = ["Replayed", "inference_report", "peaks", "replay", "rescalable"]
