"""Parsing and checking what the user asks for: input shapes and dtypes."""
from __future__ import annotations

import re
from typing import Optional

import torch

from .errors import InputError

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16", "float": "float32"}


def parse_dtype(name: str) -> torch.dtype:
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in DTYPES:
        raise InputError(f"unsupported dtype {name!r}; choose one of {', '.join(DTYPES)}")
    return DTYPES[key]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def parse_shape(text: str) -> tuple:
    """'1x3x224x224' -> (1, 3, 224, 224); 'CxHxW' is accepted and gets batch 1."""
    if not re.fullmatch(r"\s*\d+(\s*[x×,]\s*\d+)*\s*", text or ""):
        raise InputError(f"malformed input shape {text!r}; expected NxCxHxW (e.g. 1x3x224x224) or CxHxW, "
                         "positive integers separated by 'x'")
    dims = tuple(int(d) for d in re.split(r"\s*[x×,]\s*", text.strip()))
    return check_shape(dims, text)


def check_shape(dims: tuple, text: Optional[str] = None) -> tuple:
    shown = text if text is not None else "x".join(map(str, dims))
    if len(dims) not in (3, 4):
        raise InputError(f"malformed input shape {shown!r}: {len(dims)} dimension(s); expected NxCxHxW or CxHxW")
    if any(d <= 0 for d in dims):
        raise InputError(f"malformed input shape {shown!r}: every dimension must be a positive integer")
    return dims if len(dims) == 4 else (1, *dims)


def resolve_input_shape(native: tuple, input_size: Optional[tuple], batch: Optional[int]) -> tuple:
    """The (N, C, H, W) to profile: the given shape or the model's native size; ``batch`` overrides N."""
    if batch is not None and batch <= 0:
        raise InputError(f"batch size must be a positive integer, got {batch}")
    if input_size is None:
        shape = (1, *native)
    elif isinstance(input_size, str):
        shape = parse_shape(input_size)
    else:
        shape = check_shape(tuple(int(d) for d in input_size))
    return (batch, *shape[1:]) if batch is not None else shape
