"""Every `$ edgeemo ...` command in docs/guide.md runs as written and exits 0."""

import shlex

from conftest import ROOT, SHARED_DATA

import pytest

COMMANDS = [line[2:].strip() for line in (ROOT / "docs" / "guide.md").read_text().splitlines() if line.startswith("$ edgeemo")]


def test_guide_has_examples():
    assert len(COMMANDS) >= 8


def test_guide_commands_run(cli):
    if not SHARED_DATA.is_dir():
        pytest.skip("the guide's examples read ../shared/data")
    for command in COMMANDS:
        args = shlex.split(command)[1:]
        result = cli(*args)
        assert result.code == 0, f"{command}\n{result.stderr}"
        if "--json" in args:
            result.json()
