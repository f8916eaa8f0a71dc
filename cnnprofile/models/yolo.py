"""YOLO (Redmon et al.): v1 (CVPR 2016) and v2 for PASCAL VOC (YOLO9000, CVPR 2017), one pass, a grid of boxes.

Both are built from the darknet configuration files their papers shipped with (github.com/pjreddie/darknet),
read the way ``darknet.py`` says (``pad=1`` is padding ``size // 2``, ``leaky`` is slope 0.1):

- **YOLOv1**: ``cfg/yolo.cfg`` at commit 6103ecc (November 2015), the network of the paper's Figure 3: 24
  convolutions (the Extraction network's 20, then 3x3x1024, 3x3x1024/2, 3x3x1024, 3x3x1024), no batch
  normalisation (YOLO9000 adds it), a dense layer of 4096 with leaky ReLU, dropout 0.5 and a dense layer of
  1470 = 7 x 7 x 30 at 448x448: per cell of the 7x7 grid, 2 boxes x (4 coordinates + 1 confidence) + 20 class
  probabilities. The 1470 numbers are returned as a channels-first 30x7x7 grid like every other map here
  (darknet's detection layer orders them by kind, all class probabilities first: the same numbers, the same
  count). Today's ``cfg/yolov1.cfg`` is a later model: batch norm, a 3x3 locally connected layer of 256
  filters instead of the 4096 dense layer, and 7 x 7 x 35 outputs (3 boxes); darknet's ``ops`` does not count
  locally connected layers, so its 40.19 Bn for that cfg leaves out that layer's 0.46G multiply-adds.
- **YOLOv2** (VOC): ``cfg/yolo-voc.cfg`` at commit 0222895 (November 2016, the paper's release): Darknet-19
  without its classifier, three 3x3x1024 convolutions, and the *passthrough* layer of section 2 ("Fine-Grained
  Features"): the 26x26x512 map before the last pooling is stacked into 13x13x2048 (darknet's ``reorg``, here a
  space-to-depth; darknet orders the channels differently, the count is the same) and concatenated with the
  13x13x1024 map; a 3x3x1024 convolution and a 1x1 convolution to 125 = 5 anchors x (4 coordinates + 1
  objectness + 20 classes) per cell of the 13x13 grid at 416x416. The anchors (from k-means over the VOC
  boxes) only enter the decoding, not the network. The lecture's "45 numbers per cell" (5 boxes x (4 + 1) + 20
  classes) is YOLOv1's layout (classes per cell) with YOLOv2's 5 anchors; YOLOv2 predicts the classes per
  anchor, hence darknet's 125 filters. Later cfgs (``cfg/yolov2-voc.cfg``) first reduce the
  26x26x512 map to 64 channels with a 1x1 convolution (``reorg_channels=64``), 29.36 billion operations
  instead of 34.90.

YOLOv2 is fully convolutional, so it runs at any multiple of 32 (multi-scale training uses 320 to 608):
``cnnprofile table yolov2_voc --input 3x608x608`` gives the 19x19x125 grid. Operation counts: see
``darknet.py`` (darknet counts 2 per multiply-add of convolutions and dense layers only).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .darknet import DARKNET19, DARKNET19_PAPER, EXTRACTION, LEAKY_SLOPE, YOLOV1_PAPER, conv_layers, darknet_features
from .registry import Published, register_model

VOC_CLASSES = 20
COORDS = 4  # box centre x, y, width, height


class YOLOv1(nn.Module):
    def __init__(self, num_classes: int = VOC_CLASSES, grid: int = 7, boxes: int = 2, dropout: float = 0.5):
        super().__init__()
        config = tuple(EXTRACTION) + ((1024, 3, 1), (1024, 3, 2), (1024, 3, 1), (1024, 3, 1))
        self.features, channels = darknet_features(config, batch_norm=False)
        self.grid, self.per_cell = grid, boxes * (COORDS + 1) + num_classes
        self.classifier = nn.Sequential(
            nn.Linear(channels * grid * grid, 4096), nn.LeakyReLU(LEAKY_SLOPE, inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, grid * grid * self.per_cell),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.classifier(torch.flatten(self.features(x), 1))
        # The S x S x (B * 5 + C) tensor of the paper, channels first.
        return out.view(-1, self.grid, self.grid, self.per_cell).permute(0, 3, 1, 2)


class YOLOv2(nn.Module):
    """``reorg_channels``: None for the paper's passthrough of all 512 channels, 64 for the later cfgs."""

    def __init__(self, num_classes: int = VOC_CLASSES, anchors: int = 5, reorg_channels: Optional[int] = None):
        super().__init__()
        # Darknet-19 up to the 26x26x512 map the passthrough reads, then its last pooling and 13x13 block.
        split = max(i for i, layer in enumerate(DARKNET19) if layer == "M")
        self.features, fine = darknet_features(DARKNET19[:split])
        deep, channels = darknet_features(DARKNET19[split:], fine)
        self.deep = nn.Sequential(*deep, *conv_layers(1024, 3, 1, channels, True),
                                  *conv_layers(1024, 3, 1, 1024, True))
        reduce = conv_layers(reorg_channels, 1, 1, fine, True) if reorg_channels else []
        self.passthrough = nn.Sequential(*reduce, nn.PixelUnshuffle(2))
        stacked = 4 * (reorg_channels or fine)
        self.head = nn.Sequential(*conv_layers(1024, 3, 1, stacked + 1024, True),
                                  nn.Conv2d(1024, anchors * (COORDS + 1 + num_classes), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fine = self.features(x)
        deep = self.deep(fine)  # first, as in darknet's layer order
        # darknet's route layers=-1,-3: the reorganised fine map first, then the deep one.
        return self.head(torch.cat([self.passthrough(fine), deep], dim=1))


def _darknet_ops(cfg: str, commit: str, size: int, ops: int) -> str:
    return (f"darknet's `ops` on {cfg} at commit {commit} ({size}x{size}): {ops:,} operations, 2 per multiply-add "
            "of its convolutions and dense layers")


@register_model(family="yolo", paper=YOLOV1_PAPER, input_size=(3, 448, 448), num_classes=VOC_CLASSES,
                task="detection", output_size=(30, 7, 7),
                output_note="(2 boxes x (4 coordinates + 1 confidence) + 20 class probabilities)",
                published=Published(operations=40_570_306_560, macs_rel_tol=0.0,
                                    source=_darknet_ops("cfg/yolo.cfg", "6103ecc", 448, 40_570_306_560)))
def yolov1(num_classes: int = VOC_CLASSES) -> nn.Module:
    """YOLOv1 (paper Figure 3, darknet's 2015 cfg/yolo.cfg): 24 convolutions and 2 dense layers, 448x448 to a
    7x7x30 grid"""
    return YOLOv1(num_classes)


@register_model(family="yolo", paper=DARKNET19_PAPER, input_size=(3, 416, 416), num_classes=VOC_CLASSES,
                task="detection", output_size=(125, 13, 13),
                output_note="5 anchors x (4 coordinates + 1 objectness + 20 class probabilities)",
                published=Published(operations=34_898_126_848, macs_rel_tol=0.0,
                                    source=_darknet_ops("cfg/yolo-voc.cfg", "0222895", 416, 34_898_126_848)))
def yolov2_voc(num_classes: int = VOC_CLASSES, reorg_channels: Optional[int] = None) -> nn.Module:
    """YOLOv2 for PASCAL VOC (YOLO9000 section 2, darknet's 2016 cfg/yolo-voc.cfg): Darknet-19 with the
    passthrough layer, 416x416 to a 13x13x125 grid; fully convolutional, so any multiple of 32 works"""
    return YOLOv2(num_classes, reorg_channels=reorg_channels)
