"""What oneDNN allocates inside a float32 CPU convolution: its reorders into blocked layouts and its buffers.

PyTorch hands most float32 CPU convolutions to oneDNN (``cpu_conv.backend``: ``Mkldnn``). For an NCHW input,
ATen's ``mkldnn_convolution`` lets oneDNN pick the layouts it computes in, then converts: the input and the
weight are reordered into blocked copies (channels in blocks of the vector width, padded up to a whole block),
the kernel writes a blocked output of its own, the copies are freed, and a plain output is allocated and
filled from the blocked one, which is freed last. All of it goes through the framework's CPU allocator, so an
op-level tracker that sees only the plain output misses it. Which layouts oneDNN picks depends on the kernel it
chooses for the CPU and the shape; this module follows the choices of its x64 kernels as read from oneDNN's
``jit_avx512_common_conv_kernel.cpp``, ``jit_avx2_conv_kernel_f32.cpp`` and ``jit_uni_1x1_conv_utils.hpp``:

=========================  ====================================================================================
kernel (when)              temporaries
=========================  ====================================================================================
direct (the usual case)    input and weight padded to whole blocks of W channels (W = 16 with AVX-512, 8 with
                           AVX2); the blocked output
first layer (Cin < W)      the input is read as it is; the weight padded on its outputs only
grouped                    per-group channels in blocks of 16, 8 or 4 (AVX-512; AVX2: 8), unpadded; none of
                           those: the GEMM kernel below
depthwise                  as direct, the weight one channel per group
1x1, 2-D, strided, the     as direct, plus a unit-stride copy of the input per thread (oneDNN's "rtus");
input exactly output x     backward, the weight gradient's copies of a few channel blocks per thread
stride (else: direct)      (``nb_bcast_blocking``)
GEMM (the padding is       no reorders; the output in plain layout, copied; its im2col buffer is NOT counted
wider than the kernel's    (oneDNN sizes it from the L2 cache, a few hundred kB per thread here)
row unroll, or grouped
channels do not block)
=========================  ====================================================================================

A channels-last input is computed in place: only the weight's reorder (outputs padded to 16) is a temporary.
Transposed convolutions run oneDNN's brgemm deconvolution in channels-last layouts (``transposed_forward_bytes``);
their backward is the convolution's pair of kernels with the channels' roles swapped.

Each figure is checked against the CPU allocator in tests/test_memory_onednn.py. Not modelled (docs/memory.md
has their sizes): oneDNN's scratchpads of a few hundred bytes to a few kB (the brgemm kernels' 12 kB among
them), the GEMM forward kernel's im2col buffer, the brgemm deconvolution's per-thread buffers, the direct
weight gradient's per-thread reduction copies (AVX2's strided 1x1 one among them), other dtypes than float32.
"""
from __future__ import annotations

import os
from functools import lru_cache
from math import prod
from typing import Optional

import torch


def vector_width() -> Optional[int]:
    """float32 lanes of the ISA oneDNN dispatches to in this process (16 with AVX-512, 8 with AVX2), or None
    where its kernels are not the x64 ones modelled here. oneDNN itself honours ``ONEDNN_MAX_CPU_ISA``."""
    cap = torch.backends.cpu.get_cpu_capability()
    limit = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "").upper()
    if limit.startswith("AVX2") or limit in ("SSE41", "AVX"):
        return 8 if limit.startswith("AVX2") else None
    return {"AVX512": 16, "AVX2": 8}.get(cap)


def _up(c: int, block: int) -> int:
    return -(-c // block) * block


def _dense_weight(c_out: int, c_in: int, k: int, simd: int) -> int:
    """Elements of an ungrouped weight in oneDNN's blocked layout: outputs padded to whole blocks, and inputs
    too unless there are fewer than a block of them (a first layer's)."""
    return _up(c_out, simd) * (_up(c_in, simd) if c_in >= simd else c_in) * k


def _group_block(cg_in: int, cg_out: int, simd: int) -> Optional[int]:
    """The channel block of a grouped (not depthwise) direct kernel, or None where it takes none: AVX-512's
    kernel drops to 8 or 4 lanes for groups of fewer channels, unpadded; AVX2's needs whole blocks of 8."""
    return next((b for b in ((16, 8, 4) if simd == 16 else (8,)) if cg_in % b == 0 and cg_out % b == 0), None)


def _end_padding(l_pad: int, ow: int, iw: int, stride: int, ext_k: int) -> int:
    return (ow - 1) * stride + ext_k - (iw + l_pad)


@lru_cache(maxsize=1)
def _l1_data_bytes() -> int:
    # oneDNN reads the per-core L1 data cache from cpuid; Linux reports the same figure here
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index0/size") as f:
            text = f.read().strip().upper()
        return int(text[:-1]) * 1024 if text.endswith("K") else int(text)
    except (OSError, ValueError):
        return 32 * 1024


def _avx512_unroll(x, w, out, stride, groups: int, first: bool, threads: int) -> int:
    """The output-row unroll ``ur_w`` of oneDNN's AVX-512 direct forward kernel (``jit_avx512_common_conv_fwd_
    kernel_t::init_conf``): the broadcast kind and output-channel blocking it picks decide it. The thread
    efficiency that picks the blocking is taken without the kernel's splitting of rows (``ow_block``)."""
    n, ow, iw, kw = x[0], out[-1], x[-1], w[-1]
    oc_block = 16 if groups == 1 else _group_block(x[1] // groups, w[0] // groups, 16)
    if oc_block is None or (groups > 1 and x[1] // groups == 1):  # depthwise, or no blocks: other kernels
        return min(ow, 28)
    oh = out[-2] if len(out) > 3 else 1
    kh, kd = (w[-2] if len(w) > 3 else 1), (w[2] if len(w) == 5 else 1)
    sh, sw = (stride[-2] if len(stride) > 1 else 1), stride[-1]
    oc = _up(w[0], 16) if groups == 1 else w[0] // groups
    ic_block = x[1] if first else oc_block
    nb_oc = oc // oc_block
    ker = 4 * (-(-iw // sw) * ic_block * kh * kd + ow * oc_block * 2 + kh * kw * ic_block * oc_block * 2 * kd)
    ic = x[1] // groups
    base = kw == 3 and ow <= 28 and ker < _l1_data_bytes() and not (ow == 13 and ic >= 192) \
        and not (ow == 28 and ic >= 512)
    embedded = kw > 3 or (sw == 1 and sh == 1 and base) \
        or ((sw != 1 or sh != 1) and n <= 16 and (oc <= 192 or oh <= 10) and base) \
        or (n == 1 and (min(ow, 28) >= ow or first or (ow <= 147 and oc <= 96)))
    if embedded:
        if ker < _l1_data_bytes() and ow <= 8 and kh <= 3 and kw <= 3 and nb_oc % 2 == 0 \
                and (not first or n == 1) and (n != 1 or min(ow, 28) < ow):
            return min(ow, 31 // 3)
        return min(ow, 28)
    if first and n == 1:
        return min(ow, 28)
    best, best_eff = 1, 0.0
    for i in range(min(nb_oc, 5), 0, -1):
        if nb_oc % i == 0:
            work = n * oh * (nb_oc // i)
            eff = work / (-(-work // threads) * threads)
            if eff > 1.05 * best_eff:
                best, best_eff = i, eff
    return min(ow, 31 // (best + 1))


def _direct_fits(x, w, out, stride, padding, dilation, groups: int, simd: int, first: bool, threads: int) -> bool:
    # The direct kernels unroll the output row by ur_w points and refuse a left padding (or a right one
    # outside the row's tail) wider than that unroll; oneDNN then falls back to its GEMM kernel.
    iw, ow, kw = x[-1], out[-1], w[-1]
    l_pad, s, ext = padding[-1], stride[-1], (kw - 1) * dilation[-1] + 1
    if simd == 16:
        ur_w = _avx512_unroll(x, w, out, stride, groups, first, threads)
        r_pad = max(0, _end_padding(l_pad, ow - ow % ur_w, iw, s, ext))
        return l_pad <= ur_w and r_pad <= ur_w
    ur_w = min(3, ow)
    if l_pad > ur_w or (kw > 7 and l_pad > 0 and s > 1):
        return False
    tail = ow % ur_w
    r_pad = max(0, _end_padding(l_pad, ow - tail, iw, s, ext))
    if r_pad > ur_w * s and ow // ur_w > 1:
        ur_w = min(r_pad // s + tail, min(ow, 7))
        r_pad = max(0, _end_padding(l_pad, ow - ow % ur_w, iw, s, ext))
        return ur_w >= max(l_pad, r_pad)
    return True


def forward_bytes(x_shape, w_shape, out_shape, stride, padding, dilation, groups: int, *,
                  channels_last: bool, simd: int, threads: int, itemsize: int = 4) -> int:
    """Bytes oneDNN's forward convolution holds beyond the op's own output, at its fullest: the larger of
    (copies of input and weight, buffers, the blocked output) and (the blocked output, the plain output)
    less the plain output."""
    n, c_in, c_out = x_shape[0], x_shape[1], w_shape[0]
    k, in_sp, out_sp = prod(w_shape[2:]), prod(x_shape[2:]), prod(out_shape[2:])
    out = n * c_out * out_sp
    if channels_last:
        return _up(c_out, 16) * prod(w_shape[1:]) * itemsize
    cg_in, cg_out = c_in // groups, c_out // groups
    depthwise = groups > 1 and cg_in == 1
    first = groups == 1 and c_in < simd
    gemm = not _direct_fits(x_shape, w_shape, out_shape, stride, padding, dilation, groups, simd, first,
                           threads)
    src = wei = extra = 0
    dst = out
    if depthwise and not gemm:
        src, wei, dst = n * _up(c_in, simd) * in_sp, _up(c_out, simd) * k, n * _up(c_out, simd) * out_sp
    elif groups > 1 and not gemm:
        if _group_block(cg_in, cg_out, simd) is None:
            gemm = True
        else:
            src, wei = n * c_in * in_sp, prod(w_shape)
    elif not gemm:
        src = 0 if first else n * _up(c_in, simd) * in_sp  # a first layer's input is read as it is
        wei, dst = _dense_weight(c_out, c_in, k, simd), n * _up(c_out, simd) * out_sp
        if not first and _unit_stride_copies(x_shape, w_shape, out_shape, stride, padding):
            extra = threads * _up(c_in, simd) * out_sp + _PAD // itemsize  # one reduced image per thread
    held = max(src + wei + dst + extra, dst + out)
    return (held - out) * itemsize


def _unit_stride_copies(x, w, out, stride, padding) -> bool:
    """Whether oneDNN runs this convolution as its 1x1 kernel on a unit-stride copy of the input ("reduce to
    unit stride", ``rtus_prepare``): a strided, unpadded 2-D 1x1 convolution whose input is exactly the
    output times the stride; one with rows left over takes the direct kernel, without the copies."""
    return (len(x) == 4 and prod(w[2:]) == 1 and any(s > 1 for s in stride) and not any(padding)
            and all(o * s == i for o, s, i in zip(out[2:], stride, x[2:])))


def _weight_gradient_channel_blocks(c_in: int, simd: int) -> int:
    """Input-channel blocks the strided 1x1 weight-gradient kernel copies per thread at once
    (``nb_bcast_blocking`` of ``init_conf``). AVX-512: the smallest divisor of the block count of at least 5
    that leaves no remainder (``best_divider``), the count itself below 5; AVX2: the count halved or thirded
    while above 9."""
    blocks = _up(c_in, simd) // simd
    if simd == 16:
        low = min(5, blocks)
        return min(d for d in range(low, blocks + 1) if blocks % d == 0) if blocks else 0
    while blocks > 9 and (blocks % 2 == 0 or blocks % 3 == 0):
        blocks //= 2 if blocks % 2 == 0 else 3
    return blocks


_PAD = 128  # oneDNN aligns each buffer it books in a scratchpad to 128 bytes


def _gemm_weights_gradient(x, w, stride, padding, dilation, groups: int, simd: int) -> bool:
    """Whether oneDNN computes this weight gradient with its GEMM kernel rather than a direct one."""
    cg_in, cg_out = x[1] // groups, w[0] // groups
    if groups > 1 and cg_in == 1:  # the depthwise kernel: 2-D, at most 3 wide, undilated, no gaps
        return len(x) != 4 or w[-1] > 3 or any(d > 1 for d in dilation) or stride[-1] > w[-1]
    if groups > 1 and (cg_in % 8 or cg_out % 8):  # grouped channels in blocks of fewer than 8
        return True
    # the direct kernel's boundary check refuses a 3-D kernel deeper than the input plus its front padding
    return len(x) == 5 and padding[0] > 0 and w[2] >= x[2] + padding[0]


def backward_bytes(x_shape, w_shape, out_shape, stride, padding, dilation, groups: int, mask, *,
                   channels_last: bool, simd: int, threads: int, itemsize: int = 4, transposed: bool = False) -> int:
    """Bytes oneDNN's convolution backward holds beyond the gradients it returns, at its fullest. ``mask``:
    which of (input, weight, bias) gradients are asked for. The data gradient runs first: the output's
    gradient and the weight reordered, a blocked input gradient, then the plain one (strided convolutions hold
    a second, zero-filled one a moment); the weight gradient after it: the output's gradient and the input
    reordered again, a blocked weight (and bias) gradient, then the plain ones. A transposed convolution's
    backward is the same pair of kernels with the roles of its channels swapped (its weight is Cin x Cout),
    without the strided one's second buffer."""
    if transposed and groups > 1:
        return 0
    if transposed:
        w_shape = (w_shape[1], w_shape[0], *w_shape[2:])
    n, c_in, c_out = x_shape[0], x_shape[1], w_shape[0]
    k, in_sp, out_sp = prod(w_shape[2:]), prod(x_shape[2:]), prod(out_shape[2:])
    cg_in = c_in // groups
    grouped = groups > 1 and cg_in > 1
    if channels_last:
        return _channels_last_backward(n, c_in, c_out, k, in_sp, groups, mask, simd) * itemsize
    if grouped:  # per-group blocks, nothing padded (the forward's rule)
        pin, pout, wei = c_in, c_out, prod(w_shape)
    elif groups > 1:
        pin, pout, wei = _up(c_in, simd), _up(c_out, simd), _up(c_out, simd) * k
    else:
        pin, pout, wei = _up(c_in, simd), _up(c_out, simd), _dense_weight(c_out, c_in, k, simd)
    gx = n * c_in * in_sp if mask[0] else 0
    gw, gb = prod(w_shape), (c_out if mask[2] else 0)
    dy = n * pout * out_sp
    phases = [0]
    if mask[0]:
        gx_blk = n * pin * in_sp
        strided = groups == 1 and any(s > 1 for s in stride) and not transposed
        phases += [dy + wei + gx_blk, gx_blk + gx + (gx if strided else 0)]
    if mask[1] or mask[2]:
        gb_blk = _up(c_out, simd) if mask[2] and not grouped else gb
        if not transposed and _gemm_weights_gradient(x_shape, w_shape, stride, padding, dilation, groups, simd):
            # its scratchpad: a weight-sized reduction buffer per thread (booked as that many floats as the
            # weight has bytes, so four times its size), and an im2col buffer per thread of one depth slice
            os_ = prod(out_shape[-2:])
            outer = os_ // threads < 256 and (n != 1 or groups > 2)
            nthr = threads if outer else 1
            unit = k == 1 and all(s == 1 for s in stride) and not any(padding)
            scratch = nthr * itemsize * gw + (0 if unit else nthr * cg_in * k * os_) + 2 * _PAD // itemsize
            phases += [gx + gw + scratch + gb_blk, gx + gw + gb_blk + gw + gb]
        else:
            src = n * pin * in_sp if c_in >= simd or groups > 1 else 0
            rtus = 0  # the strided 1x1 kernel's unit-stride copies: a few channel blocks per thread
            if groups == 1 and c_in >= simd and _unit_stride_copies(x_shape, w_shape, out_shape, stride, padding):
                rtus = threads * _weight_gradient_channel_blocks(c_in, simd) * simd * out_sp + _PAD // itemsize
            phases += [gx + dy + src + wei + gb_blk + rtus, gx + wei + gb_blk + gw + gb]
    return max(0, max(phases) - (gx + gw + gb)) * itemsize


def _channels_last_backward(n, c_in, c_out, k, in_sp, groups: int, mask, simd: int) -> int:
    """Elements held beyond the gradients by a channels-last backward: the data gradient is written in place,
    with the weight reordered; the weight gradient is computed into oneDNN's blocked layout, then copied to the
    plain one, with a second weight-sized buffer a moment. Its direct kernel takes a depthwise convolution as a
    grouped one whose single channels are padded to a W x W block per group (the depthwise kernel refuses
    channels-last weight gradients wider than 3): ConvNeXt's 7x7 depthwise layers hold W x W = 256 times their
    weight with AVX-512."""
    cg_in, cg_out = c_in // groups, c_out // groups
    gx = n * c_in * in_sp if mask[0] else 0
    gw, gb = c_out * cg_in * k, (c_out if mask[2] else 0)
    if groups > 1 and cg_in == 1:
        wei, gw_blk = _up(c_out, simd) * k, groups * simd * simd * k
    elif groups > 1:
        wei = gw_blk = groups * _up(cg_out, simd) * _up(cg_in, simd) * k
    else:
        wei = gw_blk = _dense_weight(c_out, c_in, k, simd)
    phases = [0]
    if mask[0]:
        phases.append(gx + wei)
    if mask[1] or mask[2]:
        gb_blk = _up(c_out, simd) if mask[2] else 0
        phases += [gx + gw_blk + gb_blk, gx + gw_blk + gb_blk + gb + 2 * gw]
    return max(0, max(phases) - (gx + gw + gb))


def transposed_forward_bytes(x_shape, w_shape, out_shape, stride, groups: int, *, channels_last: bool,
                             threads: int, itemsize: int = 4) -> int:
    """Bytes oneDNN's transposed convolution (its brgemm "deconvolution" kernel, in channels-last layouts) holds
    beyond the op's output: its scratchpad (a row of the input per thread and channel when strided, an
    output-sized accumulator when not; its few-kB buffers are not counted), the input and the weight (outputs
    padded to 16) reordered, its output; then, strided, its output with the plain one and a second, zero-filled
    output-sized buffer a moment."""
    if groups > 1:
        return 0
    n, c_in, c_out = x_shape[0], x_shape[1], w_shape[1]
    in_sp, out_sp = prod(x_shape[2:]), prod(out_shape[2:])
    out = n * c_out * out_sp
    strided = any(s > 1 for s in stride)
    scratch = threads * c_in * in_sp if strided else out + _PAD // itemsize
    src = 0 if channels_last else n * c_in * in_sp
    wei = _up(c_out, 16) * c_in * prod(w_shape[2:])
    held = max(scratch + src + wei + out, out + out + (out if strided else 0))
    return (held - out) * itemsize

