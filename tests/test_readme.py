"""The README's printed examples are what the commands print today, so they cannot go stale.

An example is marked in README.md by an HTML comment naming the command (invisible on the rendered page):

    <!-- output: table vgg16 -->
    ```
    ...what `cnnprofile table vgg16` prints...
    ```
    <!-- end output -->

Between the markers: a fenced block (its fences dropped, and leading lines that echo the command, starting
"cnnprofile " or "$ cnnprofile ", dropped too) or plain Markdown (`--format markdown` output shown as it
renders). An example that starts "Error: " is a refusal (exit status 2). A line "..." stands for any run of
lines the README leaves out; every other line must match the command's output exactly (trailing spaces
aside), in order.
"""
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"
REGION = re.compile(r"<!-- output: (.+?) -->\n(.*?)<!-- end output -->", re.S)
ELLIPSIS = "..."


def examples(text: str) -> list:
    """[(command arguments, expected lines)] of every marked example."""
    out = []
    for m in REGION.finditer(text):
        body = m.group(2).strip("\n")
        lines = body.split("\n")
        if lines[0].startswith("```"):
            assert lines[-1].startswith("```"), f"unclosed fence in the example of {m.group(1)!r}"
            lines = lines[1:-1]
            while lines and lines[0].startswith(("cnnprofile ", "$ cnnprofile ")):
                lines = lines[1:]
        out.append((m.group(1), [line.rstrip() for line in lines]))
    return out


def matches(expected: list, printed: list) -> bool:
    """Whether ``printed`` is ``expected`` with each "..." standing for any run of lines (none included)."""
    printed = [line.rstrip() for line in printed]
    segments, current = [], []
    for line in expected:
        if line == ELLIPSIS:
            segments.append(current)
            current = []
        else:
            current.append(line)
    segments.append(current)
    if len(segments) == 1:
        return printed == segments[0]
    first, *middle, last = segments
    if printed[:len(first)] != first or (last and printed[len(printed) - len(last):] != last):
        return False
    at, end = len(first), len(printed) - len(last)
    for seg in middle:
        found = next((i for i in range(at, end - len(seg) + 1) if printed[i:i + len(seg)] == seg), None)
        if found is None:
            return False
        at = found + len(seg)
    return at <= end


EXAMPLES = examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_its_examples_marked():
    commands = [c for c, _ in EXAMPLES]
    assert len(commands) >= 7 and "table vgg16" in commands
    assert any(c.startswith("compare ") and "--format markdown" in c for c in commands)


def test_every_printed_layer_table_in_the_readme_is_a_checked_example():
    text = README.read_text(encoding="utf-8")
    unchecked = REGION.sub("", text)
    # the headers of the layer table and of compare's table: printed output the README shows
    for header in ("Memory (elems)", "Input (NxCxHxW)"):
        assert header in text and header not in unchecked, f"an unchecked example prints {header!r}"


@pytest.mark.parametrize("command,expected", EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_the_readme_example_is_what_the_command_prints(command, expected):
    result = CliRunner().invoke(cli, shlex.split(command))
    # an example of a refusal shows its one line on stderr, and the command exits with status 2
    assert result.exit_code == (2 if expected[:1] and expected[0].startswith("Error: ") else 0), result.output
    assert matches(expected, result.output.rstrip("\n").split("\n")), (
        f"README's example of `cnnprofile {command}` differs from what it prints:\n{result.output}")


def test_the_matcher_fails_on_a_stale_example():
    printed = ["a", "b", "c", "d"]
    assert matches(["a", "b", "c", "d"], printed) and matches(["...", "b", "c", "..."], printed)
    assert matches(["a", "...", "d"], printed) and matches(["a", "..."], printed)
    assert not matches(["a", "b", "c"], printed) and not matches(["...", "c", "b", "..."], printed)
    assert not matches(["a", "...", "x", "..."], printed) and not matches(["b", "..."], printed)
