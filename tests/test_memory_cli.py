"""``cnnprofile memory`` through the real ``cli`` group: JSON keys, text breakdown, and exit 2 on bad input."""
import json

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.analyses.memory import JSON_KEYS


def _run(*args):
    result = CliRunner().invoke(cli, ["memory", *args], catch_exceptions=False)
    return result


def test_json_has_exactly_the_documented_keys():
    result = _run("lenet5", "--train", "--optimizer", "adam", "--device", "cpu", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == list(JSON_KEYS)
    assert all(isinstance(v, int) for v in data.values())
    assert data["optimizer_state_bytes"] == 2 * data["gradients_bytes"] > 0


def test_fit_adds_max_batch():
    result = _run("lenet5", "--fit", "2MB", "--device", "cpu", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["peak_bytes"] <= 2_000_000 and data["batch"] == data["max_batch"] > 1


def test_text_shows_the_breakdown_and_definitions():
    result = _run("lenet5", "--train", "--trainable", "f6.*", "--device", "cpu")
    assert result.exit_code == 0, result.output
    for text in ("peak", "optimizer state", "activations saved for backward", "Alive at the peak",
                 "Fine-tuning vs full training", "Definitions:", "inference peak =", "Target:"):
        assert text in result.output


@pytest.mark.parametrize("args,message", [
    (["--train", "--optimizer", "rmsprop"], "unknown optimizer"),
    (["--fit", "lots"], "'lots': expected a positive number with a unit"),
    (["--fit", "0GB"], "'0GB': expected a positive number with a unit"),
    (["--fit", "-5GB"], "'-5GB': expected a positive number with a unit"),
    (["--fit", "24"], "'24': expected a positive number with a unit"),
    (["--fit", "24GB", "--batch", "8"], "cannot be combined with --batch"),
    (["--optimizer", "adam"], "--optimizer needs --train"),
    (["--optimizer", "adam", "--freeze", "f6.*"], "--optimizer and --freeze need --train"),
    (["--train", "--trainable", "nothing.*"], "matches no parameter"),
    (["--amp", "int8"], "not an autocast dtype"),
    (["--train", "--freeze", "*"], "nothing is trainable"),
    (["--fit", "1kB"], "does not fit"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(cli, ["memory", "lenet5", "--device", "cpu", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
