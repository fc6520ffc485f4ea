"""``edgeemo models``: the zoo, with cost and attached weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgeemo.cli.common import esc, JsonOpt, console, human, print_json


def models(
    pattern: Annotated[str, typer.Argument(help="Glob over zoo names, e.g. 'resnet*'.")] = "*",
    json_out: JsonOpt = False,
) -> None:
    """List the zoo models: input, classes, MACC, params and whether trained weights are attached."""
    from edgeemo.zoo import zoo_entries

    entries = zoo_entries(pattern)
    if json_out:
        print_json([e.to_dict() for e in entries])
        return
    table = Table(title="edgeemo model zoo")
    for col in ("name", "input", "order", "classes", "MACC", "params", "budget", "weights", "val macro-R"):
        table.add_column(col, justify="right" if col in ("classes", "MACC", "params", "budget", "val macro-R") else "left", no_wrap=True)
    for e in entries:
        recall = (e.metrics or {}).get("macro_recall")
        table.add_row(
            esc(e.name),
            "x".join(map(str, e.input_shape)),
            e.channel_order,
            str(len(e.labels)),
            human(e.macc),
            human(e.params),
            f"{e.budget_fraction:.0%}",
            Path(e.weights).name if e.weights else "[dim]random[/dim]",
            f"{recall:.3f}" if recall is not None else "-",
        )
    console.print(table)
