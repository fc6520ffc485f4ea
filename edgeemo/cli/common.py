"""Shared CLI pieces: option aliases, number formatting, JSON printing."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts instead of tables.")]
InputShapeOpt = Annotated[
    str | None,
    typer.Option("--input-shape", help="Input shape, e.g. 1,3,64,64 (overrides a dynamic or unknown shape)."),
]


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2))


def human(n: float, unit: str = "") -> str:
    """62991365 -> '62.99M'."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{n:g}{unit}"
