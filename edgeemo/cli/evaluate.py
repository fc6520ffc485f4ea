"""``edgeemo eval``: accuracy on real faces through the model's real runtime."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from edgeemo.cli.common import esc, hint, model_line, PrecisionHintOpt, RuntimeOpt, TrustOpt, ChannelOrderOpt, JsonOpt, LabelsOpt, MeanOpt, ScaleOpt, console, err_console, overrides, print_json

from edgeemo.data.datasets import SPLITS
from edgeemo.models.spec import RESIZE_POLICIES

ResizeChoice = Enum("ResizeChoice", {p: p for p in (*RESIZE_POLICIES, "compare")}, type=str)
SplitChoice = Enum("SplitChoice", {p: p for p in ("auto", *SPLITS)}, type=str)


def progress_bar(disable: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err_console, disable=disable or not err_console.is_terminal, transient=True)


def evaluate(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Zoo name, PyTorch/Keras file, .onnx, OpenVINO .xml or .tflite (with its model.json).")],
    data: Annotated[str, typer.Option("--data", help="Dataset: legend.csv + images/, class folders, or a FER2013 CSV.")],
    split: Annotated[SplitChoice, typer.Option("--split", help="auto (default: the validation split if the model's card says it was trained "
                                                      "on DATA, else all images), all, train, val or test (the model's own "
                                                      "deterministic, stratified split).")] = SplitChoice.auto,
    classes: Annotated[str | None, typer.Option("--classes", help="Evaluate on these labels only, e.g. neutral,happy,sad,surprise,anger: images of other labels are skipped and each prediction is the best of these (a 7-class FER2013 model read as 5 retail classes).")] = None,
    resize: Annotated[ResizeChoice | None, typer.Option("--resize", help="squash, letterbox, crop (default: the model's), or 'compare' for all three.")] = None,
    labels: LabelsOpt = None,
    channel_order: ChannelOrderOpt = None,
    mean: MeanOpt = None,
    scale: ScaleOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use at most N images (spread over the classes).")] = None,
    align: Annotated[bool | None, typer.Option("--align/--no-align", help="Turn each face eyes-level first (BlazeFace keypoints); default: as the model's card says it was trained (`edgeemo train --align`).", show_default=False)] = None,
    device: Annotated[str, typer.Option("--device", help="OpenVINO device (CPU, GPU, NPU, AUTO).")] = "CPU",
    runtime: RuntimeOpt = None,
    precision_hint: PrecisionHintOpt = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Accuracy, macro recall/F1, per-class precision/recall and the confusion matrix on one split."""
    from edgeemo.evaluate import evaluate as run_eval
    from edgeemo.predictor import load_predictor

    split, resize = split.value, resize.value if resize else None
    from edgeemo.cli.common import status

    with status("opening the model...", not json_out) as update:
        predictor = load_predictor(model, overrides(None, channel_order, mean, scale, labels), device=device,
                                   runtime=runtime, on_step=update, precision=hint(precision_hint))
    wanted = [c.strip() for c in classes.split(",")] if classes else None
    policies = RESIZE_POLICIES if resize == "compare" else (resize,)
    results = []
    with progress_bar(json_out) as bar:
        for policy in policies:
            task = bar.add_task(f"eval {policy or predictor.spec.resize}", total=None)
            results.append(run_eval(predictor, data, split, wanted, policy, limit,
                                    on_progress=lambda done, total, t=task: bar.update(t, completed=done, total=total),
                                    align=align))
    if json_out:
        print_json(results[0].to_dict() if len(results) == 1 else [r.to_dict() for r in results])
        return
    for r in results:
        _print(r)
    if len(results) > 1:
        best = max(results, key=lambda r: r.macro_recall)
        console.print(f"best resize policy by macro recall: [bold]{esc(best.resize)}[/bold] ({best.macro_recall:.3f})")


def _print(r) -> None:
    table = Table(title=f"{esc(r.model)} on {esc(r.data)} {esc('[' + r.split + ']')}, resize={esc(r.resize)}: n={esc(r.n)}")
    for col in ("class", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for label, m in r.per_class.items():
        table.add_row(esc(label), f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support))
    console.print(table)
    conf = Table(title="confusion (rows: true, columns: predicted)")
    conf.add_column("")
    for label in r.labels:
        conf.add_column(esc(label[:8]), justify="right")
    for label, row in zip(r.labels, r.confusion):
        conf.add_row(esc(label), *map(str, row))
    console.print(conf)
    skipped = ", ".join(f"{k} {v}" for k, v in r.skipped.items()) or "none"
    console.print(f"accuracy {r.accuracy:.3f}  macro recall [bold]{r.macro_recall:.3f}[/bold]  macro F1 {r.macro_f1:.3f}  "
                  f"skipped: {esc(skipped)}  ({r.seconds:.1f}s)")
    console.print(f"split: {esc(r.split)}, {r.n} images: {esc(r.split_reason)}; computed in {esc(r.computed_in)}"
                  + ("; faces aligned (eyes level)" if r.aligned else ""))
    console.print(model_line(r.resolved))
