"""Any model or artifact as ``predict(batch) -> scores`` plus the ModelSpec that says how to feed it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import ModelLoadError
from edgeemo.models.spec import ModelSpec

ARTIFACT_SUFFIXES = {".onnx": "onnx", ".xml": "openvino", ".tflite": "tflite"}


@dataclass
class Predictor:
    ref: str
    kind: str  # "torch", "keras", "onnx", "openvino", "tflite"
    spec: ModelSpec
    predict: Callable[[np.ndarray], np.ndarray]
    runner: object | None = None


def find_card(path: Path) -> dict | None:
    """The model card written by convert/quantize beside an artifact (same folder or its parent)."""
    for folder in (path.parent, path.parent.parent):
        card = folder / "model.json"
        if card.is_file():
            try:
                return json.loads(card.read_text())
            except json.JSONDecodeError:
                return None
    return None


def spec_from_card(card: dict, name: str) -> ModelSpec:
    return ModelSpec(
        name=card.get("name", name),
        input_size=tuple(card["input_size"]),
        channel_order=card["channel_order"],
        labels=tuple(card.get("labels") or ()),
        mean=tuple(card.get("mean", (0.0,))),
        scale=tuple(card.get("scale", (1.0,))),
        layout=card.get("layout", "NCHW"),
        resize=card.get("resize", "crop"),
        output=card.get("output", "softmax"),
    )


def _spec_from_onnx(path: Path) -> dict | None:
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    if "channel_order" not in props:
        return None
    card = {k: json.loads(v) if v[:1] in "[{0123456789-" else v for k, v in props.items()}
    shape = card.get("input_shape")
    if shape:
        card["input_size"] = shape[1:3] if card.get("layout") == "NHWC" else shape[2:4]
    return card


def load_predictor(ref: str, overrides=None, threads: int | None = None, device: str = "CPU") -> Predictor:
    """Open a zoo name, PyTorch/Keras file or a deployment artifact for inference."""
    from edgeemo.export.sources import Overrides, load_source
    from edgeemo.runtime import load

    path = Path(ref)
    kind = ARTIFACT_SUFFIXES.get(path.suffix.lower()) if path.is_file() else None
    if kind is None:
        src = load_source(ref, overrides or Overrides())
        if not src.spec.labels:
            raise ModelLoadError(f"{ref}: the class labels are unknown; give them with --labels")
        return Predictor(ref, src.framework, src.spec, src.reference)
    from edgeemo.source import resolve

    resolve(ref)  # one-line errors for empty files
    card = find_card(path) or (_spec_from_onnx(path) if kind == "onnx" else None)
    if card is None:
        raise ModelLoadError(f"{ref}: no model card (model.json) beside it; convert it with `edgeemo convert` first")
    spec = spec_from_card(card, path.stem)
    if overrides is not None and overrides.labels:
        spec = replace(spec, labels=tuple(overrides.labels))
    options = {"threads": threads} if threads else {}
    if kind == "openvino":
        options["device"] = device
    runner = load(path, **options)
    return Predictor(ref, kind, spec, runner.infer, runner)
