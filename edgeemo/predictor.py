"""Any model or artifact as ``predict(batch) -> scores`` plus the ModelSpec that says how to feed it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import ModelLoadError, first_line
from edgeemo.models.spec import ModelSpec

ARTIFACT_SUFFIXES = {".onnx": "onnx", ".xml": "openvino", ".tflite": "tflite"}


@dataclass
class Predictor:
    ref: str
    kind: str  # "torch", "keras", "onnx", "openvino", "tflite"
    spec: ModelSpec
    predict: Callable[[np.ndarray], np.ndarray]
    runner: object | None = None
    resolved: object | None = None  # edgeemo.resolve.ResolvedModel


def find_card(path: Path) -> dict | None:
    """The model card written by convert/quantize beside an artifact (same folder or its parent)."""
    for folder in (path.parent, path.parent.parent):
        card = folder / "model.json"
        if card.is_file():
            try:
                found = json.loads(card.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ModelLoadError(f"{card}: not a valid model card (JSON: {exc})") from None
            if not isinstance(found, dict):
                raise ModelLoadError(f"{card}: not a valid model card (a JSON object was expected)")
            return found
    return None


def spec_from_card(card: dict, name: str) -> ModelSpec:
    """The preprocessing facts of a model card; a card with missing or malformed facts is one line."""
    try:
        return ModelSpec(
            name=str(card.get("name", name)),
            input_size=tuple(card["input_size"]),
            channel_order=card["channel_order"],
            labels=tuple(card.get("labels") or ()),
            mean=tuple(card.get("mean", (0.0,))),
            scale=tuple(card.get("scale", (1.0,))),
            layout=card.get("layout", "NCHW"),
            resize=card.get("resize", "crop"),
            output=card.get("output", "softmax"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelLoadError(f"{name}: the model card lacks or garbles a preprocessing fact ({type(exc).__name__}: {exc})") from None


def _spec_from_onnx(path: Path) -> dict | None:
    import onnx

    try:
        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    except Exception as exc:
        raise ModelLoadError(f"{path}: not a readable ONNX file: {first_line(exc)}") from None
    if "channel_order" not in props:
        return None
    try:
        card = {k: json.loads(v) if v[:1] in "[{0123456789-" else v for k, v in props.items()}
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"{path}: its metadata (model card facts) is not valid JSON: {exc}") from None
    shape = card.get("input_shape")
    if shape:
        card["input_size"] = shape[1:3] if card.get("layout") == "NHWC" else shape[2:4]
    return card


def load_predictor(ref: str, overrides=None, threads: int | None = None, device: str = "CPU", runtime: str | None = None,
                   on_step=lambda step: None) -> Predictor:
    """Open MODEL by the one resolution rule (``edgeemo.resolve``: a zoo name or source model becomes a cached
    artifact, ``runtime='torch'`` runs it eagerly); its labels in edgeemo's words (one synonym table for models and
    data: FER2013's 'angry' is 'anger', 'happiness' is 'happy')."""
    predictor = _load_predictor(ref, overrides, threads, device, runtime, on_step)
    from edgeemo.data.datasets import normalize_label

    labels = tuple(normalize_label(label) for label in predictor.spec.labels)
    if labels != predictor.spec.labels and len(set(labels)) == len(labels):
        predictor.spec = replace(predictor.spec, labels=labels)
    return predictor


def _load_predictor(ref: str, overrides, threads: int | None, device: str, runtime: str | None, on_step) -> Predictor:
    from edgeemo.export.sources import Overrides, load_source
    from edgeemo.resolve import EAGER, resolve_model
    from edgeemo.runtime import load

    if runtime not in (None, "openvino") and device.upper() != "CPU":
        raise ModelLoadError(f"--device {device} applies to the OpenVINO runtime; {runtime} runs on the CPU here")
    resolved = resolve_model(ref, runtime, overrides, on_step)
    if resolved.runtime in EAGER:
        src = load_source(ref, overrides or Overrides())
        if not src.spec.labels:
            raise ModelLoadError(f"{ref}: the class labels are unknown; give them with --labels")
        return Predictor(ref, src.framework, src.spec, src.reference, resolved=resolved)
    path = Path(resolved.artifact)
    kind = ARTIFACT_SUFFIXES[path.suffix.lower()]
    card = find_card(path) or (_spec_from_onnx(path) if kind == "onnx" else None)
    if card is None:
        raise ModelLoadError(f"{ref}: no model card (model.json) beside it; convert it with `edgeemo convert` first")
    spec = spec_from_card(card, path.stem)
    if overrides is not None and overrides.labels:
        spec = replace(spec, labels=tuple(overrides.labels))
    options = {"threads": threads} if threads else {}
    if resolved.runtime == "openvino":
        options["device"] = device
    runner = load(path, resolved.runtime, **options)
    return Predictor(ref, kind, spec, runner.infer, runner, resolved)
