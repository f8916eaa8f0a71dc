"""timm networks whose constructor runs a submodule on a CPU input made without a device (the hybrid ViTs'
patch embedding runs its ResNet backbone on ``torch.zeros`` to read the feature map's size; ViTamin's too) build
on the meta device, and their parameters equal timm's published RTX 4090 benchmark file (0.01 M rounding)."""
import json

import pytest
from click.testing import CliRunner

import cnnprofile
from cnnprofile.cli import cli
from test_timm_benchmark_file import published

pytest.importorskip("timm")

CASES = [("vit_tiny_r_s16_p8_224", 224), ("vit_small_r26_s32_224", 224), ("vitamin_small_224", 224)]


@pytest.mark.parametrize("arch, size", CASES)
def test_hybrid_embedding_models_profile_on_meta(arch, size):
    params_m, gmacs = published()[(arch, size)]
    prof = cnnprofile.profile(f"timm:{arch}", (3, size, size))
    assert prof.engine == "meta"
    assert round(prof.totals.params / 1e6, 2) == params_m
    assert 0.95 * gmacs <= prof.totals.macs / 1e9 <= gmacs + 0.005, (prof.totals.macs, gmacs)


def test_cli_table_of_a_hybrid_vit():
    done = CliRunner().invoke(cli, ["table", "timm:vit_tiny_r_s16_p8_224", "--format", "json"])
    assert done.exit_code == 0, done.output
    totals = json.loads(done.output)["totals"]
    assert round(totals["params"] / 1e6, 2) == published()[("vit_tiny_r_s16_p8_224", 224)][0]
