"""``edgeemo targets``: the device profiles in targets/."""

from __future__ import annotations

from dataclasses import asdict

from rich.table import Table

from edgeemo.cli.common import esc, JsonOpt, console, print_json


def targets(json_out: JsonOpt = False) -> None:
    """List deployment targets: runtime, device, precisions, threads and input constraints."""
    from edgeemo.targets import list_targets

    items = list_targets()
    if json_out:
        print_json([asdict(t) for t in items])
        return
    table = Table(title="targets")
    for col in ("name", "arch", "runtime", "device", "precisions", "threads", "static"):
        table.add_column(col)
    for t in items:
        table.add_row(esc(t.name), esc(t.arch), esc(t.runtime), esc(t.device), ",".join(t.precisions), str(t.threads or "-"),
                      "yes" if t.input.get("static_shape") else "no")
    console.print(table)
    for t in items:
        console.print(f"[bold]{esc(t.name)}[/bold]: {esc(t.description)}")
