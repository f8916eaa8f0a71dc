"""What a sweep profiles: every model of the specs at every input size it was published at.

- timm: each pretrained tag of the architecture (``timm.list_pretrained``), at the tag's ``input_size`` and,
  where it differs, its ``test_input_size`` (read from timm's pretrained configs; no weights are fetched). A
  tag whose head has another number of classes (in-21k, ...) is built with that ``num_classes``.
- torchvision: each weights enum of the model at its transforms' crop size. Globs keep the classifiers
  (quantized ones, being the float networks they are quantized from, are left out).
- Anything else (zoo names, files): its native input, tag "".
- ``--input`` sizes are added for every model with tag "".

Cells that build the same network (same spec, builder arguments and input) are one ``Job``: it is profiled
once and written as one row per tag.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Optional

from ..errors import InputError


@dataclass(frozen=True)
class Job:
    model: str  # spec
    kwargs: str  # JSON of the builder's arguments: "{}" or '{"num_classes": 21843}'
    input_size: tuple  # per sample, (C, H, W)
    batch: int
    tags: tuple  # the pretrained tags this network is published under ("" for an asked-for size)
    architecture: str = ""
    family: str = ""
    origin: str = ""
    reparam: bool = False  # profiled in its deployed form (``sources.deploy``)

    @property
    def size_text(self) -> str:
        return "x".join(map(str, self.input_size))

    def keys(self) -> list:
        return [(self.model, tag, self.size_text, self.batch, self.reparam) for tag in self.tags]


def _timm_cells(source) -> list:
    import timm
    from timm.models._registry import _model_to_module

    arch, _, only = source.name.split(":", 1)[1].partition(".")  # "timm:resnet50.a1_in1k": that tag only
    model = f"timm:{arch}"  # one spec per architecture, the tag in its own column, however it was asked for
    family = _model_to_module.get(arch, arch.split("_")[0])
    default = timm.models.get_pretrained_cfg(arch)
    default_classes = getattr(default, "num_classes", 1000)
    out = []
    for full in timm.list_pretrained(f"{arch}.{only or '*'}"):
        cfg = timm.models.get_pretrained_cfg(full)
        kwargs = {} if cfg.num_classes == default_classes else {"num_classes": cfg.num_classes}
        for size in dict.fromkeys(s for s in (cfg.input_size, cfg.test_input_size) if s):
            out.append((model, kwargs, tuple(size), cfg.tag or "", arch, family, "timm"))
    if not out:  # an architecture with no published weights: its default configuration's input
        out.append((model, {}, tuple(source.input_size), "", arch, family, "timm"))
    return out


def _torchvision_cells(source) -> list:
    from torchvision import models

    arch = source.name.split(":", 1)[1]
    out = []
    for weights in models.get_model_weights(arch):
        crop = weights.transforms().crop_size
        crop = list(crop) if isinstance(crop, (list, tuple)) else [crop]
        kwargs = {}
        if arch.startswith("vit_") and weights.meta["min_size"][0] != source.fixed_kwargs.get("image_size"):
            kwargs["image_size"] = weights.meta["min_size"][0]  # ViT's position table is sized by the weights
        out.append((source.name, kwargs, (3, int(crop[0]), int(crop[-1])), weights.name, arch, source.family,
                    "torchvision"))
    return out


def _published_cells(source) -> list:
    if source.origin == "timm":
        return _timm_cells(source)
    if source.origin == "torchvision" and source.task == "classification":
        return _torchvision_cells(source)
    if source.input_size is None:
        return []
    return [(source.spec or source.name, {}, tuple(source.input_size), "", source.name, source.family or source.name,
             source.origin)]


def sources_of(specs: Iterable[str]) -> list:
    """The resolved sources of ``specs``; a torchvision glob keeps only the float classifiers."""
    from ..sources import resolve_models
    from ..sources.spec import parse_spec

    out = []
    for spec in specs:
        found = resolve_models([spec])
        if parse_spec(spec).is_glob and parse_spec(spec).scheme == "torchvision":
            found = [s for s in found if s.task == "classification" and not s.name.startswith("torchvision:quantized_")]
        out += found
    return out


def jobs_for(specs: Iterable[str], *, sizes: Optional[list] = None, batch: int = 1, reparam: bool = False) -> list:
    """The jobs of a sweep, in the order of the specs; ``sizes`` are extra per-sample input sizes (--input);
    ``reparam``: every network in its deployed form."""
    jobs: dict = {}
    for source in sources_of(specs):
        cells = _published_cells(source)
        if cells:
            model, arch, family = cells[0][0], cells[0][4], cells[0][5]
        else:  # a model with no declared input: only the --input sizes
            model, arch, family = source.spec or source.name, source.name, source.family or source.name
        cells += [(model, {}, tuple(size), "", arch, family, source.origin) for size in sizes or ()]
        if not cells:
            raise InputError(f"{source.spec or source.name} does not declare its input size; pass --input SHAPE")
        for model, kwargs, size, tag, arch, family, origin in cells:
            key = (model, json.dumps(kwargs, sort_keys=True), size)
            tags = jobs[key].tags if key in jobs else ()
            tags += () if tag in tags else (tag,)
            jobs[key] = Job(model=model, kwargs=key[1], input_size=size, batch=batch, tags=tags, architecture=arch,
                            family=family, origin=origin, reparam=reparam)
    return list(jobs.values())
