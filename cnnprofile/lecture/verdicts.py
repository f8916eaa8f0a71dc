"""The lecture's five verdicts on Canziani, Paszke and Culurciello (2016), each checked against our numbers.

The lecture closes its comparison of architectures with one verdict per family (quoted below in its Spanish and
in English). Each is turned into one or more precise claims over the per-image totals of the models' profiles
(parameters, MACs, activation bytes) and their published top-1 accuracy, the same records the charts draw. A
``Verdict`` holds the claim, the numbers it was decided on (taken from those records, never typed in) and
whether it holds. A claim whose models are not all in the given set (or lack a published accuracy it needs) is
left out rather than guessed.

Definitions used by the claims:
- "the set": every model passed in;
- memory of the weights: the profile's parameter bytes; activation memory: its activation bytes (every op's
  output written, one image); memory at batch 1: the two added;
- efficiency: top-1 accuracy per GMAC and top-1 per million parameters (Canziani's "accuracy density").

Pure computation: nothing here formats; ``as_records`` gives plain dicts for tables and JSON.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional, Sequence

# Canziani et al.'s model set that the zoo can build, plus NIN, which the lecture cites for 1x1 convolutions.
LECTURE_MODELS = ("alexnet", "nin", "googlenet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101",
                  "resnet152", "inception_v3", "inception_v4")

# family -> (the lecture's words, in English)
QUOTES = {
    "AlexNet": ("“Pequeña” pero mucha memoria, baja precisión", "\"Small\" but a lot of memory, low accuracy"),
    "VGG": ("Mucha memoria, baja eficiencia, media precisión", "A lot of memory, low efficiency, medium accuracy"),
    "GoogLeNet": ("Media precisión, excelente eficiencia", "Medium accuracy, excellent efficiency"),
    "ResNet": ("Alta precisión, eficiencia media/buena", "High accuracy, medium/good efficiency"),
    "Inception-v4": ("Excelente precisión, media eficiencia", "Excellent accuracy, medium efficiency"),
}

VGG = ("vgg16", "vgg19")
DEEP_RESNETS = ("resnet50", "resnet101", "resnet152")


def lecture_models() -> tuple:
    """The zoo names the lecture-comparison report profiles, in the order it shows them."""
    return LECTURE_MODELS


@dataclass(frozen=True)
class Figures:
    """One model's per-image totals and published top-1 (percent; None where none is published)."""

    model: str
    params: int
    param_bytes: int
    macs: int
    activation_bytes: int
    top1: Optional[float]

    @property
    def memory_bytes(self) -> int:
        return self.param_bytes + self.activation_bytes

    @property
    def top1_per_gmac(self) -> Optional[float]:
        return None if self.top1 is None else self.top1 / (self.macs / 1e9)

    @property
    def top1_per_mparam(self) -> Optional[float]:
        return None if self.top1 is None else self.top1 / (self.params / 1e6)


@dataclass(frozen=True)
class Verdict:
    family: str
    quote: str  # the lecture's words, Spanish then English
    claim: str
    numbers: tuple  # of (model, quantity, value): exactly the values the claim was decided on
    holds: bool


def figures_of(profile, accuracy=None) -> Figures:
    """Per-image figures from a Profile (any batch) and an Accuracy record (or None)."""
    batch = profile.input_shape[0]
    t = profile.totals
    return Figures(model=profile.model, params=t.params, param_bytes=t.param_bytes, macs=t.macs // batch,
                   activation_bytes=t.activation_bytes // batch,
                   top1=None if accuracy is None else accuracy.top1)


# A claim: (family, text, the models it names, the models it compares them with (None: the whole set),
# the quantities it reads, the decision over {model: Figures}).
_ALL = None


def _claims(names: Sequence[str]) -> list:
    others = lambda *exclude: tuple(n for n in names if n not in exclude)  # noqa: E731
    below = lambda q, low, mid, high: getattr(low, q) < getattr(mid, q) < getattr(high, q)  # noqa: E731
    return [
        ("AlexNet", "AlexNet has the fewest MACs of the set", ("alexnet",), _ALL, ("macs",),
         lambda f: all(f["alexnet"].macs < f[n].macs for n in others("alexnet"))),
        ("AlexNet", "AlexNet has more parameters (weight memory) than every model of the set except VGG-16/19",
         ("alexnet", *VGG), _ALL, ("params",),
         lambda f: all(f["alexnet"].params > f[n].params for n in others("alexnet", *VGG))),
        ("AlexNet", "AlexNet has the lowest top-1 accuracy of the set", ("alexnet",), _ALL, ("top1",),
         lambda f: all(f["alexnet"].top1 < f[n].top1 for n in others("alexnet"))),
        ("VGG", "VGG-16 and VGG-19 have the most parameters of the set", VGG, _ALL, ("params",),
         lambda f: all(f[v].params > f[n].params for v in VGG for n in others(*VGG))),
        ("VGG", "VGG-16 and VGG-19 need the most memory of the set at batch 1 (weights + activations)", VGG, _ALL,
         ("memory_bytes",), lambda f: all(f[v].memory_bytes > f[n].memory_bytes for v in VGG for n in others(*VGG))),
        ("VGG", "VGG-16 and VGG-19 write the most activation memory of the set", VGG, _ALL, ("activation_bytes",),
         lambda f: all(f[v].activation_bytes > f[n].activation_bytes for v in VGG for n in others(*VGG))),
        ("VGG", "VGG-16 and VGG-19 have the lowest top-1 per GMAC of the set", VGG, _ALL, ("top1_per_gmac",),
         lambda f: all(f[v].top1_per_gmac < f[n].top1_per_gmac for v in VGG for n in others(*VGG))),
        ("VGG", "VGG-16 and VGG-19 have a top-1 above AlexNet's and below ResNet-50/101/152's", VGG,
         ("alexnet", *DEEP_RESNETS), ("top1",),
         lambda f: all(below("top1", f["alexnet"], f[v], f[r]) for v in VGG for r in DEEP_RESNETS)),
        ("GoogLeNet", "GoogLeNet has a top-1 above AlexNet's and below ResNet-50/101/152's", ("googlenet",),
         ("alexnet", *DEEP_RESNETS), ("top1",),
         lambda f: all(below("top1", f["alexnet"], f["googlenet"], f[r]) for r in DEEP_RESNETS)),
        ("GoogLeNet", "GoogLeNet has the highest top-1 per GMAC of the set", ("googlenet",), _ALL,
         ("top1_per_gmac",),
         lambda f: all(f["googlenet"].top1_per_gmac > f[n].top1_per_gmac for n in others("googlenet"))),
        ("GoogLeNet", "GoogLeNet has the highest top-1 per million parameters of the set", ("googlenet",), _ALL,
         ("top1_per_mparam",),
         lambda f: all(f["googlenet"].top1_per_mparam > f[n].top1_per_mparam for n in others("googlenet"))),
        ("ResNet", "ResNet-50, -101 and -152 each have a higher top-1 than GoogLeNet and VGG-16/19", DEEP_RESNETS,
         ("googlenet", *VGG), ("top1",),
         lambda f: all(f[r].top1 > f[n].top1 for r in DEEP_RESNETS for n in ("googlenet", *VGG))),
        ("ResNet", "ResNet-50's top-1 per GMAC and per million parameters are above VGG-16/19's and below "
                   "GoogLeNet's", ("resnet50",), ("googlenet", *VGG), ("top1_per_gmac", "top1_per_mparam"),
         lambda f: all(below(q, f[v], f["resnet50"], f["googlenet"])
                       for v in VGG for q in ("top1_per_gmac", "top1_per_mparam"))),
        ("Inception-v4", "Inception-v4 has the highest top-1 of the set", ("inception_v4",), _ALL, ("top1",),
         lambda f: all(f["inception_v4"].top1 > f[n].top1 for n in others("inception_v4"))),
        ("Inception-v4", "Inception-v4's top-1 per GMAC is above VGG-16/19's and below GoogLeNet's and ResNet-50's",
         ("inception_v4",), ("googlenet", "resnet50", *VGG), ("top1_per_gmac",),
         lambda f: all(below("top1_per_gmac", f[v], f["inception_v4"], f[g])
                       for v in VGG for g in ("googlenet", "resnet50"))),
    ]


def check_verdicts(entries: Sequence[tuple]) -> list:
    """[(Profile, Accuracy or None), ...] -> the Verdicts whose models are all present, in the lecture's order."""
    return verdicts_over({f.model: f for f in (figures_of(p, a) for p, a in entries)})


def verdicts_over(figures: dict) -> list:
    """{model: Figures} -> Verdicts (as ``check_verdicts``, from figures already computed).

    A claim is decided only when every model it names or compares with was given and has every figure it reads.
    """
    out = []
    for family, claim, subjects, compared, quantities, decide in _claims(list(figures)):
        needed = tuple(dict.fromkeys((*subjects, *(figures if compared is _ALL else compared))))
        if not set(needed) <= set(figures) or len(needed) < 2:
            continue
        numbers = tuple((n, q, getattr(figures[n], q)) for n in needed for q in quantities)
        if any(v is None for _, _, v in numbers):
            continue  # a figure the claim needs is not published
        spanish, english = QUOTES[family]
        out.append(Verdict(family=family, quote=f"{spanish} / {english}", claim=claim, numbers=numbers,
                           holds=bool(decide({n: figures[n] for n in needed}))))
    return out


def as_records(verdicts: Sequence[Verdict]) -> list:
    """Plain dicts (JSON-ready) with the numbers as a list of {model, quantity, value}."""
    return [{**asdict(v), "numbers": [{"model": m, "quantity": q, "value": x} for m, q, x in v.numbers]}
            for v in verdicts]
