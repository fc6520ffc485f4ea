"""``edgeemo profile``: per-layer MACC/params and totals against the retail-0003 budget."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from edgeemo.cli.common import esc, model_line, status, TrustOpt, InputShapeOpt, JsonOpt, console, human, print_json
from edgeemo.reference import REFERENCE_NAME


def profile(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Zoo name, or a .onnx/.xml/.tflite/.pt/.pt2/.keras/.h5 file or SavedModel folder.")],
    input_shape: InputShapeOpt = None,
    all_layers: Annotated[bool, typer.Option("--all-layers", help="List every op, not only those with MACC or params.")] = False,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Count MACC, parameters and activations per layer, and compare with the 62.99M MACC budget."""
    from edgeemo.profile import profile_resolved
    from edgeemo.sources import parse_shape

    from edgeemo.live import detector_file
    from edgeemo.quantize.detector import is_detector

    with status("reading the model...", not json_out) as update:
        result = profile_resolved(detector_file(model), parse_shape(input_shape), on_step=update)
    if json_out:
        print_json(result.to_dict())
        return
    table = Table(title=f"{esc(model)}  input {esc('x'.join(map(str, result.input_shape)))}", show_lines=False)
    for col, justify in (("layer", "left"), ("op", "left"), ("output", "left"), ("MACC", "right"), ("params", "right")):
        table.add_column(col, justify=justify)
    for layer in result.layers:
        if all_layers or layer.macc or layer.params:
            table.add_row(esc(layer.name), esc(layer.op), "x".join(map(str, layer.output_shape)), f"{layer.macc:,}", f"{layer.params:,}")
    console.print(table)
    verdict = "[green]within budget[/green]" if result.within_budget else "[red]OVER budget[/red]"
    console.print(
        f"MACC {result.macc:,} ({human(result.macc)}"
        + (f"; {human(result.macc_per_image)} per image at batch {result.batch}" if result.batch > 1 else "")
        + f")  params {result.params:,} ({human(result.params)})  "
        f"activations {result.activations:,}  weights {human(result.weight_bytes, 'B')}"
    )
    if is_detector(model):
        console.print(f"a face detector, per frame at this input: the classifier budget ({esc(REFERENCE_NAME)}) does not apply")
    else:
        console.print(
            f"{result.budget_fraction:.1%} of the {human(result.budget_macc)} MACC budget ({esc(REFERENCE_NAME)}): {verdict}"
        )
    console.print(model_line(result.resolved))
