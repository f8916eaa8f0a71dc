"""Model sources: the zoo, torchvision, timm, a user's file and a user's module, from the CLI and the API."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnnprofile
from cnnprofile.cli import cli
from cnnprofile.sources import resolve_model, resolve_models

TINY = str(Path(__file__).parent / "models" / "tiny.py")


def tiny_macs(num_classes=10, width=8):
    """Hand count for tests/models/tiny.py at 1x3x32x32."""
    hw = 32 * 32
    return hw * width * 3 * 9 + hw * width * width * 9 + hw * width * width + 2 * width * num_classes


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result, result.output.strip().splitlines()


def test_file_factory_from_api_with_declared_input_and_kwargs():
    p = cnnprofile.profile(f"{TINY}:build", kwargs={"num_classes": 5, "width": 4})
    assert p.input_shape == (1, 3, 32, 32)  # from the module's INPUT_SIZE
    assert p.totals.macs == tiny_macs(5, 4)
    assert p.layers[-1].output_shape == (1, 5)
    names = [r.name for r in p.layers]
    assert "(model)" in names  # the residual add and the cat run in the model's own forward


def test_file_factory_from_cli_with_kwargs_and_fvcore():
    result, lines = run("table", f"{TINY}:build", "--kwargs", '{"num_classes": 3}', "--format", "json", "--exact")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"]["macs"] == tiny_macs(3)
    result, _ = run("table", f"{TINY}:build", "--engine", "fvcore", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["engine"] == "fvcore"
    assert json.loads(result.output)["totals"]["macs"] == tiny_macs()


def test_module_factory_is_importable_from_the_current_directory(tmp_path, monkeypatch):
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(textwrap.dedent("""
        from torch import nn
        def small(channels=4):
            return nn.Sequential(nn.Conv2d(1, channels, 3, bias=False), nn.ReLU())
        small.input_size = (1, 8, 8)
    """))
    monkeypatch.chdir(tmp_path)
    source = resolve_model("userpkg.nets:small", {"channels": 2})
    assert source.origin == "module" and source.input_size == (1, 8, 8)
    assert cnnprofile.profile("userpkg.nets:small", kwargs={"channels": 2}).totals.macs == 6 * 6 * 2 * 9
    result, _ = run("table", "userpkg.nets:small", "--input", "1x1x10x10", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["macs"] == 8 * 8 * 4 * 9


def test_torchvision_source_metadata_and_native_size():
    source = resolve_model("torchvision:inception_v3")
    assert source.input_size == (3, 299, 299)  # weights.transforms().crop_size
    assert source.published.num_params == 27161264 and source.published.top1 == pytest.approx(77.294)
    assert source.weights == "Inception_V3_Weights.IMAGENET1K_V1" and source.task == "classification"
    assert resolve_model("torchvision:resnet50").input_size == (3, 224, 224)
    p = cnnprofile.profile("torchvision:resnet18")
    assert p.model == "torchvision:resnet18" and p.totals.params == 11689512
    result, _ = run("table", "torchvision:resnet18", "--kwargs", '{"num_classes": 10}', "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)["totals"]["params"] == 11689512 - 513000 + 5130


def test_globs_select_many():
    names = [s.name for s in resolve_models(["torchvision:resnet*", "vgg1?"])]
    assert names[:5] == [f"torchvision:resnet{d}" for d in (101, 152, 18, 34, 50)]
    assert set(names[5:]) == {"vgg11", "vgg13", "vgg16", "vgg19"}
    assert len(resolve_models(["torchvision:*"])) >= 80


def test_timm_source():
    pytest.importorskip("timm", reason="timm is optional; its error without it is tested below")
    p = cnnprofile.profile("timm:resnet18")
    assert p.input_shape == (1, 3, 224, 224) and p.totals.params == 11689512


def test_missing_timm_is_one_line(tmp_path):
    # A stand-in 'timm' that fails to import, as when it is not installed.
    (tmp_path / "timm.py").write_text("raise ImportError('No module named timm')\n")
    code = "import sys; from cnnprofile.cli import main; sys.argv=['cnnprofile','table','timm:resnet18']; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": ""}, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "Error: timm is not installed; pip install timm"


@pytest.mark.parametrize("args, expected", [
    (["tests/models/nope.py:build"], "no such file: tests/models/nope.py"),
    ([f"{TINY}:missing"], "has no callable 'missing'; it defines"),
    ([f"{TINY}:broken"], "failed: RuntimeError: cannot build this one"),
    ([f"{TINY}:not_a_module"], "returned int, not a torch.nn.Module"),
    ([f"{TINY}:build", "--kwargs", "{oops"], "Invalid value for '--kwargs': not valid JSON"),
    ([f"{TINY}:build", "--kwargs", '{"depth": 3}'], "unexpected keyword argument 'depth'"),
    (["torchvision:resnet5O"], "unknown torchvision model 'resnet5O'; did you mean resnet50"),
    (["torchvision:fasterrcnn_resnet51_fpn"], "did you mean fasterrcnn_resnet50_fpn"),
    (["no_such_package_xyz.mod:build"], "cannot import module 'no_such_package_xyz.mod'"),
    (["vgg16", "--engine", "nope"], "Invalid value for '--engine'"),
])
def test_errors_are_one_line(args, expected):
    result, lines = run("table", *args)
    assert result.exit_code == 2
    assert len(lines) == 1 and expected in lines[0], result.output


def test_a_file_without_input_size_needs_input(tmp_path):
    f = tmp_path / "net.py"
    f.write_text("from torch import nn\ndef make():\n    return nn.Conv2d(3, 4, 3)\n")
    result, lines = run("table", f"{f}:make")
    assert result.exit_code == 2 and len(lines) == 1 and "does not declare its input size; pass --input" in lines[0]
    result, _ = run("table", f"{f}:make", "--input", "1x3x5x5", "--format", "json")
    assert json.loads(result.output)["totals"]["macs"] == 3 * 3 * 4 * 27


def test_table_of_a_zoo_model_stays_light():
    # cli.main, not the console script's main: that one ends the process without returning
    code = ("import sys; from cnnprofile.cli import cli; sys.argv=['cnnprofile','table','vgg16']\n"
            "try: cli.main()\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('torchvision', 'timm', 'fvcore', 'keras', 'ray', 'plotly', 'scipy', 'sympy') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
