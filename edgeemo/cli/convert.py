"""``edgeemo convert``: a trained model -> verified ONNX, OpenVINO IR and TFLite artifacts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from edgeemo.cli.common import (esc,
    ArchKwargsOpt,
    ArchOpt,
    StateKeyOpt,
    ChannelOrderOpt,
    TrustOpt,
    InputShapeOpt,
    JsonOpt,
    LabelsOpt,
    MeanOpt,
    ScaleOpt,
    console,
    err_console,
    human,
    overrides,
    print_json,
    status,
)


def convert(
    src: Annotated[str | None, typer.Argument(metavar="SRC", help="Zoo name, TorchScript .pt, ExportedProgram .pt2, checkpoint (with --arch), "
                                                   ".keras/.h5, or .onnx; optional with --arch --weights CKPT.")] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder.")] = "runs/convert",
    to: Annotated[str, typer.Option("--to", help="Comma-separated formats: onnx, openvino, tflite.")] = "onnx,openvino,tflite",
    fp16: Annotated[bool, typer.Option("--fp16", help="Also write FP16 variants (IR with compressed weights, TFLite float16).")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Static batch size of the artifacts.")] = 1,
    data: Annotated[str | None, typer.Option("--data", help="Dataset folder: verify on real faces instead of synthetic inputs.")] = None,
    arch: ArchOpt = None,
    arch_kwargs: ArchKwargsOpt = None,
    weights: Annotated[str | None, typer.Option("--weights", help="Checkpoint for --arch (else SRC is the checkpoint).")] = None,
    state_key: StateKeyOpt = None,
    trust_checkpoint: TrustOpt = False,
    input_shape: InputShapeOpt = None,
    channel_order: ChannelOrderOpt = None,
    mean: MeanOpt = None,
    scale: ScaleOpt = None,
    labels: LabelsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Convert a trained model to ONNX, OpenVINO IR (static shape) and TFLite (NHWC); verify each against the source."""
    from edgeemo.errors import EdgeemoError
    from edgeemo.export.convert import FORMATS, convert as run_convert
    from edgeemo.sources import load_source, parse_kwargs

    formats = tuple(f.strip().lower() for f in to.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise EdgeemoError(f"--to {to!r}: unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}")
    flags = overrides(input_shape, channel_order, mean, scale, labels)
    if not src and not (arch and weights):
        raise EdgeemoError("give a model to convert (SRC), or a checkpoint with --arch module:Class --weights CKPT")
    if arch and weights and src and src != weights:
        raise EdgeemoError(f"two checkpoints given: SRC {src} and --weights {weights}; give one")
    if arch and not weights:
        weights = src
    with status("loading the source model...", not json_out) as update:
        source = load_source(weights if arch else src, flags, arch, parse_kwargs(arch_kwargs), state_key)
        result = run_convert(source, out, formats, fp16, batch, data,
                             on_step=lambda step: update(f"converting: {step} (write + verify)"))
    if json_out:
        print_json(result.to_dict())
    else:
        table = Table(title=f"{esc(src)} -> {esc(out)}  (verified on {esc(result.n_inputs)} {esc(result.inputs)} inputs)",
                      box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, caption="max diff and top-1: against the source model's "
                      "outputs on the same inputs (seconds per artifact: --json)")
        for col in ("artifact", "path", "size", "max diff", "top-1", "status"):  # fits 80 columns with the usual paths
            table.add_column(col, justify="right" if col in ("size", "max diff", "top-1") else "left", overflow="fold",
                             no_wrap=col != "path")
        for a in result.artifacts:
            table.add_row(
                esc(f"{a.format} {a.precision}"), esc(_relative(a.path, out)), human(a.bytes, "B") if a.bytes else "-",
                f"{a.max_abs_diff:.2e}" if a.max_abs_diff is not None else "-",
                f"{a.top1_agreement:.1%}" if a.top1_agreement is not None else "-",
                "[green]verified[/green]" if a.passed else "[red]FAILED[/red]",
            )
        console.print(table)
        cost = f"MACC {human(result.macc)} per image  params {human(result.params)}  " if result.macc else ""
        console.print(f"{esc(cost)}total {result.seconds:.1f}s  card: {esc(out)}/model.json  report: {esc(out)}/convert.json")
        console.print(f"[dim]source weights sha256 {esc(result.source_sha256)}[/dim]")
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {esc(warning)}")
    if result.failed:
        worst = result.failed[0]
        raise EdgeemoError(worst.error or f"{worst.format} {worst.precision} failed")


def _relative(path: str | None, out: str) -> str:
    from pathlib import Path

    return str(Path(path).relative_to(out)) if path else "-"
