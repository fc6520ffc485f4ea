"""--help reads as Typer/Click users expect: argument names as MODEL, value types as TEXT/INTEGER, flags bare."""

import re

import pytest
from typer.testing import CliRunner

from edgeemo.cli import app

COMMANDS = ["demo", "report", "models", "profile", "convert", "eval", "quantize", "bench", "deploy", "unpack", "run",
            "testclip", "predict", "train", "targets"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_labels(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "160", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert not re.search(r"<(str|bool|int|float|list\[str\])>", text), text
    assert not re.search(r"\{[A-Z_]+\}", text), text  # usage line: MODEL, not {MODEL}
    for line in text.splitlines():
        if "--json" in line or "--trust-checkpoint" in line:
            assert "BOOLEAN" not in line, line  # a flag takes no value
    import typer

    params = typer.main.get_command(app).commands[command].params
    assert not [p.name for p in params if not p.help], "every option and argument says what it does"


def test_command_list_flows_each_summary():
    """`edgeemo --help` lists each command with its docstring's first paragraph; Typer's rich help kept the
    docstring's line breaks there (and in each command's own page), so train's, run's and five others' summaries
    broke mid-sentence at any width."""
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert set(COMMANDS) <= set(lines), sorted(lines)
    for command in COMMANDS:  # 400 columns hold every summary on its command's line
        assert lines[command].rstrip(" │").endswith((".", ")", "`.")), lines[command]
    assert "one-cycle cosine schedule and early stopping" in lines["train"]
    page = CliRunner().invoke(app, ["bench", "--help"], env={"COLUMNS": "400", "NO_COLOR": "1"}).output
    assert "copy it to the device with scp, verify and self-test it there" in page  # later paragraphs flow too
