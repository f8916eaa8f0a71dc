"""The lecture's last argument in numbers: sliding windows, one fully convolutional pass, YOLO.

For square images of growing size, the MACs per image of three detectors against the number of image regions
each predicts for: VGG-16 run on every 224x224 window at its stride of 32 pixels (one forward pass per window),
the fully convolutional VGG-16 over the whole image (one pass, one prediction per output cell, the same grid),
and YOLOv2 (one pass, one region per cell of its grid, 5 boxes each), with YOLOv1 at its one size. Every figure
is a profile (``lecture.windows.sliding_windows`` and ``cnnprofile.profile``); nothing is extrapolated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

VGG_IMAGES = (224, 320, 448, 608)
YOLOV2_IMAGES = (320, 416, 512, 608)


@dataclass(frozen=True)
class DetectionPoint:
    approach: str  # "sliding windows", "fully convolutional", "yolov2", "yolov1"
    model: str
    image: int  # side of the square image, pixels
    regions: int  # windows evaluated, or output cells predicted
    boxes_per_region: int
    macs: int  # per image

    @property
    def macs_per_region(self) -> float:
        return self.macs / self.regions


SLIDING, FCN = "sliding windows (VGG-16)", "fully convolutional VGG-16"
YOLOV2, YOLOV1 = "YOLOv2 (VOC)", "YOLOv1"


def detection_points(vgg_images: Sequence[int] = VGG_IMAGES,
                     yolo_images: Sequence[int] = YOLOV2_IMAGES) -> tuple:
    """The points of the comparison, one ``DetectionPoint`` per approach and image size."""
    from ..analyzer import profile
    from .windows import sliding_windows

    points = []
    for side in vgg_images:
        s = sliding_windows("vgg16", (side, side)).sizes[0]
        points.append(DetectionPoint(SLIDING, "vgg16", side, s.window_count, 1, s.sliding_macs))
        points.append(DetectionPoint(FCN, "vgg16", side, s.cell_count, 1, s.fcn_macs))
    for side in yolo_images:
        p = profile("yolov2_voc", (3, side, side))
        grid = p.output_shapes[0][1][-2:]
        points.append(DetectionPoint(YOLOV2, "yolov2_voc", side, grid[0] * grid[1], 5, p.totals.macs))
    p = profile("yolov1")
    grid = p.output_shapes[0][1][-2:]
    points.append(DetectionPoint(YOLOV1, "yolov1", 448, grid[0] * grid[1], 2, p.totals.macs))
    return tuple(points)


def detection_section(points: Sequence[DetectionPoint]) -> dict:
    """The report section (``present.report.ReportData.sections``): a table and the chart, ready to render."""
    from ..present.charts.output import to_svg
    from ..present.formatting import human
    from ..present.report import html_grid
    from ..present.tabular import Table, right_aligned
    from .detection_chart import macs_vs_regions

    headers = ("Approach", "Image (px)", "Regions predicted", "Boxes per region", "MACs per image",
               "MACs per region")
    rows = tuple((p.approach, f"{p.image}x{p.image}", p.regions, p.boxes_per_region, human(p.macs),
                  human(p.macs_per_region)) for p in points)
    table = Table(headers=headers, rows=rows, align=right_aligned(len(headers), 1))
    return {"id": "detection", "title": "From sliding windows to one pass: FCN and YOLO, counted",
            "note": "The lecture's section 4: a classifier turned detector by running it on every window (slow, "
                    "\"it runs the CNN many times\"), the same network made fully convolutional (its dense layers "
                    "as convolutions: one pass gives a prediction per window of the same grid), and YOLO (one "
                    "pass, a grid of cells with several boxes each). Regions: windows evaluated, or output cells "
                    "predicted; VGG-16's windows are 224x224, 32 pixels apart (its stride), so the sliding windows "
                    "and the FCN cover the same grid. MACs per image at batch 1, from the analyzer.",
            "table": html_grid(table), "svg": to_svg(macs_vs_regions(points), salt="detection"),
            "caption": "MACs per image against the number of regions predicted (log-log), one line per approach "
                       "over image sizes; YOLOv1 has one size, 448x448."}


__all__ = ["DetectionPoint", "detection_points", "detection_section"]
