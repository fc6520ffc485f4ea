"""``edgeemo optimize``: the fastest artifact that keeps its accuracy on a target, found by measuring."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from edgeemo.cli.common import (ArchKwargsOpt, ArchOpt, ChannelOrderOpt, RemoteOpt, RemotePythonOpt, SshConfigOpt, StateKeyOpt,
                                remote_host, InputShapeOpt, JsonOpt, LabelsOpt, MeanOpt, ScaleOpt, TrustOpt, console,
                                err_console, esc, overrides, print_json, status)


def optimize(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Zoo name, or any model `convert` takes (.pt/.pt2, .keras/.h5, .onnx).")],
    target: Annotated[str, typer.Option("--target", help="A profile from targets/ (see `edgeemo targets`): its runtime, device, "
                                                         "precisions and threads bound the search.")],
    data: Annotated[str | None, typer.Option("--data", help="Labeled faces: real INT8 calibration and macro recall on the validation "
                                                            "split. Without: data-free INT8, agreement with FP32 as the proxy.")] = None,
    max_drop: Annotated[float, typer.Option("--max-drop", min=0.0, help="Largest macro-recall drop vs the FP32 artifact, in points.")] = 1.0,
    budget_ms: Annotated[float | None, typer.Option("--budget-ms", min=0.0, help="Also refuse candidates slower than this median.")] = None,
    accuracy_control: Annotated[bool, typer.Option("--accuracy-control", help="Add an INT8 candidate from NNCF's accuracy control "
                                                                              "(OpenVINO targets, needs --data; slower).")] = False,
    iterations: Annotated[int, typer.Option("--iterations", min=10, help="Timed iterations per candidate.")] = 200,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Measure accuracy on at most N validation images.")] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Output folder (default runs/optimize/MODEL-TARGET; a re-run "
                                                                "there reuses what was measured).")] = None,
    sign: Annotated[str | None, typer.Option("--sign", help="Sign the bundle with this Ed25519 key (`edgeemo keys new`).")] = None,
    remote: RemoteOpt = None,
    ssh_config: SshConfigOpt = None,
    remote_python: RemotePythonOpt = "python3",
    arch: ArchOpt = None,
    arch_kwargs: ArchKwargsOpt = None,
    state_key: StateKeyOpt = None,
    input_shape: InputShapeOpt = None,
    channel_order: ChannelOrderOpt = None,
    mean: MeanOpt = None,
    scale: ScaleOpt = None,
    labels: LabelsOpt = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Convert MODEL to every precision the target allows, measure each candidate's latency (the bench protocol) and
    accuracy, and pick the fastest within --max-drop: optimize.json/.csv/.png, the chosen artifact, a bundle."""
    from pathlib import Path

    from edgeemo.fsutil import check_out_dir
    from edgeemo.optimize import optimize as run_optimize

    folder = check_out_dir(out or Path("runs/optimize") / f"{Path(model).stem}-{target}")
    flags = overrides(input_shape, channel_order, mean, scale, labels)
    with status("optimize...", not json_out) as update:
        source = None
        if arch or any(v is not None for v in (input_shape, channel_order, mean, scale, labels)):
            from edgeemo.sources import load_source, parse_kwargs

            update("loading the source model...")
            source = load_source(model, flags, arch, parse_kwargs(arch_kwargs), state_key)
        host = remote_host(remote, ssh_config, remote_python) if remote else None
        result = run_optimize(model, target, folder, data, max_drop, budget_ms, accuracy_control, iterations, limit, sign,
                              source=source, remote=host, on_step=update)
    if json_out:
        print_json(result.to_dict())
        return
    table = Table(title=f"{esc(result.model)} on {esc(result.target)}: {esc(result.measure)}")
    metric = "macro recall" if "macro recall" in result.measure else "top-1 agree"  # the title says on what
    for col in ("candidate", "median ms", "computes", metric, "drop pt", "verdict"):
        table.add_column(col, justify="right" if col in ("median ms", metric, "drop pt") else "left", overflow="fold")
    for c in sorted(result.candidates, key=lambda c: c.median_ms if c.median_ms is not None else float("inf")):
        acc = c.macro_recall if c.macro_recall is not None else c.agreement
        table.add_row(esc(c.name) + (" (cached)" if c.cached else ""), f"{c.median_ms:.3f}" if c.median_ms else "-",
                      esc(c.computes or "-"), f"{acc:.3f}" if acc is not None else "-",
                      f"{c.drop:.2f}" if c.drop is not None else "-", esc(c.verdict))
    console.print(table)
    if result.provisional:
        err_console.print(f"[yellow]provisional:[/yellow] {esc(result.provisional)}")
    if result.chosen:
        console.print(f"chosen: [bold]{esc(result.chosen)}[/bold] -> {esc(result.chosen_path)}; bundle {esc(result.bundle)}")
    else:
        console.print("[red]no candidate is within the drop and the budget[/red]")
    console.print(f"latency measured on {esc(result.measured_on)}; host: {esc(result.host)}; {result.seconds:.1f} s; {esc(result.out)}/optimize.json, optimize.csv, optimize.png")
