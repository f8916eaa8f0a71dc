"""What a model returns: every tensor of a structured output, with where it sits.

Models return a tensor, tuples and lists (GoogLeNet's named tuple, RAFT's list of flow estimates, timm's
``features_only`` feature maps), dicts (torchvision segmentation's ``out``/``aux``, detection's list of
``boxes``/``labels``/``scores`` dicts, Hugging Face's ``ModelOutput``, a dict subclass) or dataclasses. The
first tensor, depth first, is the main output: it is what the model's row shows.
"""
from __future__ import annotations

import dataclasses

import torch


def output_leaves(value, prefix: str = "") -> list:
    """[(path, tensor)] of every tensor in ``value``: 'out', 'aux', '0.boxes', '2'; '' for a lone tensor."""
    if isinstance(value, torch.Tensor):
        return [(prefix, value)]
    if isinstance(value, dict):
        items = list(value.items())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif isinstance(value, (tuple, list)):
        items = list(enumerate(value))
    else:
        return []
    out = []
    for key, item in items:
        out += output_leaves(item, f"{prefix}.{key}" if prefix else str(key))
    return out


def output_shapes(value) -> tuple:
    """((path, shape), ...) of every tensor ``value`` holds."""
    return tuple((path, tuple(int(d) for d in t.shape)) for path, t in output_leaves(value))


def main_tensor(value):
    """The main output (the first tensor, depth first), or None when ``value`` holds no tensor."""
    if isinstance(value, torch.Tensor):  # the common case, asked at every module call of a recording
        return value
    if type(value) in (tuple, list) and value and isinstance(value[0], torch.Tensor):
        return value[0]
    leaves = output_leaves(value)
    return leaves[0][1] if leaves else None


def main_shape(value) -> tuple:
    t = main_tensor(value)
    return tuple(int(d) for d in t.shape) if t is not None else ()
