"""Fitting a calibration: the fractions of each roof, the launch cost and the fill terms that make the time model
(``model.kernel_times``) agree with measured forward passes.

The fit minimises a robust loss (soft L1) of log(predicted / measured) over models, so a model counts the same
whether it takes 1 ms or 1 s and a few odd measurements do not drag it. Every model's kernels are stacked into
one set of arrays so that one evaluation prices the whole file at once. ``refit_scales`` is the few-shot form:
from a base calibration, only a compute scale, a memory scale and the launch cost, each with a prior centred
on the base, so that five measured models move what they determine and leave the rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analyses.kernels import CLASSES, MATRIX
from ..devices import DevicePeak
from .features import KernelArrays
from .measurements import Step
from .model import cast_seconds, default_params, peaks, price

COMPUTE = tuple(c for c in CLASSES if c in MATRIX or c == "dwconv")
MEMORY = CLASSES
_BOUNDS = {"launch_s": (1e-7, 2e-4), "reduction_half": (0.5, 4096.0), "flops_half": (1e3, 1e12),
           "bytes_half": (1e2, 1e9)}


@dataclass(frozen=True)
class Sample:
    arrays: KernelArrays  # at the measured batch
    seconds: float
    device: DevicePeak
    step: Step


class _Stack:
    """All samples' kernels, concatenated."""

    def __init__(self, samples: list):
        a = [s.arrays for s in samples]
        self.n = len(samples)
        self.model = np.concatenate([np.full(len(x.cls), i) for i, x in enumerate(a)])
        self.cls = np.concatenate([x.cls for x in a]).astype(np.int64)
        self.flops = np.concatenate([x.flops for x in a])
        scale = [s.step.element_size / 4 for s in samples]
        self.moved = np.concatenate([(x.act_bytes + x.param_bytes) * f for x, f in zip(a, scale)])
        self.reduction = np.concatenate([x.reduction for x in a])
        self.peak = np.concatenate([peaks(s.device, s.step)[x.cls.astype(np.int64)] for s, x in zip(samples, a)])
        self.bandwidth = np.concatenate([np.full(len(x.cls), s.device.bandwidth_gbs * 1e9)
                                         for s, x in zip(samples, a)])
        self.cast_bytes = np.array([x.param_total_bytes if s.step.amp else 0.0 for s, x in zip(samples, a)])
        self.cast_kernels = np.array([x.param_tensors if s.step.amp else 0 for s, x in zip(samples, a)])
        self.model_bandwidth = np.array([s.device.bandwidth_gbs * 1e9 for s in samples])
        self.measured = np.array([s.seconds for s in samples])

    def seconds(self, p: dict) -> np.ndarray:
        compute, memory = price(self.cls, self.flops, self.moved, self.reduction, self.peak, self.bandwidth, p)
        total = np.bincount(self.model, weights=np.maximum(compute, memory) + p["launch_s"], minlength=self.n)
        return total + cast_seconds(self.cast_kernels, self.cast_bytes, self.model_bandwidth, p)


def _pack(p: dict) -> tuple:
    names = [("compute", c) for c in COMPUTE] + [("memory", c) for c in MEMORY] + [(k, None) for k in _BOUNDS]
    x = [np.log(p[a][b]) if b else np.log(p[a]) for a, b in names]
    lo = [np.log(1e-4)] * (len(COMPUTE) + len(MEMORY)) + [np.log(_BOUNDS[k][0]) for k in _BOUNDS]
    hi = [0.0] * (len(COMPUTE) + len(MEMORY)) + [np.log(_BOUNDS[k][1]) for k in _BOUNDS]
    x = np.clip(x, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    return names, x, (lo, hi)


def _unpack(names, x) -> dict:
    p = {"compute": {}, "memory": {}}
    for (a, b), v in zip(names, np.exp(x)):
        if b:
            p[a][b] = float(v)
        else:
            p[a] = float(v)
    return p


def fit(samples: list, start: dict | None = None, fixed: tuple = ("launch_s",)) -> dict:
    """Parameters fitted to ``samples``; classes no sample runs keep their starting value. ``fixed`` names shared
    terms kept at their starting value, for data that cannot determine them: by default the launch cost, which
    large-batch files (timm's are at batch 256 to 1024) leave undetermined; a few measurements at small batches
    on the target fit it (``refit_scales``)."""
    from scipy.optimize import least_squares

    stack = _Stack(samples)
    start = start or default_params()
    names, x0, (lo, hi) = _pack(start)
    present = set(np.unique(stack.cls).tolist())
    free = [i for i, (a, b) in enumerate(names)
            if (b is None and a not in fixed) or (b is not None and (CLASSES.index(b) in present or b == "cast"))]
    log_measured = np.log(stack.measured)

    def residuals(xf):
        x = x0.copy()
        x[free] = xf
        return np.log(stack.seconds(_unpack(names, x))) - log_measured

    sol = least_squares(residuals, x0[free], bounds=(np.array(lo)[free], np.array(hi)[free]), loss="soft_l1",
                        f_scale=0.1, x_scale="jac", max_nfev=400)
    x = x0.copy()
    x[free] = sol.x
    return _unpack(names, x)


# The few-shot prior (``refit_scales``): how far a device's sustained fraction of its datasheet roofs may sit from
# the base device's, one standard deviation in log: a factor of 2 at two sigma, the span between the fractions
# tuned libraries reach on current NVIDIA parts (about 50 % of a roof at worst, about all of it at best). Set
# before any target measurement was fitted; the rows move a scale they determine well past it.
PRIOR_SIGMA = float(np.log(2) / 2)
# The launch cost is a host's (CUDA's launch latency plus PyTorch's eager dispatch): within a decade of the
# base's at two sigma.
LAUNCH_PRIOR_SIGMA = float(np.log(10) / 2)
# A normal's standard deviation per median absolute deviation: turns the base's median |error| into the spread
# of one row's misfit.
_MAD_TO_SIGMA = 1.4826


def refit_scales(samples: list, base: dict, launch: bool | None = None, row_error: float | None = None,
                 offsets=None) -> dict:
    """``base`` with every compute fraction times one factor and every memory fraction times another (a fraction
    stays at most 1), the launch cost too when ``launch`` (by default: when some measurement is at a batch below
    64, where launches weigh), fitted to a few measurements on the target device.

    A maximum a posteriori fit, not a plain one: five rows carry each model's own misfit (what the time model
    gets wrong about that network on any device, which the base device shows too) besides what the device
    changes, and the two scales are nearly collinear over a handful of models. So a model's misfit that the
    base measured (``offsets``: per sample, log(base predicted / base measured) of that model on the base
    device, 0 where the base never ran it) is taken off its row, which leaves what the device changes; each
    factor has a log-normal prior centred on the base (``PRIOR_SIGMA``; ``LAUNCH_PRIOR_SIGMA`` for the launch
    cost); and each row's log error has a robust (soft L1) likelihood as wide as the base's misfit per model
    (``row_error``, its fit's median |error|, read as a normal's spread; 0.1 when not known). A direction the
    rows determine moves almost as far as a plain fit would take it; one they do not stays at the base."""
    from scipy.optimize import least_squares

    stack = _Stack(samples)
    log_measured = np.log(stack.measured)
    sigma_row = _MAD_TO_SIGMA * row_error if row_error else 0.1
    offsets = np.zeros(stack.n) if offsets is None else np.asarray(offsets, dtype=float)

    def scaled(x) -> dict:
        a, b, launch = np.exp(x)
        return {"compute": {c: min(1.0, v * a) for c, v in base["compute"].items()},
                "memory": {c: min(1.0, v * b) for c, v in base["memory"].items()},
                "launch_s": float(launch), "reduction_half": base["reduction_half"],
                "flops_half": base["flops_half"], "bytes_half": base["bytes_half"]}

    if launch is None:
        launch = any(s.arrays.batch < 64 for s in samples)
    lo, hi = [np.log(0.1), np.log(0.1), np.log(1e-7)], [np.log(10), np.log(10), np.log(2e-4)]
    x0 = np.array([0.0, 0.0, np.log(base["launch_s"])])
    free = [0, 1, 2] if launch else [0, 1]
    prior = np.array([PRIOR_SIGMA, PRIOR_SIGMA, LAUNCH_PRIOR_SIGMA])[free]

    def residuals(xf):
        x = x0.copy()
        x[free] = xf
        z = (np.log(stack.seconds(scaled(x))) - log_measured - offsets) / sigma_row
        # least_squares halves the sum of squares: sign(z) sqrt(rho(z)) per row gives soft L1's rho exactly,
        # and (x - x0) / sigma the log-normal prior, so the minimum is the posterior's mode.
        rows = np.sign(z) * np.sqrt(2 * (np.sqrt(1 + z * z) - 1))
        return np.concatenate([rows, (xf - x0[free]) / prior])

    sol = least_squares(residuals, x0[free], bounds=(np.array(lo)[free], np.array(hi)[free]), x_scale=1.0)
    x = x0.copy()
    x[free] = sol.x
    return scaled(x)


def errors(samples: list, params: dict) -> np.ndarray:
    """Relative errors (predicted / measured - 1) of ``params`` on ``samples``."""
    stack = _Stack(samples)
    return stack.seconds(params) / stack.measured - 1


__all__ = ["LAUNCH_PRIOR_SIGMA", "PRIOR_SIGMA", "Sample", "errors", "fit", "refit_scales"]
