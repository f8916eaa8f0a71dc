"""Every model of ``torchvision.models.list_models()``, built with ``weights=None`` (nothing is downloaded).

The native input comes from the default weights' transforms where they define one:

- classification: ``crop_size`` (3 x crop x crop);
- semantic segmentation: ``resize_size`` (520: 3 x 520 x 520, the size ``_ops`` was measured at);
- video: ``crop_size`` and 16 frames (N x 3 x T x H x W), the clip length of r3d_18/mc3_18/r2plus1d_18/MViT
  in the weights' docs; ``_ops`` of S3D and Video Swin were measured at other clip lengths (see the tests);
- optical flow (RAFT) and detection define no size: RAFT takes two frames of 3 x 520 x 960 (FlyingThings'
  540 x 960 cropped as torchvision's flow references train it); detection takes one 3 x 800 x 800 image,
  which the model's own transform rescales to its working size (800 for the R-CNNs, RetinaNet and FCOS, 320
  or 300 for the SSDs), so ``_ops`` is comparable for any square image.

Detection models select boxes with data-dependent shapes (``nonzero``, ``nms``): they cannot run on the meta
device and run for real, on the CPU, with random weights (engine "real"). Quantized models are profiled as
the float network they are quantized from (``quantize=False``): the quantized kernels have no meta kernels
and no formulas.
"""
from __future__ import annotations

import fnmatch
import inspect

from ..errors import UnknownModelError
from ..inputs import Inputs, TensorSpec
from .base import ModelSource, PublishedFigures
from .spec import suggest

# Torchvision builds these differently when weights are given; we build them the same way so that the
# profile describes the published network (GoogLeNet without its auxiliary classifiers, inputs rescaled).
_AS_PUBLISHED = {"googlenet": {"aux_logits": False, "transform_input": True, "init_weights": False},
                 "inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": False},
                 "quantized_googlenet": {"aux_logits": False, "transform_input": True, "init_weights": False},
                 "quantized_inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": False}}
_TASKS = {"segmentation": "segmentation", "detection": "detection", "video": "video",
          "optical_flow": "optical_flow", "quantization": "classification"}
# Constructors that compute with tensors (RegNet derives its widths with torch.round(...).tolist()).
_REGISTRATION = ("regnet_",)
VIDEO_FRAMES = 16
FLOW_SIZE = (368, 768)
DETECTION_SIZE = (800, 800)
DETECTION_REASON = ("detection selects boxes with data-dependent shapes (nonzero, nms: no meta kernels); "
                    "it runs for real on the CPU with random weights")


# With weights, these builders give the backbone FrozenBatchNorm2d (statistics and affine as buffers, no
# parameters); built without weights they would use BatchNorm2d, whose affine weights are parameters.
_FROZEN_NORM = ("fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
                "fasterrcnn_resnet50_fpn", "fcos_resnet50_fpn", "keypointrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn",
                "retinanet_resnet50_fpn")


def _with_frozen_norm(builder):
    def build(**kwargs):
        from torch import nn
        from torchvision.ops.misc import FrozenBatchNorm2d

        model = builder(**kwargs)
        for parent in list(model.backbone.modules()):
            for key, child in list(parent.named_children()):
                if type(child) is nn.BatchNorm2d:
                    setattr(parent, key, FrozenBatchNorm2d(child.num_features, eps=child.eps))
        return model

    build.__wrapped__ = builder
    return build


def torchvision_names() -> list:
    from torchvision import models

    return sorted(models.list_models())


def task_of(builder) -> str:
    parts = builder.__module__.split(".")
    return _TASKS.get(parts[2], "classification") if len(parts) > 3 else "classification"


def _native(task: str, weights) -> Inputs:
    transforms = weights.transforms()
    if task == "detection":
        return Inputs((TensorSpec((1, 3, *DETECTION_SIZE)),))
    if task == "optical_flow":
        return Inputs((TensorSpec((1, 3, *FLOW_SIZE)), TensorSpec((1, 3, *FLOW_SIZE))))
    size = transforms.resize_size if task == "segmentation" else transforms.crop_size
    size = list(size) if isinstance(size, (list, tuple)) else [size]
    hw = (int(size[0]), int(size[-1]))
    if task == "video":
        return Inputs((TensorSpec((1, 3, VIDEO_FRAMES, *hw)),))
    return Inputs((TensorSpec((1, 3, *hw)),))


def torchvision_source(name: str, kwargs: dict) -> ModelSource:
    from torchvision import models

    names = torchvision_names()
    if name not in names:
        raise UnknownModelError(f"unknown torchvision model {name!r}{suggest(name, names)}")
    builder = models.get_model_builder(name)
    task = task_of(builder)
    weights = models.get_model_weights(name).DEFAULT
    meta = weights.meta
    metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})  # top-1/top-5 mean ImageNet here
    fixed = {"weights": None, **_AS_PUBLISHED.get(name, {})}
    if name.startswith("vit_") and "image_size" not in kwargs:  # ViT's size is part of the architecture
        fixed["image_size"] = meta["min_size"][0]
    if name.startswith("quantized_"):
        fixed["quantize"] = False
    params = inspect.signature(builder).parameters
    if "weights_backbone" in params:  # its default would download the backbone's weights
        fixed["weights_backbone"] = None
    if "aux_loss" in params:  # with weights torchvision builds the auxiliary head, and counts it
        fixed["aux_loss"] = True
    categories = meta.get("categories")
    return ModelSource(
        name=f"torchvision:{name}", origin="torchvision",
        builder=_with_frozen_norm(builder) if name in _FROZEN_NORM else builder, inputs=_native(task, weights),
        kwargs=kwargs, fixed_kwargs=fixed, task=task, family=builder.__module__.split(".")[-1],
        weights=f"{type(weights).__name__}.{weights.name}",
        published=PublishedFigures(num_params=meta.get("num_params"), gmacs=meta.get("_ops"),
                                   top1=metrics.get("acc@1"), top5=metrics.get("acc@5"),
                                   source=f"torchvision weights metadata, {type(weights).__name__}.{weights.name}"),
        num_classes=kwargs.get("num_classes", len(categories) if categories else None),
        build_path="registration" if name.startswith(_REGISTRATION) else "meta",
        real_reason=DETECTION_REASON if task == "detection" else None)


def torchvision_glob(pattern: str) -> list:
    return fnmatch.filter(torchvision_names(), pattern)
