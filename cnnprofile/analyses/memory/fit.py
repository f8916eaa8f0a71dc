"""``--fit 24GB``: the largest batch whose predicted peak fits in a memory size."""
from __future__ import annotations

import dataclasses
import re
from typing import Union

from ...errors import InputError

_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# One rule for every size: a positive number and a unit. A bare "24" is refused rather than guessed (bytes? GB?).
SIZE_RULE = "expected a positive number with a unit: B, kB, MB, GB, TB (decimal) or KiB, MiB, GiB, TiB, e.g. 24GB"


def parse_size(text: Union[str, int]) -> int:
    """``"24GB"`` -> 24 * 10^9 bytes (decimal units; ``KiB``/``MiB``/``GiB`` are binary); a Python int is bytes.

    Malformed, unitless, zero and negative sizes all get the same one-line error.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*", str(text))
        unit = m.group(2).lower() if m else None
        value = int(float(m.group(1)) * _UNITS[unit]) if m and unit in _UNITS else 0
    if value <= 0:
        raise InputError(f"memory size {text!r}: {SIZE_RULE}")
    return value


def fit_batch(predictor, size: Union[str, int]):
    """The report for the largest batch whose peak fits in ``size``, with ``max_batch`` and the next batch's peak.

    The peak grows almost linearly with the batch, so two predictions give a first guess; then a bracketing
    search (interpolation, with bisection as a fallback) ends with a batch that fits and its successor that
    does not, both profiled.
    """
    limit = parse_size(size)
    reports = {}

    def peak(b: int) -> int:
        if b not in reports:
            reports[b] = predictor.at(b)
        return reports[b].peak_bytes

    if peak(1) > limit:
        raise InputError(f"{predictor.name} does not fit in {size}: batch 1 already needs {peak(1):,} bytes "
                         f"(limit {limit:,})")
    lo, hi = 1, None
    probe = 8
    slope = max((peak(probe) - peak(1)) / (probe - 1), 1.0)
    if peak(probe) <= limit:
        lo = probe
    else:
        hi = probe
    while hi is None:  # find a batch that does not fit, starting from the linear guess
        guess = max(lo + 1, int(lo + (limit - peak(lo)) / slope) + 1)
        if peak(guess) <= limit:
            slope = max((peak(guess) - peak(lo)) / (guess - lo), 1.0)
            lo = guess
        else:
            hi = guess
    while hi - lo > 1:
        span = peak(hi) - peak(lo)
        guess = lo + int((limit - peak(lo)) * (hi - lo) / span) if span > 0 else (lo + hi) // 2
        guess = min(max(guess, lo + 1), hi - 1)
        if peak(guess) > limit:
            hi = guess
            continue
        lo = guess
        if guess + 1 < hi and peak(guess + 1) > limit:  # an interpolated guess usually lands on the edge
            hi = guess + 1
    return dataclasses.replace(reports[lo], max_batch=lo, fit_bytes=limit, next_peak_bytes=peak(lo + 1))
