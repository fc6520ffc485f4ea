"""``edgeemo models``: the zoo, with cost and attached weights."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from edgeemo.cli.common import esc, JsonOpt, console, human, print_json


def models(
    pattern: Annotated[str, typer.Argument(metavar="PATTERN", help="Glob over zoo names, e.g. 'resnet*'.")] = "*",
    json_out: JsonOpt = False,
) -> None:
    """List the zoo models: input, classes, MACC, params and whether trained weights are attached."""
    from edgeemo.zoo import zoo_entries

    entries = zoo_entries(pattern)
    if not entries:
        from edgeemo.errors import EdgeemoError
        from edgeemo.models import list_models

        raise EdgeemoError(f"no zoo model matches {pattern!r}; the zoo: {', '.join(list_models())}")
    if json_out:
        print_json([e.to_dict() for e in entries])
        return
    table = Table(title="edgeemo model zoo", box=box.SIMPLE_HEAD, pad_edge=False, caption="val / test / CK+: macro recall on the validation split, the held-out "
                  "test split and the cross-domain set (- : not measured; no test: trained on a two-way split)")
    for col in ("name", "input", "MACC", "params", "budget", "val", "test", "CK+"):  # fits 80 columns
        table.add_column(col, justify="left" if col in ("name", "input") else "right", no_wrap=True)

    def recall(figures: dict | None) -> str:
        value = (figures or {}).get("macro_recall")
        return f"{value:.3f}" if value is not None else "-"

    for e in entries:
        size = "x".join(map(str, e.input_shape[2:] if len(e.input_shape) == 4 and e.input_shape[1] in (1, 3) else e.input_shape[1:3]))
        table.add_row(esc(e.name), f"{size}{e.channel_order[0]}", human(e.macc), human(e.params), f"{e.budget_fraction:.0%}",
                      recall(e.metrics) if e.weights else "[dim]none[/dim]", recall(e.test) if e.weights else "-",
                      recall(e.cross_domain) if e.weights else "-")
    console.print(table)
