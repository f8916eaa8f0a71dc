"""Statistics of timing samples. Pure functions of lists of floats, so they are tested exactly."""
from __future__ import annotations

import math
from typing import Sequence

from .results import Latency

NOISY_IQR_FRACTION = 0.10  # a result whose IQR exceeds 10% of its median is flagged as noisy


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    if not samples:
        raise ValueError("percentile of no samples")
    xs = sorted(samples)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(samples: Sequence[float]) -> float:
    return percentile(samples, 50)


def iqr(samples: Sequence[float]) -> float:
    return percentile(samples, 75) - percentile(samples, 25)


def summarize(samples_ms: Sequence[float]) -> Latency:
    return Latency(median=median(samples_ms), p90=percentile(samples_ms, 90), p99=percentile(samples_ms, 99),
                   iqr=iqr(samples_ms), mean=sum(samples_ms) / len(samples_ms), min=min(samples_ms),
                   n=len(samples_ms))


def is_noisy(latency: Latency, threshold: float = NOISY_IQR_FRACTION) -> bool:
    return latency.median <= 0 or latency.iqr / latency.median > threshold


def relative_change(previous: float, current: float) -> float:
    """|current - previous| / previous; infinite when there is no previous value to compare with."""
    if previous is None or previous <= 0:
        return math.inf
    return abs(current - previous) / previous
