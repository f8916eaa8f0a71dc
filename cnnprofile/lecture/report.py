"""The lecture's comparison as a report: the lecture's models as ``present.report.collect`` profiles them, with
the lecture's verdicts decided from those very profiles and accuracy records, the ones the charts draw."""
from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence

from ..present.report import ReportData, collect, html_grid
from .verdict_table import HEADERS, HOLDS, verdict_table
from .verdicts import check_verdicts, lecture_models

LECTURE_TITLE = "The lecture's comparison: Canziani, Paszke and Culurciello (2016), checked"


def verdict_grid(verdicts: Sequence) -> Optional[dict]:
    """The verdict table as the report's template draws it; the holds cell of each row gets its class, so a
    claim that does not hold is shown as such, and the numbers cell shows the exact values on hover."""
    if not verdicts:
        return None
    table = html_grid(verdict_table(verdicts), hover_column=HEADERS.index("Our numbers"),
                      css={HEADERS.index("The lecture's verdict"): "quote", HEADERS.index("Our numbers"): "nums"})
    verdict = HEADERS.index("Holds")
    for row in table["rows"]:
        text, _, hover = row[verdict]
        row[verdict] = (text, "holds" if text == HOLDS else "fails", hover)
    return table


def collect_lecture(bench: Sequence[str] = (), ops: str = "macs", title: Optional[str] = None,
                    device: Optional[str] = None) -> ReportData:
    """The lecture's models (``verdicts.lecture_models()``) with their verdicts, and the detection section
    (sliding windows, the FCN pass and YOLO, ``lecture.detection``)."""
    from .detection import detection_points, detection_section

    data = collect(lecture_models(), bench, ops=ops, title=title or LECTURE_TITLE, device=device)
    verdicts = tuple(check_verdicts([(m.profile, m.accuracy) for m in data.models]))
    return replace(data, verdicts=verdicts, verdict_grid=verdict_grid(verdicts),
                   sections=(detection_section(detection_points()),))


__all__ = ["LECTURE_TITLE", "collect_lecture", "verdict_grid"]
