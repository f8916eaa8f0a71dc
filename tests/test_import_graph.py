"""The package's import graph has no cycle, counting lazy imports inside functions as well as module-level ones
(read from the source with ``ast``, so an import that only runs on some path is seen too)."""
import ast
from pathlib import Path

import cnnprofile

PACKAGE = Path(cnnprofile.__file__).parent


def modules(root: Path, package: str) -> dict:
    """{dotted module name: path} of every module under ``root``."""
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def imports_of(name: str, path: Path, known: dict) -> set:
    """The package's modules that ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # ``from pkg import sub`` imports the submodule ``pkg.sub``; ``from mod import attr`` imports ``mod``.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict) -> list:
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def import_graph(root: Path, package: str) -> dict:
    known = modules(root, package)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE, "cnnprofile")
    assert len(graph) > 30 and "cnnprofile.record.run" in graph["cnnprofile.engines.meta"]
    assert cycles(graph) == []


def test_the_walker_finds_a_cycle_through_a_lazy_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (pkg / "c.py").write_text("def g():\n    import pkg.a\n")
    (pkg / "d.py").write_text("from . import a\n")
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.c"} and graph["pkg.d"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]


# The flow of the package, lowest layer first: a module imports only from its own layer or a lower one.
LAYERS = (
    ("cnnprofile.errors", "cnnprofile.files", "cnnprofile.records", "cnnprofile.inputs", "cnnprofile.outputs",
     "cnnprofile.devices", "cnnprofile.dispatch"),  # the vocabulary every layer shares; how an op runs on meta
    ("cnnprofile.models",),  # the zoo
    ("cnnprofile.sources",),  # where models come from
    ("cnnprofile.record",),  # one recorded pass
    ("cnnprofile.analyses",),  # pure functions over the recording
    ("cnnprofile.engines",),  # record (or translate) a module into a Profile
    ("cnnprofile.analyzer",),  # the front door
    ("cnnprofile.bench",),  # timing on a device
    ("cnnprofile.predict",),  # latency predicted from the recorded kernels and a calibration
    ("cnnprofile.landscape",),  # sweeps of many models into a store, joined with published accuracy
    ("cnnprofile.present",),  # tables, charts, the report
    ("cnnprofile.lecture",),  # the lecture's own material
    ("cnnprofile.cli",),  # commands
)


def layer_of(module: str):
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def upward_imports(graph: dict) -> list:
    return sorted((m, t) for m, targets in graph.items() for t in targets
                  if layer_of(m) is not None and layer_of(t) is not None and layer_of(t) > layer_of(m))


def test_every_module_has_a_layer():
    graph = import_graph(PACKAGE, "cnnprofile")
    assert [m for m in graph if layer_of(m) is None] == ["cnnprofile", "cnnprofile.__main__"]


def test_no_module_imports_from_a_layer_above_it():
    assert upward_imports(import_graph(PACKAGE, "cnnprofile")) == []


def test_an_upward_import_is_found(tmp_path):
    pkg = tmp_path / "cnnprofile"
    (pkg / "record").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "record" / "__init__.py").write_text("")
    (pkg / "record" / "x.py").write_text("def f():\n    from ..present import y\n")
    (pkg / "present").mkdir()
    (pkg / "present" / "__init__.py").write_text("")
    (pkg / "present" / "y.py").write_text("from ..record import x\n")
    assert upward_imports(import_graph(pkg, "cnnprofile")) == [("cnnprofile.record.x", "cnnprofile.present.y")]
