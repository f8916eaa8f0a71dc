"""A guarded recording of one forward pass: stand-ins for the weights, the inputs made, the module left as found,
and the one-line error when the model cannot run.

On the meta device the stand-ins are empty meta tensors (nothing is allocated, so batch 256 costs what batch 1
costs); on a real device they are detached aliases of the model's own tensors, so the model itself is never
moved, cast or changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import TraceError, first_line
from ..inputs import Inputs, check_signature, integer_high, resolve_inputs
from ..outputs import output_leaves
from .calls import ModelRaised
from .collector import collector_paused
from .guard import left_as_found
from .recorder import Recording, record
from .storage import StorageLog

@dataclass(frozen=True)
class Traced:
    """One recorded pass and what it was recorded for: every analysis of this model at this input reads it."""

    recording: Recording
    inputs: Inputs
    dtype: torch.dtype
    name: str
    engine: str  # the engine that recorded it
    note: str = ""  # why that engine, where it was not asked for



@collector_paused()
def record_module(module: nn.Module, input_shape, *, dtype: torch.dtype, name: str, device: str = "meta",
                  engine: str = "meta", note: str = "", lifetimes: bool = False) -> Traced:
    """Record one forward pass of ``module`` on ``input_shape`` (a shape or ``Inputs``) on ``device``; the module
    is left exactly as it was, returned or raised. A model that cannot run raises ``TraceError``.

    ``lifetimes`` (meta only) also logs when each storage is allocated and freed (``recording.storage``), for
    the memory analyses: every tensor is then recorded as a stand-in, so the pass's own tensors die when the
    model drops them."""
    inputs = input_shape if isinstance(input_shape, Inputs) else resolve_inputs(None, input_shape)
    check_signature(module, inputs, type(module).__name__)
    real = device != "meta"
    args, kwargs = inputs.make(device, dtype, real=real, int_high=integer_high(module) if real else 2)
    leaves = [t for _, t in output_leaves((args, kwargs))]
    # A module built on meta in this dtype (every named model is) holds what the stand-ins would be: it runs as
    # it is, without swapping every parameter in and out (a third of a zoo model's time).
    as_is = not real and _already_stand_ins(module, dtype)
    if as_is:
        state, params = None, [(p, _param_info(n, p)) for n, p in module.named_parameters()]
    else:
        state, params = _state(module, dtype, device)

    def run():
        return module(*args, **kwargs) if as_is else torch.func.functional_call(module, state, args, kwargs)
    log = None
    if lifetimes and not real:
        log = StorageLog()
        for t, (pname, _, _) in params:
            log.adopt(t, "weights", layer=pname)
        for bname, b in module.named_buffers():
            log.adopt(b if as_is else state[bname], "buffers", layer=bname)
        for t in leaves:
            log.adopt(t, "input", layer="input")
    try:
        with left_as_found(module):
            rec = record(module, run, inputs=leaves, params=params, lifetimes=log,
                         stand_ins="all" if log is not None else "real" if real else "none")
    except ModelRaised as raised:
        raise cannot_run(name, inputs, raised, suggest_real=not real) from raised.error
    return Traced(rec, inputs, dtype, name, engine, note)


def _param_info(name: str, t: torch.Tensor) -> tuple:
    return name, t.numel(), t.numel() * t.element_size()


def _already_stand_ins(model: nn.Module, dtype: torch.dtype) -> bool:
    """Every parameter and buffer is a meta tensor of the dtype a pass in ``dtype`` would give it."""
    return all(t.device.type == "meta" and (t.dtype == dtype or not t.is_floating_point())
               for named in (model.named_parameters(), model.named_buffers()) for _, t in named)


def _state(model: nn.Module, dtype: torch.dtype, device: str) -> tuple:
    """Stand-ins for parameters and buffers, and [(stand-in, (name, numel, bytes))] of the parameter ones.

    On the meta device they are empty meta tensors; for a real run they are detached aliases of the model's own
    tensors (converted copies where the dtype differs), so the model itself is never moved, cast or changed.
    """
    state, params = {}, []
    for kind, named in (("param", model.named_parameters()), ("buffer", model.named_buffers())):
        for name, t in named:
            to = dtype if t.is_floating_point() else t.dtype
            if device == "meta":
                new = torch.empty(t.shape, dtype=to, device="meta")
            elif t.device.type == "meta":  # a module built without values: random ones, as a named model gets
                new = _random_like(name, t, to, kind)
            else:
                new = t.detach().to(to)
            state[name] = new
            if kind == "param":
                params.append((new, _param_info(name, new)))
    return state, params


def _random_like(name: str, t: torch.Tensor, dtype: torch.dtype, kind: str) -> torch.Tensor:
    if kind == "param" or not t.is_floating_point():
        return (torch.randn(t.shape) * 0.02).to(dtype) if t.is_floating_point() else torch.zeros(t.shape, dtype=dtype)
    return (torch.ones if name.endswith("var") else torch.zeros)(t.shape, dtype=dtype)  # normalisation statistics


# --- errors ------------------------------------------------------------------------------------------------

# Room for the cause in the data-dependent error, so the whole line stays near 200 characters.
_LINE = 200
_AXES = {1: "N x C x L", 2: "N x C x H x W", 3: "N x C x T x H x W"}
# PyTorch's words for a layer given the wrong rank: (unbatched rank, batched rank) (convolutions, pooling), or
# the one rank it takes (batch norm).
_RANK = (re.compile(r"Expected (\d)D \(unbatched\) or (\d)D \(batched\) input to \w+, but got input of size: "),
         re.compile(r"expected (\d)D input \(got \dD input\)"))


def cannot_run(name: str, input_shape, raised: ModelRaised, engine: str = "", suggest_real: bool = False) -> TraceError:
    """The one-line error for a model that cannot run on its input, naming the input and the layer that failed.

    ``input_shape`` is a shape or ``Inputs``. A layer given a tensor of the wrong rank says which rank it takes.
    On the meta device an op whose output shape depends on values (``nonzero``: detection's box selection)
    fails; the error then leads with what to do (the real engine), then the cause, in about 200 characters.
    """
    call = raised.call
    layer = f"layer '{call.name or '(model)'}' ({type(call.module).__name__})" if call is not None else ""
    where = f"{layer} failed" if call is not None else "the forward pass failed"
    with_engine = f" with {engine}" if engine else ""
    shown = input_shape.text() if hasattr(input_shape, "text") else "x".join(map(str, input_shape))
    reason = first_line(raised.error)
    if suggest_real and any(key in reason for key in ("meta", "data-dependent", "nonzero")):
        lead = (f"{name}: profile it with engine 'real' (--engine real): its shapes depend on the data, which the "
                "meta device cannot know (" + (f"{layer} " if layer else ""))
        return TraceError(lead + _cause(reason, max(40, _LINE - len(lead) - 1)) + ")")
    rank = _rank_problem(call, reason)
    return TraceError(f"{name} cannot run on input {shown}{with_engine}: " + (f"{layer} {rank}" if rank else
                                                                              f"{where}: {reason}"))


def _rank_problem(call, reason: str) -> str:
    """"takes a 4-D input (N x C x H x W, or 3-D without the batch), got a 2-D one (3x224)" where the layer
    refused the rank of its input, else ""."""
    m = next((m for m in (p.search(reason) for p in _RANK) if m), None) if call is not None else None
    if m is None:
        return ""
    batched = int(m.group(m.lastindex))
    takes = [_AXES[batched - 2]] if batched - 2 in _AXES else []
    takes += [f"or {m.group(1)}-D without the batch"] if m.lastindex == 2 else []
    got = call.input_shape
    return (f"takes a {batched}-D input" + (f" ({', '.join(takes)})" if takes else "")
            + (f", got a {len(got)}-D one ({'x'.join(map(str, got))})" if got else f": {reason}"))


def _cause(reason: str, limit: int) -> str:
    """The op that needs the data (``torch.nonzero``) where the message names one, else its first sentence, cut."""
    op = re.search(r"\b(torch\.\w+)\(\)", reason)
    if op:
        return f"calls {op.group(1)}"
    text = reason.split(". ")[0].rstrip(".")
    return text if len(text) <= limit else text[:limit - 3].rsplit(" ", 1)[0] + "..."


def traced(model, input_size=None, batch: int | None = None, kwargs: dict | None = None,
           dtype: torch.dtype = torch.float32, lifetimes: bool = False) -> Traced:
    """One recorded pass on the meta device of a spec, a ``ModelSource`` or an ``nn.Module`` (whose shapes are
    taken as written, of any rank), for an analysis asked of a model on its own (``lifetimes``: see
    ``record_module``)."""
    from ..sources import module_and_inputs

    module, inputs, name, _ = module_and_inputs(model, input_size, batch, kwargs, device="meta")
    return record_module(module, inputs, dtype=dtype, name=name or type(module).__name__, lifetimes=lifetimes)


def record_meta(model: nn.Module, input_shape: tuple, dtype: torch.dtype = torch.float32,
                stop_after_call: int | None = None) -> Recording:
    """One pass of ``model`` on a meta input of ``input_shape``, on meta stand-ins for its weights, guarded;
    ``stop_after_call`` ends it when that module call returns (see ``recorder.record``)."""
    state, params = _state(model, dtype, "meta")
    x = torch.empty(input_shape, dtype=dtype, device="meta")
    with left_as_found(model):
        return record(model, lambda: torch.func.functional_call(model, state, (x,)), inputs=(x,), params=params,
                      stop_after_call=stop_after_call, stand_ins="none")


__all__ = ["Traced", "cannot_run", "record_meta", "record_module", "traced"]
