"""The landscape page's name filter: a text box whose patterns keep, on every chart, only the models they name.

Plotly has controls for choosing among fixed options (the family menu) but none for typed text, so this is the
one piece of the page's JavaScript we write ourselves, and it does no drawing: it keeps each chart's data as
Plotly first drew it and hands Plotly the matching subset with ``Plotly.restyle`` (a filtered-out point is
gone from the chart, its hover with it). The family menu sets the traces' ``visible`` and this sets their data,
so the two combine. The Pareto frontier is not filtered: like the family menu, it stays the whole field's.

Patterns, case-insensitive, separated by spaces or commas, a point kept when any matches: with ``*`` or ``?``,
a glob over the whole name, with or without its source prefix and its tag (``resnet5?``, ``timm:*.a1_*``);
without, a substring of the full name (``timm:resnet50.a1_in1k``).
"""
from __future__ import annotations


def point_names(model: str, tag: str) -> list:
    """The names a point answers to, the full one first: ``timm:resnet50.a1_in1k``, ``timm:resnet50``,
    ``resnet50.a1_in1k``, ``resnet50`` (lower case; duplicates dropped)."""
    short = model.split(":", 1)[1] if ":" in model else model
    names = [f"{model}.{tag}" if tag else model, model, f"{short}.{tag}" if tag else short, short]
    return list(dict.fromkeys(n.lower() for n in names))


HTML = """<p class="filter"><label>Models named <input id="name-filter" type="search" size="40"
 placeholder="resnet, efficientnet_b?, timm:*.a1_*" autocomplete="off"></label>
 <span id="name-filter-count" class="note"></span></p>
<p class="note">A name filter keeps the models whose full name (source:architecture.tag) contains the text, or
that a pattern with * or ? matches (with or without the source and tag); several patterns, separated by spaces or
commas, keep what any of them names. It combines with each chart's family menu; the frontier stays the whole
field's.</p>
"""

SCRIPT = r"""<script>
(() => {
  const box = document.getElementById("name-filter"), count = document.getElementById("name-filter-count");
  const KEYS = ["x", "y", "customdata", "text", "marker.size"];  // per-point data a filtered trace may carry
  const isArray = v => Array.isArray(v) || ArrayBuffer.isView(v);  // Plotly may hold typed arrays
  const get = (trace, key) => key.split(".").reduce((o, k) => (o == null ? o : o[k]), trace);
  const first = new WeakMap();  // chart -> its filterable traces as first drawn (Plotly's own arrays, unchanged)
  const originals = gd => {
    if (!first.has(gd)) {
      first.set(gd, gd.data.map((t, index) => ({index, t})).filter(({t}) => t.meta && t.meta.names).map(
        ({index, t}) => ({index, role: t.meta.role, names: t.meta.names,
                          values: Object.fromEntries(KEYS.map(k => [k, get(t, k)]))})));
    }
    return first.get(gd);
  };
  const glob = p => new RegExp("^" + p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")
                                      .replace(/\?/g, ".") + "$");
  const matcher = text => {
    const tests = text.toLowerCase().split(/[\s,]+/).filter(Boolean).map(p => {
      if (!/[*?]/.test(p)) return names => names[0].includes(p);
      const re = glob(p);
      return names => names.some(n => re.test(n));
    });
    return names => tests.length === 0 || tests.some(test => test(names));
  };
  const apply = () => {
    const match = matcher(box.value);
    let kept = 0, all = 0;
    for (const gd of document.querySelectorAll(".plotly-graph-div")) {
      const traces = originals(gd), update = Object.fromEntries(KEYS.map(k => [k, []]));
      kept = all = 0;
      for (const t of traces) {
        const keep = t.names.flatMap((names, j) => (match(names) ? [j] : []));
        if (t.role === "family") { kept += keep.length; all += t.names.length; }
        for (const k of KEYS) {
          const v = t.values[k];
          update[k].push(isArray(v) ? keep.map(j => v[j]) : v);
        }
      }
      Plotly.restyle(gd, update, traces.map(t => t.index));
    }
    count.textContent = box.value.trim() ? `${kept} of ${all} models shown` : "";
  };
  box.addEventListener("input", apply);
})();
</script>"""
