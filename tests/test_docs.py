"""Every `$ edgeemo ...` command in docs/guide.md runs as written and exits 0, and prints what the guide shows.

An output block right after a command block is what its last command prints: every token of a shown line must appear,
in order, on one line of the real output, except tokens written with a leading `~` (timings and other figures that
differ between machines and runs). `runs/guide/` in the guide is a temporary folder here: the checkout stays clean
and a second run starts from nothing."""

from __future__ import annotations

import re
import shlex

from conftest import ROOT, SHARED_DATA

import pytest

GUIDE = ROOT / "docs" / "guide.md"
BOX = "│┃┏┓┗┛┡┩└┘━─┳┻╇╈┼╋|"


def guide_examples() -> list[tuple[str, list[str] | None]]:
    """(command, shown output lines or None) in the guide's order."""
    blocks, current, inside = [], [], False
    for line in GUIDE.read_text().splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append(current)
                current = []
            inside = not inside
        elif inside:
            current.append(line)
        elif line.strip() and blocks and blocks[-1] is not None:
            blocks.append(None)  # prose between blocks: an output block must follow its command block directly
    examples: list[tuple[str, list[str] | None]] = []
    for i, block in enumerate(blocks):
        if block is None:
            continue
        commands = [line[2:].strip() for line in block if line.startswith("$ edgeemo")]
        if commands:
            shown = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1] is not None else None
            if shown is not None and any(line.startswith("$ ") for line in shown):
                shown = None
            examples += [(c, None) for c in commands[:-1]] + [(commands[-1], shown)]
    return examples


EXAMPLES = guide_examples()


def tokens(line: str) -> list[str]:
    return [t for t in re.split(r"\s+", line.translate({ord(c): " " for c in BOX})) if t]


def shows(actual: str, shown_line: str) -> bool:
    """The shown line's fixed tokens appear in order on one line of the actual output."""
    wanted = [t for t in tokens(shown_line) if "~" not in t]
    for line in actual.splitlines():
        have, i = tokens(line), 0
        for token in have:
            if i < len(wanted) and token == wanted[i]:
                i += 1
        if i == len(wanted):
            return True
    return not wanted


def test_guide_has_examples_with_outputs():
    assert len(EXAMPLES) >= 8
    assert sum(shown is not None for _, shown in EXAMPLES) >= 5


def test_guide_commands_run_and_print_what_the_guide_shows(cli, tmp_path):
    if not SHARED_DATA.is_dir():
        pytest.skip("the guide's examples read ../shared/data")
    for command, shown in EXAMPLES:
        args = [a.replace("runs/guide", str(tmp_path / "guide")) for a in shlex.split(command)[1:]]
        result = cli(*args)
        assert result.code == 0, f"{command}\n{result.stderr}"
        if "--json" in args:
            result.json()
        for line in shown or []:
            assert shows(result.stdout + result.stderr, line), f"{command}\nthe guide shows: {line}\nit printed:\n{result.stdout}"
