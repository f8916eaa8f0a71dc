"""Any input, any output: counts by hand for tiny models of each kind, structured outputs, spec errors, wrappers,
and torchvision's video, segmentation and detection models against an oracle we did not write."""
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnnprofile
from cnnprofile.cli import cli
from cnnprofile.errors import InputError
from cnnprofile.inputs import Inputs, TensorSpec, from_specs, parse_input, resolve_inputs, to_inputs
from cnnprofile.sources import resolve_model

KINDS = str(Path(__file__).parent / "models" / "kinds.py")


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result, result.output.strip().splitlines()


def table_json(model, *args):
    result, _ = run("table", f"{KINDS}:{model}", *args, "--format", "json", "--exact")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# --- hand counts -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, inputs, macs, params, out", [
    # Conv1d: 100 outputs x 4 channels x (2 x 5) + Linear 4 x 3
    ("audio", ["1x2x100"], 100 * 4 * 2 * 5 + 4 * 3, (4 * 2 * 5 + 4) + (4 * 3 + 3), [1, 3]),
    # Conv3d: 4x8x8 positions x 4 channels x 3 x 27
    ("video", ["1x3x4x8x8"], 4 * 8 * 8 * 4 * 3 * 27, 4 * 3 * 27 + 4, [1, 4, 4, 8, 8]),
    # ConvTranspose1d: every input element (4 x 10) x C_out 2 x k 3; length (10 - 1) x 2 + 3
    ("upsample", ["1x4x10"], 4 * 10 * 2 * 3, 4 * 2 * 3 + 2, [1, 2, 21]),
    # 1x1 conv over 8x8 (3 -> 4) + Linear 5 -> 4
    ("two_inputs", ["1x3x8x8", "1x5"], 64 * 4 * 3 + 5 * 4, (4 * 3 + 4) + (5 * 4 + 4), [1, 4]),
    # Linear 6 -> 6 on 10 positions; the mask multiplies
    ("masked", ["1x10x6", "mask=1x10:bool"], 10 * 6 * 6, 6 * 6 + 6, [1, 10, 6]),
    # the embedding looks up (no MACs); Conv1d 8 -> 8, k 3, 10 outputs
    ("tokens", ["1x12:int64"], 10 * 8 * 8 * 3, 50 * 8 + 8 * 8 * 3 + 8, [1, 8, 10]),
    # conv 3 -> 4, k 3, 4x4 outputs; two heads 4 -> 10 and 4 -> 4
    ("dict_output", ["1x3x6x6"], 16 * 4 * 27 + 40 + 16, (4 * 27 + 4) + 50 + 20, [1, 10]),
])
@pytest.mark.parametrize("engine", ["meta", "real"])
def test_hand_counted_tiny_models_from_the_cli(model, inputs, macs, params, out, engine):
    args = [a for i in inputs for a in ("--input", i)]
    data = table_json(model, *args, "--engine", engine)
    assert data["engine"] == engine
    assert data["totals"]["macs"] == macs and data["totals"]["params"] == params
    assert list(data["output_shapes"].values())[0] == out
    assert [i["shape"] for i in data["inputs"]] == [[int(d) for d in s.split("=")[-1].split(":")[0].split("x")]
                                                    for s in inputs]


def test_every_output_of_a_structured_output_is_in_the_json():
    data = table_json("dict_output", "--input", "1x3x6x6")
    assert data["output_shapes"] == {"logits": [1, 10], "box": [1, 4]}
    p = cnnprofile.profile(resolve_model(f"{KINDS}:dataclass_output"), (2, 3))
    assert p.output_shapes == (("logits", (2, 2)), ("features", (2, 3)))
    assert p.calls[0].output_shape == (2, 2)  # the model's row shows the main output


def test_token_ids_run_for_real_below_the_embedding_size():
    # an id >= 50 would raise "index out of range" in the real forward pass
    p = cnnprofile.profile(resolve_model(f"{KINDS}:tokens"), "1x4096:int64", engine="real")
    assert p.inputs == (("x", (1, 4096), "int64"),) and p.engine == "real"


def test_example_tensors_are_read_not_touched_and_nested_inputs_are_accepted():
    x = torch.randn(1, 2, 100)
    p = cnnprofile.profile(resolve_model(f"{KINDS}:audio"), x)
    assert p.totals.macs == 4012 and x.device.type == "cpu"
    spec = to_inputs(({"a": (1, 3), "b": torch.zeros(2, dtype=torch.int64)}, "1x4:bool"))
    assert spec.args == ({"a": TensorSpec((1, 3)), "b": TensorSpec((2,), torch.int64)}, TensorSpec((1, 4), torch.bool))
    assert [n for n, _ in spec.leaves()] == ["0.a", "0.b", "1"]


def test_a_module_shape_is_taken_as_written_and_a_named_model_may_omit_the_batch():
    assert cnnprofile.profile(nn.Conv1d(4, 8, 3), (1, 4, 100)).totals.macs == 98 * 8 * 4 * 3
    assert cnnprofile.profile(nn.Conv1d(4, 8, 3), (4, 100)).input_shape == (4, 100)  # unbatched, as written
    assert cnnprofile.profile("torchvision:resnet18", "3x32x32", batch=2).input_shape == (2, 3, 32, 32)
    native = Inputs((TensorSpec((1, 3, 16, 112, 112)),))
    assert resolve_inputs(native, "3x8x64x64").main.shape == (1, 3, 8, 64, 64)
    assert resolve_inputs(native, "2x3x8x64x64", batch=4).main.shape == (4, 3, 8, 64, 64)


def test_wrappers_are_unwrapped_and_the_user_module_is_left_as_it_was():
    from tests.models.tiny import build

    model = build().to(torch.float64).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    eager = cnnprofile.profile(model, (1, 3, 32, 32), engine="real")
    compiled = cnnprofile.profile(torch.compile(model), (1, 3, 32, 32))
    wrapped = cnnprofile.profile(nn.DataParallel(model), (1, 3, 32, 32))
    assert eager.totals.macs == compiled.totals.macs == wrapped.totals.macs > 0
    assert eager.totals.params == compiled.totals.params
    assert model.training and all(p.dtype == torch.float64 for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_timm_features_only_lists_every_feature_map():
    p = cnnprofile.profile("timm:resnet18", "1x3x64x64", kwargs={"features_only": True})
    assert [s for _, s in p.output_shapes] == [(1, 64, 32, 32), (1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4),
                                               (1, 512, 2, 2)]


# --- bad input: one line, exit 2, naming the input and the layer ---------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["audio", "--input", "1x3x"], "input '1x3x': malformed shape"),
    (["audio", "--input", "x="], "input 'x=': malformed shape"),
    (["audio", "--input", "1x3:float128"], "input '1x3:float128': unsupported dtype 'float128'"),
    (["masked", "--input", "1x10x6", "--input", "mask=1x10:bool", "--input", "bias=1x6"],
     "input bias=1x6: Masked.forward() takes no keyword 'bias'; it takes x, mask"),
    (["two_inputs", "--input", "1x3x8x8"], "TwoInputs.forward() needs 2 input(s) (image, features), given 1"),
    (["audio", "--input", "1x2x10x10"], "cannot run on input 1x2x10x10: layer '0' (Conv1d) takes a 3-D input"),
])
def test_bad_inputs_are_one_line_errors(args, expected):
    model, *rest = args
    result, lines = run("table", f"{KINDS}:{model}", *rest)
    assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0], result.output


def test_spec_grammar():
    assert parse_input("mask=1x128:bool") == ("mask", TensorSpec((1, 128), torch.bool))
    assert parse_input(" 1x3x16x112x112 ") == (None, TensorSpec((1, 3, 16, 112, 112)))
    assert from_specs(["1x3", "y=2:int64"]).kwargs == {"y": TensorSpec((2,), torch.int64)}
    with pytest.raises(InputError, match="positional inputs must come before keyword inputs"):
        from_specs(["y=2", "1x3"])


# --- torchvision against FlopCounterMode and the fallback -----------------------------------------------------

@pytest.mark.parametrize("name, shape", [("r3d_18", (1, 3, 16, 112, 112)), ("deeplabv3_resnet50", (1, 3, 520, 520))])
def test_video_and_segmentation_agree_with_torch_flop_counter(name, shape):
    source = resolve_model(f"torchvision:{name}")
    ours = cnnprofile.profile(source, shape)
    model = source.build("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.empty(shape, device="meta"))
    assert ours.totals.macs == counter.get_total_flops() // 2  # convolutions and matrix products only


def test_fasterrcnn_profiles_through_the_real_fallback_with_its_exact_parameters():
    small = {"min_size": 128, "max_size": 128, "rpn_pre_nms_top_n_test": 50, "rpn_post_nms_top_n_test": 10}
    source = resolve_model("torchvision:fasterrcnn_resnet50_fpn", small)
    p = cnnprofile.profile(source, "3x128x128")
    assert p.engine == "real" and "data-dependent" in p.engine_note
    assert p.totals.params == 41_755_286 == source.published.num_params and p.unused_params == 0
    assert {"0.boxes", "0.labels", "0.scores"} <= {path for path, _ in p.output_shapes}
    assert "torchvision.nms" in {u.op for u in p.uncounted_ops}
    with pytest.raises(cnnprofile.CnnprofileError, match="engine 'real'"):
        cnnprofile.profile(source, "3x128x128", engine="meta")
