"""ONNX files as model sources: torchvision models exported by torch's two exporters (the legacy TorchScript one,
``dynamo=False``, and the default ``dynamo=True`` one) at opsets 17 and 18, with batch norm kept and folded,
profile as the PyTorch models do; hand-built graphs check the parts an export does not reach.

Exports take seconds each on a CPU, so each file is written once per session (``exported``) and CI runs a
part of the product: every model with batch norm kept (legacy, opset 17), resnet50 folded (legacy, opset
18), mobilenet_v3_large folded by the dynamo exporter (opset 18), and the dynamo exporter's unoptimised graph
of a small net. The whole matrix (4 models x {legacy 17 kept, legacy 18 folded, dynamo 18 folded, dynamo 18
kept}) gives the same figures (docs/onnx.md).
"""
import hashlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

onnx = pytest.importorskip("onnx")
torchvision = pytest.importorskip("torchvision")

import cnnprofile  # noqa: E402
from cnnprofile.cli import cli  # noqa: E402
from once_per_run import once_per_run  # noqa: E402

ROOT = Path(__file__).parent.parent
KEPT = {"dynamo": False, "opset_version": 17, "training": torch.onnx.TrainingMode.PRESERVE}
FOLDED = {"dynamo": False, "opset_version": 18}  # eval mode: the legacy exporter folds batch norm into convs
DYNAMO_FOLDED = {"dynamo": True, "opset_version": 18}  # its graph optimisation folds batch norm too
DYNAMO_KEPT = {"dynamo": True, "opset_version": 18, "optimize": False}


def randomized(name: str) -> torch.nn.Module:
    """torchvision's model with random values everywhere, batch-norm statistics included, so that the exporter
    neither finds equal initializers to merge nor batch norms that fold to nothing (a fresh model has both)."""
    model = torchvision.models.get_model(name, weights=None).eval()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, t in [*model.named_parameters(), *model.named_buffers()]:
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) + 0.5 if key.endswith("running_var")
                        else torch.randn(t.shape, generator=g) * 0.05)
    return model


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """exported(model, settings) -> path of the file, exported once per run (by one of the workers)."""
    d = tmp_path_factory.mktemp("onnx")
    done = {}

    def export(name: str, settings: dict) -> str:
        key = (name, tuple(sorted((k, str(v)) for k, v in settings.items())))
        if key not in done:
            path = d / f"{name}_{len(done)}.onnx"

            def build():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    torch.onnx.export(randomized(name), (torch.randn(1, 3, 224, 224),), str(path), **settings)
                return str(path)
            done[key] = once_per_run(tmp_path_factory, "onnx-" + hashlib.sha1(repr(key).encode()).hexdigest(), build)
        return done[key]

    return export


def torch_profile(name: str):
    return cnnprofile.profile(f"torchvision:{name}")


def bn_channels(name: str) -> int:
    return sum(m.num_features for m in randomized(name).modules() if isinstance(m, torch.nn.BatchNorm2d))


def conv_rows(p) -> list:
    return [(r.name, r.output_shape, r.params, r.macs) for r in p.layers if r.kind == "conv"]


MODELS = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "convnext_tiny"]


@pytest.mark.parametrize("name", MODELS)
def test_batch_norm_kept_profiles_as_the_pytorch_model(exported, name):
    p, q = cnnprofile.profile(exported(name, KEPT)), torch_profile(name)
    assert p.totals.params == q.totals.params and p.unused_params == 0
    assert abs(p.totals.macs - q.totals.macs) <= 1e-3 * q.totals.macs
    assert p.totals.macs == q.totals.macs  # in fact equal: the same ATen ops
    assert not p.uncounted_ops and p.output_shapes == q.output_shapes
    if name != "convnext_tiny":  # its convolutions are the same rows, same names, shapes and counts
        assert conv_rows(p) == conv_rows(q)
    else:  # its Linear layers are exported as MatMul + Add: the weights are parameters, not buffers
        assert [r.params for r in p.layers if r.type == "MatMul"][:2] == [96 * 384, 384 * 96]


@pytest.mark.parametrize("name, settings", [("resnet50", FOLDED), ("mobilenet_v3_large", DYNAMO_FOLDED)])
def test_batch_norm_folded_has_fewer_parameters_and_the_same_macs(exported, name, settings):
    p, q = cnnprofile.profile(exported(name, settings)), torch_profile(name)
    # Each batch norm's 2C scale and shift became its convolution's C biases.
    assert p.totals.params == q.totals.params - bn_channels(name)
    assert p.totals.macs == q.totals.macs and not p.uncounted_ops
    assert not [r for r in p.layers if "BatchNorm" in r.type]


def test_the_dynamo_exporter_unoptimised_graph_with_shape_arithmetic(tmp_path):
    """Without its optimisation the dynamo exporter writes a convolution's absent bias as zeros made by
    Shape -> Expand -> CastLike, evaluated here as constants; the parameters are still the model's (a small
    net with a bias-free convolution, batch norm, a residual add, a concatenation and a Linear layer)."""
    from cnnprofile.sources import resolve_model

    model = resolve_model("tests/models/tiny.py:build").build("cpu").eval()
    path = tmp_path / "tiny.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, 3, 32, 32),), str(path), **DYNAMO_KEPT)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert {"Shape", "Expand", "CastLike", "BatchNormalization"} <= ops
    p, q = cnnprofile.profile(str(path)), cnnprofile.profile("tests/models/tiny.py:build")
    assert (p.totals.params, p.totals.macs, p.output_shapes) == (q.totals.params, q.totals.macs, q.output_shapes)
    assert not p.uncounted_ops


def test_shapes_agree_with_onnx_shape_inference(exported):
    from cnnprofile.sources.onnx_graph import inferred_shapes

    path = exported("resnet50", KEPT)
    model = onnx.load(path)
    shapes = inferred_shapes(model, [(1, 3, 224, 224)])
    convs = [shapes[n.output[0]][0] for n in model.graph.node if n.op_type == "Conv"]
    assert [r[1] for r in conv_rows(cnnprofile.profile(path))] == convs


def test_the_cli_totals_equal_torchvision(exported):
    path = exported("resnet50", KEPT)
    runner = CliRunner()
    ours, theirs = runner.invoke(cli, ["table", path]), runner.invoke(cli, ["table", "torchvision:resnet50"])
    assert ours.exit_code == theirs.exit_code == 0, ours.output

    def totals(text):
        return [line for line in text.splitlines() if line.startswith(("Parameters:", "MACs:"))]

    assert totals(ours.output) == totals(theirs.output) and len(totals(ours.output)) == 2


# --- hand-built graphs ----------------------------------------------------------------------------------------

def _model(nodes, inits, out_shape, opset=18):
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_a_hand_counted_graph_with_a_shared_weight_and_an_uncounted_op(tmp_path):
    import numpy as np
    from onnx import helper

    rng = np.random.default_rng(0)
    inits = {"w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
             "m": rng.standard_normal((6, 5)).astype(np.float32),
             "shape": np.array([1, -1], dtype=np.int64), "half": np.array(0.5, dtype=np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Identity", ["w"], ["w2"]),  # the same weight again, as exporters share one
             helper.make_node("Conv", ["x", "w2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "c2"], ["s"]),
             helper.make_node("Mul", ["s", "half"], ["h"]),
             helper.make_node("Hardmax", ["h"], ["hm"], axis=1),  # ONNX infers its shape; we have no formula
             helper.make_node("ReduceMean", ["hm", "a0"], ["r"], keepdims=0),
             helper.make_node("Slice", ["r", "s0", "e0", "a0"], ["sl"]),  # its bounds are settings
             helper.make_node("MatMul", ["sl", "m"], ["y"])]
    inits.update(s0=np.array([0], dtype=np.int64), e0=np.array([6], dtype=np.int64),
                 a0=np.array([2], dtype=np.int64))
    path = tmp_path / "hand.onnx"
    onnx.save(_model(nodes, inits, [1, 4, 5]), path)
    p = cnnprofile.profile(str(path))
    assert p.totals.params == 4 * 27 + 6 * 5  # w once; the MatMul's weight is a parameter; 0.5 is a constant
    assert p.totals.macs == 2 * (8 * 8 * 4 * 27) + 4 * 6 * 5
    assert [(u.op, u.count) for u in p.uncounted_ops] == [("onnx_op.Hardmax", 1)]
    assert p.output_shapes == (("", (1, 4, 5)),)
    result = CliRunner().invoke(cli, ["table", str(path)])
    assert result.exit_code == 0 and "Uncounted ops (no formula; their MACs/FLOPs are unknown, not zero): " \
        "onnx_op.Hardmax x1" in result.output


def test_a_backward_slice_has_the_shape_onnx_gives_it(tmp_path):
    import numpy as np
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    inits = {"s": np.array([-1, 6], dtype=np.int64), "e": np.array([-(2 ** 63), 1], dtype=np.int64),
             "a": np.array([2, 3], dtype=np.int64), "st": np.array([-2, -3], dtype=np.int64)}
    model = _model([helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"])], inits, [1, 3, 4, 2])
    path = tmp_path / "flip.onnx"
    onnx.save(model, path)
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    (expected,) = ReferenceEvaluator(model).run(None, {"x": x})  # ONNX's own implementation
    assert expected.shape == (1, 3, 4, 2)
    assert cnnprofile.profile(str(path)).output_shapes == (("", expected.shape),)


def _run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result, result.output.strip().splitlines()


def test_bad_files_are_one_line(tmp_path, exported):
    text = tmp_path / "notes.onnx"
    text.write_text("these are my notes, not a network\n" * 20)
    truncated = tmp_path / "cut.onnx"
    data = Path(exported("resnet50", KEPT)).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    custom = tmp_path / "custom.onnx"
    onnx.save(_custom_model(), custom)
    cases = [(str(tmp_path / "missing.onnx"), "no such file"),
             (str(text), "is not a readable ONNX model (truncated, or not ONNX)"),
             (str(truncated), "is not a readable ONNX model (truncated, or not ONNX)"),
             (str(custom), "ONNX op Frobnicate is not supported and ONNX's shape inference gives no shape")]
    for spec, expected in cases:
        result, lines = _run("table", spec)
        assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], (spec, result.output)


def _custom_model():
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Frobnicate", ["x"], ["z"], domain="example.ops"), helper.make_node("Relu", ["z"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18),
                                                   helper.make_opsetid("example.ops", 1)])


def test_missing_onnx_is_one_line(tmp_path):
    (tmp_path / "onnx.py").write_text("raise ImportError('No module named onnx')\n")
    (tmp_path / "m.onnx").write_bytes(b"")
    spec = str(tmp_path / "m.onnx")
    code = f"import sys; from cnnprofile.cli import main; sys.argv=['cnnprofile', 'table', {spec!r}]; main()"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "Error: onnx is not installed; pip install 'cnnprofile[onnx]'"

