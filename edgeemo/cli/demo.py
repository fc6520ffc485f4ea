"""``edgeemo demo`` and ``edgeemo report``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from edgeemo.cli.common import esc, JsonOpt, console, err_console, human, print_json, status


def demo(
    model: Annotated[list[str] | None, typer.Option("--model", help="Zoo name or model file (repeatable). Default: emonet-resnet10, mini-xception and emofast-pruned.")] = None,
    data: Annotated[str | None, typer.Option("--data", help="Labeled faces: real calibration and accuracy. Without: data-free INT8, no accuracy.")] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Run folder (new or empty). Default: a new timestamped folder "
                                                                "runs/demo/YYYYMMDD-HHMMSS, with runs/demo/latest pointing to it.")] = None,
    iterations: Annotated[int, typer.Option("--iterations", min=10, help="Timed iterations per artifact.")] = 100,
    json_out: JsonOpt = False,
) -> None:
    """One command from trained models to a deployment report: profile, convert (verified), INT8, bench, eval, report."""
    from edgeemo.demo import DEFAULT_MODELS, new_run_dir, run_demo
    from edgeemo.fsutil import check_out_dir

    out = str(check_out_dir(out)) if out else new_run_dir()
    if not json_out:
        err_console.print(f"run folder: {esc(out)}")

    with status("demo...", not json_out) as update:

        def on_step(step: str) -> None:
            update(f"demo: {step}")
            if not json_out:
                err_console.print(f"[dim]>[/dim] {esc(step)}")

        result = run_demo(tuple(model) if model else DEFAULT_MODELS, data, out, iterations, on_step)
    if json_out:
        print_json(asdict(result))
        return
    console.print(demo_table(result))
    if not data:
        console.print("accuracy: not measured: no data (give --data DIR, e.g. ../shared/data/facial_expressions)")
    for m in result.models:
        if m.noise:
            console.print(f"{esc(m.name)}: fastest {esc(m.fastest)} is {esc(m.noise)} (medians closer than the run's noise)")
        for failure in m.failed:
            console.print(f"[red]{esc(m.name)}: {esc(failure)}[/red]")
    console.print(f"report: [bold]{esc(result.report)}[/bold]   total time {result.seconds:.1f} s")


def demo_table(result) -> Table:
    """One row per model: its size against the budget, the fastest artifact, and (with data) macro recall; fits 80
    columns (without data the accuracy columns would be all dashes: a line below the table says so)."""
    from edgeemo.reference import REFERENCE_MACC

    accuracy = result.data is not None
    table = Table(title=f"edgeemo demo ({'data: ' + result.data if accuracy else 'no data'})", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True, caption="ms: the fastest artifact's median latency on this CPU"
                  + ("; mR: macro recall on the validation split, of the best artifact and the best INT8 one" if accuracy else ""))
    for col in ("model", "MACC", "params", "budget", "fastest", "ms", *(("mR", "INT8 mR") if accuracy else ())):
        table.add_column(col, justify="left" if col in ("model", "fastest") else "right", overflow="fold",
                         no_wrap=col != "fastest", min_width=13 if col == "fastest" else None)
    for m in result.models:
        recalls = (f"{m.best_macro_recall:.3f}" if m.best_macro_recall is not None else "-",
                   f"{m.int8_macro_recall:.3f}" if m.int8_macro_recall is not None else "-")
        table.add_row(esc(m.name), human(m.macc), human(m.params), f"{m.macc / REFERENCE_MACC:.0%}", esc(m.fastest),
                      f"{m.fastest_ms:.3f}", *(recalls if accuracy else ()))
    return table


def report(
    run_dir: Annotated[str, typer.Argument(metavar="RUN_DIR", help="A run folder written by `edgeemo demo` (or model folders with model.json).")],
    json_out: JsonOpt = False,
) -> None:
    """Build report.html (self-contained, images embedded) and the PNGs; --json prints the combined results."""
    from edgeemo.report import build_report

    results = build_report(run_dir)
    if json_out:
        print_json(results)
        return
    console.print(f"report: [bold]{esc(results['report'])}[/bold] ({len(results['pngs'])} figures)")
