"""A row's kernels, stored: the arrays the time model reads (``predict.features.KernelArrays``) at batch 1, as
one short text column, so a prediction on any device, at any batch and precision, needs no new recording.

The text is base64 of zlib-compressed JSON: one list per array, integers where the value is one (the FLOPs and
bytes of a recording are), so it reads back exactly. A ResNet-50 row is about 1.4 kB, an EfficientNet-B0 row
about 2.3 kB. The layer names are the row's ``layers`` column minus its input row, where they are the same;
only where they are not are the names stored too.
"""
from __future__ import annotations

import base64
import json
import zlib
import numpy as np

from .records import SweepRow, layer_columns

VERSION = 1
ARRAYS = ("cls", "flops", "act_bytes", "param_bytes", "reduction", "width", "row")
_DTYPES = {"cls": np.int8, "row": np.int32}  # the rest are float64, as ``predict.features.arrays_of`` makes them
COUNTS = ("param_tensors", "param_total_bytes", "uncounted")


def _number(x):
    x = x.item()
    return int(x) if float(x).is_integer() else x


def encode_kernels(arrays, layer_names: tuple) -> str:
    """The text of ``arrays`` (a ``KernelArrays`` at batch 1); ``layer_names`` are the row's ``layers`` names."""
    if arrays.batch != 1:
        raise ValueError(f"kernels are stored at batch 1, not {arrays.batch}")
    blob = {"v": VERSION, **{k: [_number(x) for x in getattr(arrays, k)] for k in ARRAYS},
            **{k: int(getattr(arrays, k)) for k in COUNTS}}
    if tuple(layer_names[1:]) != tuple(arrays.rows):
        blob["rows"] = list(arrays.rows)
    text = json.dumps(blob, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")


def kernel_arrays(row: SweepRow):
    """The kernels of ``row`` at batch 1 as ``KernelArrays``; None for a row without them (a failed one)."""
    from ..predict.features import KernelArrays

    if not row.kernels:
        return None
    blob = json.loads(zlib.decompress(base64.b64decode(row.kernels)))
    if blob.get("v") != VERSION:
        raise ValueError(f"{row.model}: kernels stored in version {blob.get('v')!r}, this version reads {VERSION}")
    names = tuple(blob["rows"]) if "rows" in blob else tuple(r["name"] for r in layer_columns(row.layers)[1:])
    arrays = {k: np.array(blob[k], dtype=_DTYPES.get(k, np.float64)) for k in ARRAYS}
    shape = tuple(int(x) for x in row.input_size.split("x"))
    return KernelArrays(row.architecture or row.model, shape, 1, rows=names,
                        **arrays, **{k: blob[k] for k in COUNTS})


__all__ = ["encode_kernels", "kernel_arrays"]
