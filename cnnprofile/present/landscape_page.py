"""The landscape report: one self-contained HTML page of Plotly charts (Plotly's own JavaScript inlined, so it
opens offline), top-1 against GMACs, parameters, activation memory and peak memory, Canziani-style: bubble area
= parameters, colour = family, the Pareto frontier drawn, the lecture's networks ringed; given a device, top-1
against predicted throughput on it too (``landscape.predicted``). Hover shows the numbers and where each accuracy
is published; a menu shows one family at a time, a text box (``landscape_filter``) the models it names; Plotly's
toolbar zooms.

Only profiled rows with a published accuracy can be placed; the page says how many others the store holds.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from .formatting import human, human_bytes
from .landscape_filter import HTML as NAME_FILTER, SCRIPT as NAME_FILTER_SCRIPT, point_names

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


@dataclass(frozen=True)
class Axis:
    key: str
    title: str
    value: Callable  # SweepRow -> number
    higher_better: bool = False  # a throughput: the frontier is of the most accurate for as much or more of it


AXES = (
    Axis("gmacs", "GMACs (multiply-accumulates, batch 1, log)", lambda r: r.macs / 1e9),
    Axis("params", "parameters (millions, log)", lambda r: r.params / 1e6),
    Axis("activations", "activation memory (MB written in one pass at batch 1, float32, log)",
         lambda r: r.activation_bytes / 1e6),
    Axis("peak", "predicted inference peak (MB at batch 1, CUDA allocator, log)", lambda r: r.peak_bytes_1 / 1e6),
)


def placed(entries: Iterable) -> list:
    """The entries a chart can place: profiled, with a published top-1."""
    return [e for e in entries if e.row.status == "profiled" and e.accuracy is not None and e.row.macs]


def pareto(points: list) -> list:
    """Indices of the (cost, top-1) points no other point beats on both, cheapest first."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    out, best = [], float("-inf")
    for i in order:
        if points[i][1] > best:
            out.append(i)
            best = points[i][1]
    return out


def throughput_axis(predictions) -> Axis:
    """Predicted images per second of one forward pass (``landscape.predicted.RowPredictions``)."""
    return Axis("throughput", f"predicted throughput (images/s on the {predictions.label}; a prediction, log)",
                lambda r: predictions.of(r).images_per_s, higher_better=True)


def _hover(e, predictions=None) -> list:
    r, a = e.row, e.accuracy
    out = [r.model, r.tag or "-", r.input_size, human(r.params), f"{r.macs / 1e9:.3f}",
           human_bytes(r.activation_bytes), human_bytes(r.peak_bytes_1), f"{a.top1:.2f}",
           "-" if a.top5 is None else f"{a.top5:.2f}", a.source]
    p = predictions.of(r) if predictions is not None else None
    if p is not None:
        out.append(f"{p.seconds * 1e3:.3f} ms, {p.images_per_s:,.0f} images/s predicted on the {predictions.label}")
    return out


HOVER = ("<b>%{customdata[0]}</b> %{customdata[1]} at %{customdata[2]}<br>top-1 %{customdata[7]}%, top-5 "
         "%{customdata[8]}%<br>%{customdata[4]} GMACs, %{customdata[3]} parameters<br>activations "
         "%{customdata[5]}, peak %{customdata[6]}<br>accuracy: %{customdata[9]}<extra></extra>")


PREDICTED_HOVER = HOVER.replace("<extra>", "<br>%{customdata[10]}<extra>")


def figure(entries: list, axis: Axis, highlight: frozenset = frozenset(), predictions=None):
    """One Plotly figure: a trace per family, then the frontier, then the ringed lecture networks; with
    ``predictions``, each hover gives the entry's predicted latency too."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        from ..errors import CnnprofileError

        raise CnnprofileError("the landscape page needs Plotly, which is not installed: "
                              "pip install 'cnnprofile[landscape]'") from None

    families = sorted({e.row.family or e.row.architecture for e in entries})
    biggest = max(e.row.params for e in entries)
    fig = go.Figure()
    template = PREDICTED_HOVER if predictions is not None else HOVER

    def hover(e):
        return _hover(e, predictions)

    for k, family in enumerate(families):
        mine = [e for e in entries if (e.row.family or e.row.architecture) == family]
        fig.add_trace(go.Scatter(
            x=[axis.value(e.row) for e in mine], y=[e.accuracy.top1 for e in mine], mode="markers", name=family,
            legendgroup=family, customdata=[hover(e) for e in mine], hovertemplate=template,
            meta={"role": "family", "names": _names(mine)},
            marker=dict(size=[e.row.params for e in mine], sizemode="area", sizeref=2 * biggest / 40 ** 2, sizemin=3,
                        color=PALETTE[k % len(PALETTE)], opacity=0.7, line=dict(width=0.5, color="white"))))
    sign = -1 if axis.higher_better else 1  # more images/s is the cheaper way to the same accuracy
    points = [(sign * axis.value(e.row), e.accuracy.top1) for e in entries]
    front = [entries[i] for i in pareto(points)]
    fig.add_trace(go.Scatter(x=[axis.value(e.row) for e in front], y=[e.accuracy.top1 for e in front],
                             mode="lines+markers", name="Pareto frontier", line=dict(color="black", shape="hv"),
                             marker=dict(size=5, color="black"), customdata=[hover(e) for e in front],
                             hovertemplate=template, meta={"role": "frontier"}))
    ringed = [e for e in entries if e.row.architecture in highlight]
    if ringed:
        fig.add_trace(go.Scatter(
            x=[axis.value(e.row) for e in ringed], y=[e.accuracy.top1 for e in ringed], mode="markers+text",
            name="the lecture's networks", text=[e.row.architecture for e in ringed], textposition="top center",
            customdata=[hover(e) for e in ringed], hovertemplate=template,
            meta={"role": "lecture", "names": _names(ringed)},
            marker=dict(size=16, symbol="circle-open", color="black", line=dict(width=2))))
    fig.update_layout(updatemenus=[_family_menu(families, len(fig.data))], height=640, template="plotly_white",
                      xaxis=dict(title=axis.title, type="log"), yaxis=dict(title="ImageNet-1K top-1 (%)"),
                      legend=dict(itemsizing="constant"), margin=dict(t=60))
    return fig


def _names(entries: list) -> list:
    """Each point's names, for the name filter."""
    return [point_names(e.row.model, e.row.tag) for e in entries]


def _family_menu(families: list, traces: int) -> dict:
    """A dropdown that shows every family or one (the frontier and the rings stay: they are of the whole field)."""
    rest = [True] * (traces - len(families))
    buttons = [dict(label="all families", method="restyle", args=[{"visible": [True] * traces}])]
    for k, family in enumerate(families):
        shown = [i == k for i in range(len(families))] + rest
        buttons.append(dict(label=family, method="restyle", args=[{"visible": shown}]))
    return dict(buttons=buttons, direction="down", x=0, xanchor="left", y=1.12, yanchor="top", showactive=True)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}}
.note{{color:#555;font-size:.9em}}</style></head><body>
<h1>{title}</h1>
<p>{summary}</p>
<p class="note">{conventions}</p>
{name_filter}
{figures}
{name_filter_script}
</body></html>
"""


def figures(shown: list, highlight: frozenset = frozenset(), predictions=None) -> list:
    """(axis, figure) of every chart of the placed entries ``shown``: the cost axes, then, with ``predictions``,
    predicted throughput, of the entries that have a prediction (their kernels are stored)."""
    out = [(axis, figure(shown, axis, highlight)) for axis in AXES]
    if predictions is not None:
        priced = [e for e in shown if predictions.of(e.row) is not None]
        if not priced:
            from ..errors import InputError

            raise InputError("no placed row of the store has its kernels stored: sweep it again to predict them")
        axis = throughput_axis(predictions)
        out.append((axis, figure(priced, axis, highlight, predictions)))
    return out


def render_landscape(entries: list, *, title: str = "The landscape", highlight: Iterable = (),
                     source: Optional[str] = None, predictions=None) -> str:
    """The page's HTML for ``entries`` (``landscape.LandscapeRow``); ``highlight`` names architectures to ring;
    ``predictions`` (``landscape.predicted.RowPredictions``) add the chart of predicted throughput."""
    shown = placed(entries)
    if not shown:
        from ..errors import InputError

        raise InputError("the store holds no profiled model with a published accuracy: nothing to chart")
    failed = sum(e.row.status == "failed" for e in entries)
    unknown = sum(e.row.status == "profiled" and e.accuracy is None for e in entries)
    parts = []
    for k, (axis, fig) in enumerate(figures(shown, frozenset(highlight), predictions)):
        parts.append(f'<h2>Top-1 against {html.escape(axis.title.split(" (")[0])}</h2>\n'
                     + fig.to_html(full_html=False, include_plotlyjs=k == 0, div_id=f"chart-{axis.key}",
                                   config={"displaylogo": False}))
    summary = (f"{len(shown)} models placed (profiled, with a published ImageNet-1K top-1); {unknown} profiled "
               f"without a published accuracy and {failed} failed are in the store but cannot be placed"
               + (f" (store: {html.escape(source)})" if source else "") + ".")
    conventions = ("Bubble area = parameters; colour = family; the black line is the Pareto frontier (no model "
                   "is both cheaper and more accurate); rings mark the lecture's networks. MACs are multiply-"
                   "accumulates (bias additions are not MACs); parameters include biases; accuracy sources are "
                   "in each point's hover.")
    if predictions is not None:
        priced = sum(predictions.of(e.row) is not None for e in shown)
        conventions += (f" Throughput is predicted, not measured, for the {priced} placed models whose kernels the "
                        f"store holds (its frontier: no model is both faster and more accurate): "
                        f"{html.escape(predictions.provenance)}.")
    return PAGE.format(title=html.escape(title), summary=summary, conventions=conventions, figures="\n".join(parts),
                       name_filter=NAME_FILTER, name_filter_script=NAME_FILTER_SCRIPT)
