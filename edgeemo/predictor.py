"""Any model or artifact as ``predict(batch) -> scores`` plus the ModelSpec that says how to feed it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import ModelLoadError
from edgeemo.formats import FORMATS
from edgeemo.models.spec import ModelSpec

ARTIFACT_SUFFIXES = {f.suffix: f.name for f in FORMATS.values()}


@dataclass
class Predictor:
    ref: str
    kind: str  # "torch", "keras", "onnx", "openvino", "tflite"
    spec: ModelSpec
    predict: Callable[[np.ndarray], np.ndarray]
    runner: object | None = None  # the edgeemo.runtime.Session, for artifacts
    resolved: object | None = None  # edgeemo.resolve.ResolvedModel

    @property
    def precision(self) -> str:
        """What the predictions are computed in (the runtime's report; 'fp32 (eager)' for a source model)."""
        return getattr(self.runner, "precision", None) or "fp32 (eager)"


def find_card(path: Path) -> dict | None:
    """The model card written by convert/quantize beside an artifact (same folder or its parent)."""
    for folder in (path.parent, path.parent.parent):
        card = folder / "model.json"
        if card.is_file():
            return _read_card(card)
    return None


def weights_card(path: Path) -> dict | None:
    """The card of trained weights: the zoo's ``<name>.json`` beside ``<name>.pt`` (its ``weights`` field names the
    file, as in ``models/`` or a copy of that pair), else the ``model.json`` that ``edgeemo train`` writes."""
    named = path.with_suffix(".json")
    if path.suffix.lower() in (".pt", ".pth") and named.is_file():
        try:
            card = _read_card(named)
        except ModelLoadError:  # some other JSON that shares the name: not this file's card
            card = {}
        if str(card.get("weights", "")).split(" ")[0] == path.name:
            return card
    return find_card(path)


def _read_card(card: Path) -> dict:
    try:
        found = json.loads(card.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{card}: not a valid model card (JSON: {exc})") from exc
    if not isinstance(found, dict):
        raise ModelLoadError(f"{card}: not a valid model card (a JSON object was expected)")
    return found


def spec_from_card(card: dict, name: str) -> ModelSpec:
    """The preprocessing facts of a model card; a card with missing or malformed facts is one line."""
    from edgeemo.card import ModelCard

    return ModelCard.from_dict(card, name).spec()


def _embedded_card(path: Path, kind: str) -> dict | None:
    """The facts convert embedded in the artifact itself (ONNX metadata_props, IR rt_info), for one without model.json."""
    from edgeemo.card import ModelCard

    card = ModelCard.from_onnx(path) if kind == "onnx" else ModelCard.from_ir(path) if kind == "openvino" else None
    return card.to_dict() if card else None


def load_predictor(ref: str, overrides=None, threads: int | None = None, device: str = "CPU", runtime: str | None = None,
                   on_step=lambda step: None, precision: str | None = None) -> Predictor:
    """Open MODEL by the one resolution rule (``edgeemo.resolve``: a zoo name or source model becomes a cached
    artifact, ``runtime='torch'`` runs it eagerly), computing in ``precision`` (OpenVINO's hint; None: the device's
    choice, as `edgeemo bench` measures it); its labels in edgeemo's words (one synonym table for models and
    data: FER2013's 'angry' is 'anger', 'happiness' is 'happy')."""
    predictor = _load_predictor(ref, overrides, threads, device, runtime, on_step, precision)
    from edgeemo.data.datasets import normalize_label

    labels = tuple(normalize_label(label) for label in predictor.spec.labels)
    if labels != predictor.spec.labels and len(set(labels)) == len(labels):
        predictor.spec = replace(predictor.spec, labels=labels)
    return predictor


def _load_predictor(ref: str, overrides, threads: int | None, device: str, runtime: str | None, on_step,
                    precision: str | None = None) -> Predictor:
    from edgeemo.sources import Overrides, load_source
    from edgeemo.resolve import EAGER, resolve_model
    from edgeemo.runtime import load

    if runtime not in (None, "openvino") and device.upper() != "CPU":
        raise ModelLoadError(f"--device {device} applies to the OpenVINO runtime; {runtime} runs on the CPU here")
    if precision and runtime not in (None, "openvino"):
        raise ModelLoadError(f"--precision-hint {precision} applies to the OpenVINO runtime, not {runtime}")
    resolved = resolve_model(ref, runtime, overrides, on_step)
    if resolved.runtime in EAGER:
        src = load_source(ref, overrides or Overrides())
        if not src.spec.labels:
            raise ModelLoadError(f"{ref}: the class labels are unknown; give them with --labels")
        return Predictor(ref, src.framework, src.spec, src.reference, resolved=resolved)
    path = Path(resolved.artifact)
    kind = ARTIFACT_SUFFIXES[path.suffix.lower()]
    card = find_card(path) or _embedded_card(path, kind)
    if card is None:
        raise ModelLoadError(f"{ref}: no model card (model.json beside it, or facts embedded by edgeemo convert); convert it with `edgeemo convert` first")
    spec = spec_from_card(card, path.stem)
    if overrides is not None and overrides.labels:
        spec = replace(spec, labels=tuple(overrides.labels))
    options = {"device": device, "precision": precision} if resolved.runtime == "openvino" else {}
    runner = load(path, resolved.runtime, threads=threads, **options)
    return Predictor(ref, kind, spec, runner.infer, runner, resolved)
