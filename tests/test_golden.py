"""The exact bytes of `cnnprofile table ...`, as a user sees them: any change to a printed figure, label,
alignment or convention fails here. After an intended change, regenerate and review the diff:

    python -m pytest tests/test_golden.py --update-golden
"""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli

GOLDEN = Path(__file__).parent / "golden"
README = Path(__file__).parent.parent / "README.md"

# golden file -> the command line that prints it
CASES = {
    "table_vgg16.txt": ["table", "vgg16"],
    "table_alexnet.txt": ["table", "alexnet"],
    "table_resnet50_depth2.txt": ["table", "resnet50", "--depth", "2"],
    # pool5 (features.30) must read 212 / 32 / 90 (Araujo et al., Distill 2019).
    "table_vgg16_rf.txt": ["table", "vgg16", "--rf"],
    # Backward of one training step per row: conv1 computes no input gradient (backward MACs = forward MACs).
    "table_resnet18_train_depth1.txt": ["table", "resnet18", "--train", "--depth", "1"],
    # Deployed: conv1 gains its 64 biases (9,408 + 64), bn1 is an identity with no parameters and no FLOPs.
    "table_resnet18_reparam_depth1.txt": ["table", "resnet18", "--reparam", "--depth", "1"],
    # Sliding windows against one FCN pass: the lecture's 8x8 grid for VGG-16 and its 6x8 blocks for AlexNet.
    "windows_vgg16.txt": ["windows", "vgg16", "--image", "448x448", "--window-sizes", "224,320,448"],
    "windows_alexnet_blocks.txt": ["windows", "alexnet", "--image", "450x600", "--blocks", "6x8",
                                   "--window-sizes", "3x3,2x2,4x4"],
}


@pytest.mark.parametrize("golden", sorted(CASES))
def test_output_matches_the_golden_file(golden, request):
    result = CliRunner().invoke(cli, CASES[golden])
    assert result.exit_code == 0, result.output
    path = GOLDEN / golden
    if request.config.getoption("--update-golden"):
        path.write_text(result.output, encoding="utf-8")
    assert result.output == path.read_text(encoding="utf-8"), f"`cnnprofile {' '.join(CASES[golden])}` changed"


def test_readme_shows_the_golden_vgg16_table():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"`cnnprofile table vgg16` prints:\n\n<!-- output: table vgg16 -->\n```\n(.*?)```\n", text, re.S)
    assert match, "README's `cnnprofile table vgg16` example is missing"
    assert match.group(1) == (GOLDEN / "table_vgg16.txt").read_text(encoding="utf-8")
