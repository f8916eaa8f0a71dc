"""Sliding windows against one fully convolutional pass: what a detector built from a classifier costs.

The lecture's detector before YOLO: take a CNN trained to classify (and localise) one object, lay a grid over
the image, run the CNN on every window of (e.g.) 3x3 blocks, and again with windows of other sizes. Each window
is resized to the network's native input, so every window costs one forward pass at the native size. The
fully convolutional network (``cnnprofile.fully_convolutional``) gives the same kind of prediction for every
position of its output grid in one pass: to look at windows of size w, the image is resized by ``native / w``
(the window becomes the native size) and the converted network runs once over it; its cells are ``effective
stride x w / native`` image pixels apart, and each sees ``receptive field x w / native`` pixels. One pass per
window size against one pass per window: the ratio of their MACs is what sharing the convolutions saves.

Figures are counted, never estimated: the MACs of the network at its native input and of the fully
convolutional network at each resized image are profiles (meta device), the grid is that profile's output shape,
and the field is ``cnnprofile.analyses.receptive``'s. Windows are counted the usual way, ``floor((image - window) /
stride) + 1`` per axis; the default stride is the FCN's cell spacing, so both give the same grid (where the
resized image rounds to a different pixel count the two can differ by a row, and ``same_grid`` says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor
from typing import Optional, Sequence

from ..errors import InputError

CONVENTIONS = (
    "sliding windows: every window is resized to the network's native input and the network runs once per "
    "window, so each costs the MACs of one pass at the native size",
    "FCN pass: for each window size the image is resized so that the window becomes the native size and the fully "
    "convolutional network (its dense layers as convolutions, cnnprofile.fully_convolutional) runs once; each "
    "output cell is one window's prediction",
    "Cell sees: the receptive field of one FCN output cell in image pixels (padding counted as input); stride: "
    "image pixels between neighbouring windows or cells",
    "MACs = multiply-accumulates of convolutions and matrix products; FLOPs = 2 x MACs + biases + other arithmetic "
    "(as in cnnprofile table)",
)


@dataclass(frozen=True)
class WindowSize:
    """One window size: the sliding detector's windows and the FCN pass that predicts for the same positions."""

    window: tuple  # (h, w) in image pixels (Fractions in block mode)
    stride: tuple  # (h, w) image pixels between neighbouring windows
    windows: tuple  # (rows, cols) of windows evaluated
    sliding_macs: int
    sliding_flops: int
    fcn_input: tuple  # (H, W) of the resized image the FCN runs on
    fcn_grid: tuple  # (rows, cols) of its output cells
    fcn_stride: tuple  # image pixels between neighbouring cells
    cell_field: tuple  # image pixels one cell sees, per axis
    fcn_macs: int
    fcn_flops: int

    @property
    def window_count(self) -> int:
        return self.windows[0] * self.windows[1]

    @property
    def cell_count(self) -> int:
        return self.fcn_grid[0] * self.fcn_grid[1]

    @property
    def same_grid(self) -> bool:
        return self.windows == self.fcn_grid

    @property
    def ratio(self) -> float:
        return self.sliding_macs / self.fcn_macs


@dataclass(frozen=True)
class SlidingWindows:
    model: str
    native: tuple  # (C, H, W) the network's input: one window
    image: tuple  # (H, W) pixels
    blocks: Optional[tuple]  # (rows, cols) of the lecture's grid of blocks, if the sizes were given in blocks
    window_macs: int  # the network once, at its native input
    window_flops: int
    fcn_field: tuple  # receptive field of an FCN output cell at the native scale, per axis (pixels)
    fcn_stride: tuple  # its effective stride
    fcn_padding: tuple  # its effective padding
    sizes: tuple  # of WindowSize
    conventions: tuple = CONVENTIONS

    @property
    def sliding_macs(self) -> int:
        return sum(s.sliding_macs for s in self.sizes)

    @property
    def fcn_macs(self) -> int:
        return sum(s.fcn_macs for s in self.sizes)


def _pair(value) -> tuple:
    """An (h, w) pair from a pair or one number (also a receptive-field figure, one number when axes agree)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def sliding_windows(model, image: Sequence[int], window_sizes: Optional[Sequence] = None, stride=None, *,
                    blocks: Optional[Sequence[int]] = None, kwargs: Optional[dict] = None) -> SlidingWindows:
    """Windows a sliding-window detector built on ``model`` evaluates on an ``image`` of (H, W) pixels, against one
    fully convolutional pass per window size.

    ``model`` is a spec (its native input is one window). ``window_sizes`` are (h, w) pairs or ints, in pixels
    (default: the native size), or in blocks when ``blocks`` = (rows, cols) lays the lecture's grid over the image
    (default window 3x3 blocks); ``stride`` likewise (default: the FCN's cell spacing; 1 block in block mode).
    Raises ``InputError`` for a window larger than the image, a stride of 0 or a network it cannot convert.
    """
    from ..analyzer import profile
    from ..sources.fcn import fully_convolutional_source
    from ..sources import resolve_model
    from ..analyses.receptive.fields import receptive_fields

    image = _pair(image)
    if len(image) != 2 or min(image) < 1:
        raise InputError(f"the image is two positive sizes, HxW; got {'x'.join(map(str, image))}")
    if stride is not None and min(_pair(stride)) <= 0:
        raise InputError("the stride must be at least 1 (a stride of 0 never moves the window)")
    if not isinstance(model, str):
        raise InputError("sliding_windows takes a model spec (a zoo name, torchvision:NAME, FILE.py:FN)")
    source = resolve_model(model, kwargs)
    if source.inputs is None:
        raise InputError(f"{model} does not declare its native input size, the window the network reads")
    native = tuple(source.inputs.main.shape[1:])
    if len(native) != 3:
        raise InputError(f"{source.name} does not take images (its input is {'x'.join(map(str, native))})")
    fcn = fully_convolutional_source(source)
    window = profile(source)
    field = receptive_fields(fcn).last_feature_map()
    if field is None or field.receptive_field is None:
        raise InputError(f"{source.name}: the fully convolutional network's output has no receptive field")
    r, j, p = (_pair(v) for v in (field.receptive_field, field.effective_stride, field.effective_padding))

    if blocks is not None:
        blocks = _pair(blocks)
        if min(blocks) < 1:
            raise InputError("the grid needs at least one block per axis")
        block = tuple(Fraction(image[k], blocks[k]) for k in range(2))
        sizes_in_blocks = [_pair(s) for s in (window_sizes or [(3, 3)])]
        step_in_blocks = _pair(stride) if stride is not None else (1, 1)
        for s in sizes_in_blocks:
            if s[0] > blocks[0] or s[1] > blocks[1] or min(s) < 1:
                raise InputError(f"a window of {s[0]}x{s[1]} blocks does not fit in the grid of "
                                 f"{blocks[0]}x{blocks[1]} blocks")
        pixel_sizes = [tuple(s[k] * block[k] for k in range(2)) for s in sizes_in_blocks]
        pixel_stride = tuple(step_in_blocks[k] * block[k] for k in range(2))
    else:
        pixel_sizes = [_pair(s) for s in (window_sizes or [native[1:]])]
        pixel_stride = _pair(stride) if stride is not None else None
    rows = []
    for size in pixel_sizes:
        if size[0] > image[0] or size[1] > image[1] or min(size) < 1:
            raise InputError(f"the window {_text(size)} is larger than the {image[0]}x{image[1]} image")
        scale = tuple(Fraction(native[1 + k]) / Fraction(size[k]) for k in range(2))
        resized = tuple(max(native[1 + k], round(image[k] * scale[k])) for k in range(2))
        fcn_profile = profile(fcn, (native[0], *resized))
        grid = tuple(fcn_profile.output_shapes[0][1][-2:])
        cell_stride = tuple(Fraction(j[k]) / scale[k] for k in range(2))
        step = pixel_stride or cell_stride
        windows = tuple(floor((image[k] - Fraction(size[k])) / Fraction(step[k])) + 1 for k in range(2))
        count = windows[0] * windows[1]
        rows.append(WindowSize(window=size, stride=tuple(step), windows=windows,
                               sliding_macs=count * window.totals.macs, sliding_flops=count * window.totals.flops,
                               fcn_input=resized, fcn_grid=grid,
                               fcn_stride=cell_stride, cell_field=tuple(Fraction(r[k]) / scale[k] for k in range(2)),
                               fcn_macs=fcn_profile.totals.macs, fcn_flops=fcn_profile.totals.flops))
    return SlidingWindows(model=source.name, native=native, image=image, blocks=blocks,
                          window_macs=window.totals.macs, window_flops=window.totals.flops, fcn_field=r,
                          fcn_stride=j, fcn_padding=p, sizes=tuple(rows))


def _text(size) -> str:
    return "x".join(f"{float(v):g}" for v in size)
