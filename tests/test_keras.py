"""Keras 3 models on the torch backend: ``keras:NAME``, a user's file returning a ``keras.Model`` (the lecture's
flowers and localization models, examples/keras_flowers.py), and their bad inputs.

Parameters are checked against Keras's own ``count_params()`` and the figures keras.io publishes for
``keras.applications`` (the per-model counts Keras prints for each application); MACs against torch's
``FlopCounterMode`` on the same forward pass and against our PyTorch zoo model of the same architecture.
"""
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import cnnprofile  # noqa: E402
from cnnprofile.cli import cli  # noqa: E402
from cnnprofile.sources.keras_bridge import KerasAsTorch, keras_on_meta  # noqa: E402

ROOT = Path(__file__).parent.parent
FLOWERS = str(ROOT / "examples" / "keras_flowers.py")

# keras.io/api/applications: total parameters of each application with its top (include_top=True).
PUBLISHED = {"Xception": 22_910_480, "ResNet50": 25_636_712, "VGG16": 138_357_544, "InceptionV3": 23_851_784,
             "MobileNetV2": 3_538_984, "EfficientNetB0": 5_330_571}


@functools.lru_cache(maxsize=None)
def profiled(spec: str):
    """A spec's profile, made once per session (profiles are frozen records)."""
    return cnnprofile.profile(spec)


def build(name, **kwargs):
    with keras_on_meta():
        return getattr(keras.applications, name)(weights=None, **kwargs)


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result, result.output.strip().splitlines()


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameters_are_keras_own_count_and_the_published_one(name):
    p = profiled(f"keras:{name}")
    model = build(name)
    assert p.totals.params == model.count_params() == PUBLISHED[name]
    assert p.unused_params == 0
    frozen = sum(int(torch.Size(w.shape).numel()) for w in model.non_trainable_weights)
    assert f"{PUBLISHED[name] - frozen:,} trainable + {frozen:,} non-trainable" in p.engine_note
    assert p.channels_last and p.input_shape[-1] == 3 and not p.uncounted_ops


def test_xception_non_trainable_are_the_batch_norm_statistics():
    p = profiled("keras:Xception")
    assert "20,806,952" not in p.engine_note and "22,855,952 trainable + 54,528 non-trainable" in p.engine_note
    # Each BatchNormalization row holds 4 x channels: gamma, beta and the two moving statistics.
    bn = [r for r in p.layers if r.type == "BatchNormalization"]
    assert sum(r.params for r in bn) == 2 * 54_528


@pytest.mark.parametrize("name, size", [("Xception", 299), ("ResNet50", 224), ("MobileNetV2", 224)])
def test_macs_equal_torch_flop_counter_on_the_same_forward(name, size):
    from torch.utils.flop_counter import FlopCounterMode

    model = build(name)
    with keras_on_meta(), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, size, size, 3, device="meta"))
    assert profiled(f"keras:{name}").totals.macs == counter.get_total_flops() // 2


def test_macs_equal_our_pytorch_models_of_the_same_architecture():
    assert profiled("keras:Xception").totals.macs == profiled("xception").totals.macs
    # Keras's ResNet50 puts the stride in the first 1x1 convolution, as the paper (our resnet50) does.
    assert profiled("keras:ResNet50").totals.macs == profiled("resnet50").totals.macs \
        == 3_857_973_248
    # The trainable weights are our Xception's parameters (its batch-norm statistics are buffers).
    assert "22,855,952 trainable" in profiled("keras:Xception").engine_note
    assert profiled("xception").totals.params == 22_855_952


def test_rows_are_the_keras_layers_each_once_and_the_ops_are_shown_as_they_are():
    p = profiled("keras:ResNet50")
    model = build("ResNet50")
    called = [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert sorted(r.name for r in p.layers[1:]) == sorted(called)
    conv = next(r for r in p.layers if r.name == "conv1_conv")
    assert (conv.kind, conv.kernel_size, conv.out_features) == ("conv", (7, 7), 64)
    assert conv.output_shape == (1, 112, 112, 64)
    assert conv.params == 7 * 7 * 3 * 64 + 64 and conv.macs == 112 * 112 * 64 * 7 * 7 * 3
    # NHWC -> NCHW and back around the convolution: the input, the kernel and the output are copied.
    assert conv.activation_elems == 2 * 230 * 230 * 3 + 7 * 7 * 3 * 64 + 2 * 112 * 112 * 64
    assert [r.name for r in p.layers if r.kind == "pool"] == ["pool1_pool", "avg_pool"]


def _small_net():
    inner = keras.Sequential([keras.Input((8, 8, 4)), keras.layers.Conv2D(6, 3, name="c2", use_bias=False)],
                             name="inner")
    x = keras.Input((10, 10, 3))
    y = keras.layers.Conv2D(4, 3, name="c1")(x)
    y = keras.layers.BatchNormalization(name="bn")(y)
    y = inner(y)
    y = keras.layers.MaxPooling2D(2, name="pool")(y)
    y = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    return keras.Model(x, keras.layers.Dense(2, name="fc")(y))


def test_a_hand_counted_net_with_a_nested_model():
    with keras_on_meta():
        model = _small_net()
    p = cnnprofile.profile(model, (1, 10, 10, 3))
    rows = {r.name: r for r in p.layers}
    assert list(rows) == ["input", "c1", "bn", "inner.c2", "pool", "gap", "fc"]
    assert rows["c1"].params == 3 * 3 * 3 * 4 + 4 and rows["c1"].macs == 8 * 8 * 4 * 27
    assert rows["bn"].params == 4 * 4  # gamma, beta, moving mean and variance
    assert rows["inner.c2"].params == 3 * 3 * 4 * 6 and rows["inner.c2"].macs == 6 * 6 * 6 * 36
    assert rows["inner.c2"].depth == 2 and rows["pool"].output_shape == (1, 3, 3, 6)
    assert rows["fc"].params == 6 * 2 + 2 and rows["fc"].macs == 12
    assert p.totals.params == model.count_params()
    # The same net built on the CPU (a user's own model): its weights are copied to meta where they are used,
    # which a real run does not do, so the profile is the same and the model keeps its CPU weights.
    on_cpu = _small_net()
    q = cnnprofile.profile(on_cpu, (1, 10, 10, 3))
    assert [(r.name, r.params, r.macs, r.flops, r.activation_elems) for r in q.layers] == \
        [(r.name, r.params, r.macs, r.flops, r.activation_elems) for r in p.layers]
    assert {v.value.device.type for v in on_cpu.weights} == {"cpu"}


def test_nothing_leaves_the_meta_device():
    """Keras pools on the CPU when it is on meta; inside keras_on_meta every op's tensors are meta."""
    from torch.utils._python_dispatch import TorchDispatchMode

    devices = set()

    class Devices(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in (*args, *(kwargs or {}).values(), out):
                if isinstance(t, torch.Tensor):
                    devices.add(t.device.type)
            return out

    model = build("Xception")  # max pooling in every block
    with keras_on_meta(), Devices():
        model(torch.empty(1, 299, 299, 3, device="meta"))
    assert devices == {"meta"}


def test_the_lecture_flowers_model_table_totals_match_keras():
    result, lines = run("table", f"{FLOWERS}:flowers", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    doc = json.loads(result.output)
    assert doc["input_shape"] == [1, 224, 224, 3]
    assert doc["totals"]["params"] == 20_861_480 + 5 * 2048 + 5  # the base without its top, and the head
    assert "10,245 trainable + 20,861,480 non-trainable" in doc["engine_note"]
    p = cnnprofile.profile(f"{FLOWERS}:localization")
    assert [shape for _, shape in p.output_shapes] == [(1, 5), (1, 4)]
    assert p.totals.params == 20_861_480 + 5 * 2048 + 5 + 4 * 2048 + 4


def test_memory_honours_layer_trainable():
    frozen = cnnprofile.memory(f"{FLOWERS}:flowers", batch=2, train=True, optimizer="sgd-momentum")
    thawed = cnnprofile.memory(f"{FLOWERS}:flowers", batch=2, train=True, optimizer="sgd-momentum",
                               kwargs={"frozen": False})
    assert frozen.trainable_params == 5 * 2048 + 5
    # The moving statistics are buffers, as in PyTorch: no layer.trainable makes them trainable.
    assert thawed.trainable_params == 20_861_480 - 54_528 + 5 * 2048 + 5 and thawed.frozen_params == 0
    assert frozen.frozen_params == 20_861_480 - 54_528 and frozen.buffers_bytes == thawed.buffers_bytes
    assert 4 * 54_528 <= thawed.buffers_bytes < 4 * 54_528 + 512 * 80
    # Momentum keeps one buffer per trainable parameter, and every trainable parameter gets its gradient
    # (each tensor rounded up to the allocator's 512 bytes).
    for report in (frozen, thawed):
        assert 4 * report.trainable_params <= report.gradients_bytes < 4 * report.trainable_params + 512 * 300
        assert report.optimizer_state_bytes == report.gradients_bytes
    assert frozen.backward_macs < 1e-4 * thawed.backward_macs and frozen.peak_bytes < thawed.peak_bytes


def test_the_memory_adapter_leaves_the_model_as_it_was():
    model = build("MobileNetV2")
    before = [(v.path, v.value.requires_grad, v.value.device.type) for v in model.weights]
    adapter = KerasAsTorch(model)
    params, buffers = sum(p.numel() for p in adapter.parameters()), sum(b.numel() for b in adapter.buffers())
    assert params + buffers == model.count_params() and buffers == 34_112  # the moving statistics
    assert [n for n, _ in adapter.named_modules()][1:] == [layer.name for layer in model.layers]
    cnnprofile.memory(model, (1, 224, 224, 3), train=True)
    assert [(v.path, v.value.requires_grad, v.value.device.type) for v in model.weights] == before
    assert len(list(model.named_modules())) == 2  # Keras registers no layers as torch children


@pytest.mark.parametrize("args, expected", [
    (["keras:Xceptoin"], "unknown Keras application 'Xceptoin'; did you mean Xception"),
    (["keras:Xception", "--engine", "real"], "Keras models are counted on the meta device only"),
    (["keras:Xception", "--kwargs", '{"weights": "imagenet"}'], "built with weights=None"),
    (["keras:MobileNetV2", "--rf"], "receptive fields of Keras models are not computed"),
    (["keras:MobileNetV2", "--dtype", "float16"], "a Keras model is profiled in its own dtype (float32)"),
])
def test_errors_are_one_line(args, expected):
    result, lines = run("table", *args)
    assert result.exit_code == 2
    assert len(lines) == 1 and expected in lines[0], result.output


def test_compare_shows_no_receptive_field_for_a_keras_model():
    result, lines = run("compare", "keras:MobileNetV2", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    row = json.loads(result.output)["models"][0]
    assert row["receptive_field"] is None and row["params"] == 3_538_984


def _cli(env: dict, *args, pythonpath: str = "") -> subprocess.CompletedProcess:
    code = f"import sys; from cnnprofile.cli import main; sys.argv=['cnnprofile', *{list(args)!r}]; main()"
    path = os.pathsep.join(p for p in (pythonpath, str(ROOT)) if p)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": path, **env})


def test_missing_keras_is_one_line(tmp_path):
    (tmp_path / "keras.py").write_text("raise ModuleNotFoundError(\"No module named 'keras'\", name='keras')\n")
    proc = _cli({}, "table", "keras:Xception", pythonpath=str(tmp_path))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.strip() == ("Error: Keras is not installed; pip install 'cnnprofile[keras]' (Keras 3, which "
                                   "cnnprofile runs on the torch backend)")


def test_a_backend_keras_cannot_load_is_one_line():
    proc = _cli({"KERAS_BACKEND": "jax"}, "table", "keras:MobileNetV2")  # jax is not installed
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "Error: Keras cannot be imported with KERAS_BACKEND='jax' (no module 'jax'); cnnprofile runs Keras on the "
        "torch backend: set KERAS_BACKEND=torch")


def test_a_model_on_another_backend_is_one_line(monkeypatch):
    model = build("MobileNetV2")
    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    expected = "on the 'tensorflow' backend"
    for args in (["table", "keras:MobileNetV2"], ["table", f"{FLOWERS}:flowers"]):
        result, lines = run(*args)
        assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.output
    with pytest.raises(cnnprofile.CnnprofileError, match=expected):
        cnnprofile.profile(model, (1, 224, 224, 3))


def test_the_flowers_table_matches_the_golden_file(request):
    """The exact bytes of `cnnprofile table examples/keras_flowers.py:flowers`, in a fresh process: Keras numbers
    the layers it names itself (conv2d, conv2d_1, dense) per process. Regenerate with --update-golden."""
    proc = subprocess.run([sys.executable, "-m", "cnnprofile", "table", "examples/keras_flowers.py:flowers"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    path = ROOT / "tests" / "golden" / "table_keras_flowers.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(proc.stdout, encoding="utf-8")
    assert proc.stdout == path.read_text(encoding="utf-8"), "the flowers table changed"
