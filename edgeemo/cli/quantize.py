"""``edgeemo quantize``: INT8 with NNCF (OpenVINO IR, ONNX) and LiteRT full-integer, accuracy measured."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from edgeemo.cli.common import esc, model_line, TrustOpt, JsonOpt, console, err_console, human, print_json, status


def quantize(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="FP32 artifact (.xml/.onnx/.tflite with its model.json), or a zoo name / PyTorch / Keras file to convert first.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder.")] = "runs/quantize",
    data: Annotated[str | None, typer.Option("--data", help="Faces for calibration (train split) and accuracy (val split).")] = None,
    calib: Annotated[str, typer.Option("--calib", help="real (from --data) or synthetic (data-free, from the model's BatchNorm statistics).")] = "real",
    subset: Annotated[int, typer.Option("--subset", min=1, help="Calibration images.")] = 300,
    to: Annotated[str, typer.Option("--to", help="Formats to quantize when MODEL is a source model.")] = "openvino,onnx,tflite",
    preset: Annotated[str | None, typer.Option("--preset", help="NNCF preset: performance (symmetric) or mixed.")] = None,
    ignored_scope: Annotated[str | None, typer.Option("--ignored-scope", help="Comma-separated node names NNCF leaves in FP32.")] = None,
    max_drop: Annotated[float | None, typer.Option("--max-drop", min=0.0, help="Accuracy control: max macro-recall drop in points (OpenVINO); warn for others.")] = None,
    classes: Annotated[str | None, typer.Option("--classes", help="Measure accuracy on these labels only.")] = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Quantize to INT8 and report FP32 vs INT8 accuracy, size and latency (quantize.json)."""
    from edgeemo.errors import EdgeemoError
    from edgeemo.quantize import quantize as run_quantize

    formats = tuple(f.strip() for f in to.split(",") if f.strip())
    bad = [f for f in formats if f not in ("openvino", "onnx", "tflite")]
    if bad or not formats:
        raise EdgeemoError(f"--to {to!r}: choose from openvino, onnx, tflite")
    with status("quantizing...", not json_out) as update:
        result = run_quantize(model, out, data, calib, subset, formats, preset,
                              [n.strip() for n in ignored_scope.split(",")] if ignored_scope else None, max_drop,
                              [c.strip() for c in classes.split(",")] if classes else None,
                              on_step=lambda step: update(f"quantize: {step}"))
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {esc(warning)}")
    if json_out:
        print_json(result.to_dict())
    else:
        table = Table(title=f"{esc(model)} -> INT8 ({esc(result.calibration)})")
        for col in ("format", "size", "ratio", "FP32 macro-R", "INT8 macro-R", "drop (pt)", "ms FP32", "ms INT8", "status"):
            table.add_column(col, justify="left" if col in ("format", "status") else "right", overflow="fold")
        for a in result.artifacts:
            fmt = lambda v, f: f.format(v) if v is not None else "-"  # noqa: E731
            table.add_row(a.format, human(a.bytes, "B") if a.bytes else "-", fmt(a.size_ratio, "{:.2f}"),
                          fmt(a.fp32 and a.fp32["macro_recall"], "{:.3f}"), fmt(a.int8 and a.int8["macro_recall"], "{:.3f}"),
                          fmt(a.macro_recall_drop, "{:+.2f}"), fmt(a.latency_fp32_ms, "{:.3f}"), fmt(a.latency_int8_ms, "{:.3f}"),
                          "[red]FAILED[/red]" if a.error else ("[yellow]over --max-drop[/yellow]" if a.warning else "[green]ok[/green]"))
        console.print(table)
        if not data:
            console.print("accuracy: not measured (no --data)")
        console.print(model_line(result.resolved))
        console.print(f"{result.seconds:.1f}s  report: {esc(out)}/quantize.json")
    failed = [a for a in result.artifacts if a.error]
    if failed:
        raise EdgeemoError(failed[0].error)
