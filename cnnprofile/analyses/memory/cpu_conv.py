"""Column buffers that PyTorch's CPU convolution kernels allocate inside themselves: transient blocks of one op.

An op-level tracker sees a convolution's output, not what its kernel allocates and frees while it runs. On the
CPU, convolutions that PyTorch does not hand to oneDNN run one of its own im2col/vol2col kernels, which unfold
the input (or the gradient) into a column matrix through the framework's allocator first. Which kernel runs is
PyTorch's choice (``_select_conv_backend`` in ATen's Convolution.cpp); roughly, a float32 convolution goes to
oneDNN unless its batch is 1 and it is small (N*C*D*H, or N*C*H*W, at most 20480, kernel at most 3 in height or
width, one group), or oneDNN is disabled (``torch.backends.mkldnn``) or cannot take the dtype (float64 always).
Then the path is decided by rank and dilation:

======================  ====================================  ==========================================
backend                 forward                                backward (grad-input, then grad-weight)
======================  ====================================  ==========================================
Slow2d (4-D)            whole batch: N x Cin*k x out           grad-weight: the same columns again;
                        (none for 1x1, stride 1, no padding:   grad-input's per-thread buffer comes from
                        the columns are a view of the input)   ``new[]``, not the allocator: unseen
Slow3d (5-D)            whole batch: N x Cin*k x out           grad-input: N x Cin*k x out, always;
                        (none for 1x1x1, stride 1, no          grad-weight: the forward's columns;
                        padding, one group)                    one after the other, so the larger
SlowDilated2d/3d        one sample: Cin*k x out, reused        the same single buffer, if either
                        for every sample                       gradient is asked for
SlowTranspose2d         whole batch: N x Cout*k x in           one sample: Cout*k x in, each (none for
                                                               1x1, stride 1, no padding, no dilation)
SlowTranspose3d         one sample: Cout*k x in, and a ones    as 2-D
                        buffer of out elements with a bias
======================  ====================================  ==========================================

(k = kernel elements, in/out = input/output spatial elements, Cin/Cout = input/output channels.) Read from
ConvolutionMM2d.cpp, ConvolutionMM3d.cpp, NaiveDilatedConvolution.cpp and NaiveConvolutionTranspose{2,3}d.cpp;
each figure is checked against the CPU allocator in tests/test_memory_cpu_conv.py. Each buffer is freed before
the op returns, so it is a transient on top of the op's outputs (``StorageTracker.transient``).

The backend is asked of the installed PyTorch itself, on stand-ins of the meta tensors' shapes and dtypes that
own one element (so nothing real is allocated): the rule depends on the thread count, the CPU's bfloat16
support and the torch version, all of which the process predicting is the one to answer for.

Convolutions that do go to oneDNN hold temporaries of oneDNN's own, which ``cpu_onednn`` models. Not modelled:
the slow paths' per-group loops (groups > 1 off oneDNN: float64 or oneDNN disabled, which split the input into
contiguous per-group copies).
"""
from __future__ import annotations

from math import prod
from typing import Optional

import torch

from ...dispatch.layout import channels_last_format
from . import cpu_onednn

_B = torch._C._ConvBackend
_CONV = torch.ops.aten.convolution.default
_CONV_BACKWARD = torch.ops.aten.convolution_backward.default


def backend(input_shape, weight_shape, dtype: torch.dtype, stride, padding, dilation, transposed: bool,
            output_padding, groups: int):
    """The ``torch._C._ConvBackend`` PyTorch picks on the CPU for a convolution of these shapes, or None."""
    inp, w = list(input_shape), list(weight_shape)
    stride, padding, dilation, output_padding = (list(v) for v in (stride, padding, dilation, output_padding))
    if len(inp) == 3:  # as ATen does, a 1-D convolution runs as a 2-D one of height 1
        inp.insert(2, 1)
        w.insert(2, 1)
        stride, padding, dilation, output_padding = [1] + stride, [0] + padding, [1] + dilation, [0] + output_padding
    probe = torch.zeros((), dtype=dtype)  # one real element expanded: the shapes without their memory
    try:
        return torch._C._select_conv_backend(probe.expand(inp), probe.expand(w), None, stride, padding, dilation,
                                             transposed, output_padding, groups, None)
    except (RuntimeError, TypeError, AttributeError):
        return None


def _spatial(shape) -> int:
    return prod(shape[2:])


def _is_identity(kernel, stride, padding, dilation=None) -> bool:
    return all(k == 1 for k in kernel) and all(s == 1 for s in stride) and all(p == 0 for p in padding) \
        and (dilation is None or all(d == 1 for d in dilation))


def _columns(kind, x, w, out_shape, stride, padding, dilation, groups, bias: bool, mask: Optional[tuple]) -> int:
    """Elements of the largest column buffer alive at once; ``mask`` is None for the forward pass, else the
    backward's (grad_input, grad_weight, grad_bias) request."""
    n, c_in, kernel = x[0], x[1], w[2:]
    k = prod(kernel)
    if kind in (_B.SlowDilated2d, _B.SlowDilated3d):
        columns = c_in * k * _spatial(out_shape) if (mask is None or mask[0] or mask[1]) else 0
        # its bias gradient adds up one sample's channel sums, a temporary of Cout elements, while it is alive
        return columns + (out_shape[1] if mask is not None and mask[2] else 0)
    if kind == _B.Slow2d:
        whole = 0 if _is_identity(kernel, stride, padding) else n * c_in * k * _spatial(out_shape)
        return whole if (mask is None or mask[1]) else 0
    if kind == _B.Slow3d:
        unfolded = n * c_in * k * _spatial(out_shape)
        finput = 0 if (_is_identity(kernel, stride, padding) and groups == 1) else unfolded
        if mask is None:
            return finput
        return max(unfolded if mask[0] else 0, finput if mask[1] else 0)
    c_out = w[1] * groups  # a transposed weight is (Cin, Cout / groups, *kernel)
    per_sample = c_out * k * _spatial(x)
    if mask is None:
        if kind == _B.SlowTranspose2d:
            return n * per_sample
        return per_sample + (_spatial(out_shape) if bias else 0)
    return per_sample if ((mask[0] or mask[1]) and not _is_identity(kernel, stride, padding, dilation)) else 0


# ATen's ConvBackend::MkldnnTranspose, which torch's Python binding of the enum leaves unnamed (it sits between
# Mkldnn and MkldnnEmpty, whose values it names)
_MKLDNN_TRANSPOSE = int(_B.Mkldnn) + 1 if int(_B.MkldnnEmpty) == int(_B.Mkldnn) + 2 else None

_SLOW = {_B.Slow2d, _B.Slow3d, _B.SlowDilated2d, _B.SlowDilated3d, _B.SlowTranspose2d, _B.SlowTranspose3d}


def _copy_bytes(*tensors, layout=torch.contiguous_format) -> int:
    # The slow kernels make their operands contiguous first: a copy of each one that is not (the gradient of
    # a sum is an expanded scalar, for one), alive while the kernel runs.
    return sum(t.numel() * t.element_size() for t in tensors if not t.is_contiguous(memory_format=layout))



def transient_bytes(func, args, out) -> int:
    """Bytes that the CPU kernel behind this op allocates and frees inside itself: a slow path's column buffer,
    oneDNN's reorders and buffers (``cpu_onednn``), and contiguous copies of operands that are not (0 for ops
    that are no convolution and for the cases listed as not modelled)."""
    if func is _CONV:
        x, w, bias, stride, padding, dilation, transposed, output_padding, groups = args[:9]
        out_shape, mask, has_bias, operands = tuple(out.shape), None, bias is not None, (x,)
    elif func is _CONV_BACKWARD:
        grad_out, x, w, _, stride, padding, dilation, transposed, output_padding, groups, mask = args[:11]
        out_shape, has_bias, operands = tuple(grad_out.shape), False, (grad_out, x)
    else:
        return 0
    kind = backend(x.shape, w.shape, x.dtype, stride, padding, dilation, transposed, output_padding, groups)
    if kind == _B.Mkldnn or (kind is not None and int(kind) == _MKLDNN_TRANSPOSE):
        return _onednn(func, x, w, out_shape, stride, padding, dilation, groups, mask, operands, transposed)
    if kind not in _SLOW or (groups > 1 and kind != _B.Slow3d):
        return 0
    xs, ws = list(x.shape), list(w.shape)
    if len(xs) == 3:  # the 2-D kernel that runs a 1-D convolution: height 1
        xs.insert(2, 1)
        ws.insert(2, 1)
        out_shape = out_shape[:2] + (1,) + out_shape[2:]
        stride, padding, dilation = [1, *stride], [0, *padding], [1, *dilation]
    elements = _columns(kind, xs, ws, out_shape, stride, padding, dilation, groups, has_bias, mask)
    return elements * x.element_size() + _copy_bytes(*operands)


def _onednn(func, x, w, out_shape, stride, padding, dilation, groups, mask, operands, transposed) -> int:
    simd = cpu_onednn.vector_width()
    if simd is None or x.dtype != torch.float32:
        return 0
    # ATen's mkldnn_conv_use_channels_last: the input's or the weight's suggested memory format. ATen makes its
    # operands contiguous in the layout it computes in first (a sum's gradient is an expanded scalar; a
    # channels-last step's plain weight is copied): alive throughout
    fmt = channels_last_format(x) or channels_last_format(w)
    last, threads = fmt is not None, torch.get_num_threads()
    if func is _CONV:
        copies = _copy_bytes(x) if not last else 0
        if transposed:
            return copies + cpu_onednn.transposed_forward_bytes(tuple(x.shape), tuple(w.shape), out_shape, stride,
                                                                groups, channels_last=last, threads=threads)
        return copies + cpu_onednn.forward_bytes(tuple(x.shape), tuple(w.shape), out_shape, list(stride),
                                                 list(padding), list(dilation), groups, channels_last=last,
                                                 simd=simd, threads=threads)
    copies = _copy_bytes(operands[0], *((w,) if last else ()), layout=fmt or torch.contiguous_format)
    return copies + cpu_onednn.backward_bytes(tuple(x.shape), tuple(w.shape), out_shape, list(stride),
                                              list(padding), list(dilation), groups, tuple(mask),
                                              channels_last=last, simd=simd, threads=threads, transposed=transposed)
