"""``edgeemo quantize``: INT8 with NNCF (OpenVINO IR, ONNX) and LiteRT full-integer, accuracy measured."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from edgeemo.cli.common import esc, model_line, TrustOpt, JsonOpt, console, err_console, human, print_json, status


def quantize(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="FP32 artifact (.xml/.onnx/.tflite with its model.json), or a zoo name / PyTorch / Keras file to convert first; or the face detector: blazeface (calibrated on camera frames).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder.")] = "runs/quantize",
    data: Annotated[str | None, typer.Option("--data", help="Faces for calibration (train split) and accuracy (val split); for blazeface: a video or a folder of camera frames.")] = None,
    calib: Annotated[str, typer.Option("--calib", help="real (from --data) or synthetic (data-free, from the model's BatchNorm statistics).")] = "real",
    subset: Annotated[int, typer.Option("--subset", min=1, help="Calibration images.")] = 300,
    to: Annotated[str, typer.Option("--to", help="Formats to quantize when MODEL is a source model.")] = "openvino,onnx,tflite",
    preset: Annotated[str | None, typer.Option("--preset", help="NNCF preset: performance (symmetric) or mixed.")] = None,
    ignored_scope: Annotated[str | None, typer.Option("--ignored-scope", help="Comma-separated node names NNCF leaves in FP32 (OpenVINO, ONNX; names differ between formats: a name a format lacks is refused with its own layer names).")] = None,
    max_drop: Annotated[float | None, typer.Option("--max-drop", min=0.0, help="Accuracy control: max macro-recall drop in points (OpenVINO); warn for others.")] = None,
    classes: Annotated[str | None, typer.Option("--classes", help="Measure accuracy on these labels only (as eval --classes: each prediction is the best of these).")] = None,
    bias_correction: Annotated[str, typer.Option("--bias-correction", help="NNCF bias correction (OpenVINO, ONNX): full (per-layer, exact statistics) or fast (NNCF's default, quicker on large models; lost up to 5.8 pt on plain-conv emofast).")] = "full",
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Quantize to INT8 and report FP32 vs INT8 accuracy, size and latency (quantize.json)."""
    from edgeemo.errors import EdgeemoError
    from edgeemo.quantize import quantize as run_quantize

    from edgeemo.quantize.detector import is_detector

    if is_detector(model):
        return _quantize_detector(model, out, data, calib, max_drop, json_out)
    from edgeemo.quantize import QuantizeConfig

    config = QuantizeConfig(data, calib, subset, tuple(f.strip() for f in to.split(",") if f.strip()), preset,
                            [n.strip() for n in ignored_scope.split(",")] if ignored_scope else None, max_drop,
                            [c.strip() for c in classes.split(",")] if classes else None, bias_correction)
    result = _run("quantizing...", lambda on_step: run_quantize(model, out, config, on_step=on_step), json_out)
    if not json_out:
        table = Table(title=f"{esc(model)} -> INT8 ({esc(result.calibration)}; NNCF bias correction: {result.bias_correction})",
                      box=box.SIMPLE_HEAD, pad_edge=False,
                      caption="mR: macro recall on the validation split; ms: median latency, 1 thread")
        for col in ("format", "size", "ratio", "FP32\nmR", "INT8\nmR", "drop\npt", "FP32\nms", "INT8\nms", "status"):  # fits 80 columns
            table.add_column(col, justify="left" if col in ("format", "status") else "right", no_wrap=col != "status",
                             min_width=6 if col == "status" else None)
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


def _quantize_detector(model: str, out: str, data: str | None, calib: str, max_drop: float | None, json_out: bool) -> None:
    """BlazeFace -> INT8 IR calibrated on camera frames, checked against FP32 on held-out frames."""
    from edgeemo.errors import EdgeemoError
    from edgeemo.quantize.detector import quantize_detector

    if not data or calib != "real":
        raise EdgeemoError(f"{model}: a face detector is calibrated on camera frames: give --data VIDEO or a folder of frames")
    if max_drop is not None:
        raise EdgeemoError("--max-drop applies to classifiers (macro recall); the detector is checked against FP32")
    r = _run("quantizing the detector...", lambda on_step: quantize_detector(model, data, out, on_step=on_step), json_out)
    if json_out:
        return
    a = r.agreement
    table = Table(title=f"{esc(r.detector)} -> INT8 ({esc(r.calibration)}), input {r.input_shape[2]}x{r.input_shape[1]}")
    for col in ("held-out frames", "faces FP32", "faces INT8", "recall vs FP32", "precision vs FP32", "ms FP32", "ms INT8"):
        table.add_column(col, justify="right", overflow="fold")
    table.add_row(str(a.frames), str(a.fp32_faces), str(a.int8_faces), f"{a.recall_vs_fp32:.3f}", f"{a.precision_vs_fp32:.3f}",
                  f"{r.latency_fp32_ms:.2f}", f"{r.latency_int8_ms:.2f}")
    console.print(table)
    console.print(f"output heads kept FP32: {esc(', '.join(r.fp32_heads))}; latency at {r.threads} thread(s) on this CPU")
    console.print(f"artifact: {esc(r.artifact)}  (use it: edgeemo run --detector-model {esc(r.artifact)})")
    console.print(f"{r.seconds:.1f}s  report: {esc(out)}/quantize.json")


def _run(label: str, work, json_out: bool):
    """Run ``work(on_step)`` under a status line; print its warnings, and its result as JSON with --json."""
    with status(label, not json_out) as update:
        result = work(lambda step: update(f"quantize: {step}"))
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {esc(warning)}")
    if json_out:
        print_json(result.to_dict())
    return result
