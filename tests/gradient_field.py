"""The gradient oracle for receptive fields: which input pixels can change one output unit, measured.

With every weight positive, max pooling replaced by average pooling of the same geometry and batch norm an
affine map with positive scale, no gradient can cancel: the input pixels with a non-zero gradient of one
output unit are exactly the pixels in its receptive field (clipped by the image). The input is made large
enough that the field of the centre unit lies strictly inside it, so clipping would show as a mismatch.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from unittest import mock

import torch
from torch import nn

from cnnprofile.record.recorder import record
from cnnprofile.record.calls import ModelRaised
from cnnprofile.record.run import record_meta
from cnnprofile.analyses.receptive.fields import propagate
from cnnprofile.sources import module_and_shape


@dataclass(frozen=True)
class Measured:
    name: str  # the row of the last feature map
    input_size: int  # along the measured axis
    predicted: tuple  # (first, last) input pixel of the centre unit's field, from our records; None: whole
    measured: tuple  # (first, last) pixel with a non-zero gradient


def positive(model: nn.Module) -> nn.Module:
    """``model`` with positive weights, average instead of max pooling, eval-mode batch norm (in place)."""
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.pooling._MaxPoolNd):
                assert child.dilation in (1, (1, 1)), "average pooling has no dilation"
                avg = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}[2 if "2d" in type(child).__name__ else
                                                                         1 if "1d" in type(child).__name__ else 3]
                setattr(parent, child_name, avg(child.kernel_size, child.stride, child.padding, child.ceil_mode))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                # Each layer multiplies a pixel's gradient by ~1/sqrt(kernel) and the total by ~sqrt(kernel):
                # both stay within float32 through 150 layers.
                kernel = math.prod(p.shape[2:])
                p.uniform_(0.5, 1.5).div_(p.shape[1] * math.sqrt(kernel))
            else:
                p.fill_(1.0 if name.endswith("weight") else 0.01)
            p.requires_grad_(False)
        for name, b in model.named_buffers():
            if name.endswith("running_var"):
                b.fill_(1.0)
            elif name.endswith("running_mean"):
                b.zero_()
    return model.eval()


# torch.nn.init's random initialisers; positive() overwrites every parameter they would fill.
_RANDOM_INIT = ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
                "xavier_normal_", "orthogonal_", "sparse_")


@contextlib.contextmanager
def _parameters_left_empty():
    """Build without drawing random initial weights: drawing them for a large classifier (VGG's, YOLOv1's) costs
    seconds on the CPU, and positive() replaces every one of them before anything runs."""
    with contextlib.ExitStack() as stack:
        for name in _RANDOM_INIT:
            stack.enter_context(mock.patch.object(torch.nn.init, name, lambda tensor, *a, **k: tensor))
        yield


def _last_map(meta_model, shape, stop=None, name=None):
    graph = record_meta(meta_model, shape, stop_after_call=stop)
    fields = propagate(graph)
    rows = graph.rows()
    for index in range(len(rows) - 1, -1, -1):
        out = rows[index].output
        field = fields.get(id(out)) if isinstance(out, torch.Tensor) else None
        if field is not None and any(a is not None for a in field.dims) and name in (None, rows[index].name):
            return index, rows[index], field
    raise AssertionError("no spatial feature map")


def measure(spec, axis: int, narrow: int = 32, kwargs=None, row: str | None = None,
            input_size=None, multiple: int = 1) -> Measured:
    """Measure the field of the centre unit of the last feature map (or of the last row named ``row``) along
    spatial ``axis`` of ``spec``; ``multiple``: every size tried is one (YOLOv2's passthrough needs 32)."""
    def fit(n: int) -> int:
        return -(-n // multiple) * multiple

    meta, native, _ = module_and_shape(spec, input_size, kwargs=kwargs, device="meta")
    native = tuple(native)
    n_spatial = len(native) - 2
    size = native[2 + axis]
    other = min(narrow, min(native[2:]))
    stop_call = _last_map(meta, native, name=row)[1].call  # found at the native size, where the classifier runs
    while True:
        shape = native[:2] + tuple(size if k == axis else other for k in range(n_spatial))
        try:
            index, found, field = _last_map(meta, shape, stop_call, row)
        except ModelRaised:  # the narrow side is too small for this network's first layers
            if other >= size:
                raise
            other = fit(min(2 * other, size))
            continue
        a = next((d for d in field.dims if d is not None and d.axis == axis), None)
        out_size = found.output.shape[field.dims.index(a)] if a is not None else 1
        if field.whole:  # any input shows it; a small one is cheap
            if size > 2 * other:
                size = fit(2 * other)
                continue
            predicted = None
            break
        centre = (out_size - 1) // 2
        lo = a.lo + centre * a.j
        hi = lo + a.r - 1
        short = max(1 - lo, hi - (size - 2))
        if short <= 0:
            predicted = (lo, hi)
            break
        size = fit(max(size + int(max(2 * short, a.j)), int(a.r + 4 * a.j)))
    with _parameters_left_empty():
        model, _, _ = module_and_shape(spec, input_size, kwargs=kwargs, device="cpu")
    model = positive(model)
    torch.manual_seed(0)
    x = (torch.rand(shape) + 0.5).requires_grad_(True)
    # Real tensors, autograd on: the recorded output is the tensor to backpropagate from.
    graph = record(model, lambda: model(x), inputs=(x,), stop_after_call=stop_call, stand_ins="none",
                   grad=True)
    cpu_row = graph.rows()[index]
    assert cpu_row.name == found.name
    out = cpu_row.output
    assert out.shape == found.output.shape
    # All channels at the centre position: one channel of a concatenation sees only its own branch.
    unit = [0, slice(None)] + [(s - 1) // 2 for s in out.shape[2:]]
    out[tuple(unit)].sum().backward()
    grad = x.grad[0].abs().sum(0)  # over channels
    along = grad.sum(tuple(k for k in range(n_spatial) if k != axis)) if n_spatial > 1 else grad
    nonzero = torch.nonzero(along > 0).flatten().tolist()
    assert torch.isfinite(x.grad).all()
    return Measured(found.name, size, predicted, (nonzero[0], nonzero[-1]))
