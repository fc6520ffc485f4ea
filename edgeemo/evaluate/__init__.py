"""Accuracy on real faces, through the model's real runtime."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from edgeemo.data import load_dataset, preprocess
from edgeemo.data.datasets import Dataset, DatasetError, readable
from edgeemo.evaluate.metrics import ClassMetrics, EvalResult, classification_metrics
from edgeemo.predictor import Predictor

BATCH = 32


def labeled_batches(dataset: Dataset, predictor: Predictor, resize: str | None, skipped: dict[str, int],
                    batch: int = BATCH) -> Iterator[tuple[np.ndarray, list[str]]]:
    """Preprocessed (inputs, labels) batches; unreadable images are counted in ``skipped['unreadable']``."""
    xs, ys = [], []
    for sample, image in readable(dataset.samples, skipped):
        xs.append(preprocess(image, predictor.spec, resize))
        ys.append(sample.label)
        if len(xs) == batch:
            yield np.stack(xs), ys
            xs, ys = [], []
    if xs:
        yield np.stack(xs), ys


@dataclass(frozen=True)
class SplitPlan:
    """Which part of a dataset to evaluate on, the split's parameters, and why."""

    part: str  # train, val, test or all
    val_fraction: float = 0.2
    seed: int = 0
    test_fraction: float = 0.0
    reason: str = ""
    own: bool = False  # the fractions and seed are those the model was trained with (its card's split of this data)


def _training_card(ref: str) -> dict:
    """The card that records how the model behind ``ref`` was trained: a zoo name's card, the card beside a file
    (train's own model.json), or the zoo card of the model an artifact was converted from."""
    from pathlib import Path

    from edgeemo.models import list_models, zoo_card
    from edgeemo.predictor import weights_card

    if ref in list_models():
        return zoo_card(ref)
    path = Path(ref)
    beside = (weights_card(path) if path.is_file() else None) or {}
    if "training" in beside:
        return beside
    source = beside.get("source")
    if source and source not in list_models() and Path(source).is_file():  # converted from weights of `edgeemo train`
        origin = weights_card(Path(source)) or {}
        return origin if "training" in origin else {}
    return zoo_card(source)


def training_data(ref: str) -> dict | None:
    """The ``data`` record of the card that says how the model behind ``ref`` was trained (with its ``labels``)."""
    card = _training_card(ref)
    return {**card["data"], "labels": card.get("labels")} if isinstance(card.get("data"), dict) else None


def label_precision(ref: str) -> dict[str, float] | None:
    """Each label's precision on the model's own validation split, from the card that says how it was trained (the
    share of faces given that label that truly showed it); None where no card records it."""
    per_class = (_training_card(ref).get("validation") or {}).get("per_class") or {}
    figures = {label: v["precision"] for label, v in per_class.items() if isinstance(v, dict) and "precision" in v}
    return figures or None


def calibrated(ref: str) -> bool:
    """Whether the card that says how the model was trained records a temperature (``edgeemo train`` and the zoo's
    scripts/calibrate_zoo.py): only then do its probabilities mean what the kiosk's --threshold takes them to mean."""
    return bool((_training_card(ref).get("calibration") or {}).get("temperature"))


def trained_aligned(ref: str) -> bool:
    """Whether the model was trained on eyes-level faces (``edgeemo train --align``; convert carries the fact into
    its artifacts' card): eval and run then align too."""
    from pathlib import Path

    from edgeemo.predictor import weights_card

    path = Path(ref)
    beside = (weights_card(path) if path.is_file() else None) or {}
    return bool(beside.get("align") or _training_card(ref).get("align"))


def _same_dataset(record: dict, data: str) -> bool:
    """Whether ``data`` is the dataset a card's ``data`` record names: the same folder, or a copy of it elsewhere
    (the same images under the same labels: the record's fingerprint)."""
    from pathlib import Path

    from edgeemo.data import load_dataset
    from edgeemo.data.datasets import DatasetError
    from edgeemo.models import zoo_dir

    trained_on = str(record.get("source", ""))
    wanted = Path(data).resolve()
    places = [Path(trained_on), zoo_dir().parent / trained_on]
    if any(p.resolve() == wanted for p in places if p.exists()):
        return True
    fingerprint, labels = record.get("fingerprint"), record.get("labels")
    if not fingerprint or not labels:
        return False
    try:
        return load_dataset(data).restrict(tuple(labels)).fingerprint() == fingerprint
    except DatasetError:  # not a dataset, or none of the model's labels: said by the evaluation itself
        return False


def plan_split(ref: str, data: str, split: str = "auto") -> SplitPlan:
    """``auto``: the validation split when the model was trained on ``data`` (its card says so), else every image.
    Named splits of such a dataset use the card's own fractions and seed, so val and test are the model's own."""
    record = training_data(ref)
    trained_here = bool(record) and _same_dataset(record, data)
    fractions = (record or {}).get("split_fractions") or {"val": 0.2, "test": 0.0, "seed": 0}
    params = dict(val_fraction=fractions["val"], seed=fractions["seed"], test_fraction=fractions["test"], own=True) if trained_here else {}
    if split == "auto":
        if trained_here:
            return SplitPlan("val", **params, reason="the model was trained on this dataset: its validation split")
        return SplitPlan("all", reason="every image (the model's card does not say it was trained on this dataset)")
    if split == "test" and trained_here and not params["test_fraction"]:
        raise DatasetError(f"{ref} was trained with a two-way split of {data}: it has no held-out test split")
    if split == "test" and not trained_here:  # a folder the model never trained on holds out every image
        raise DatasetError(f"{data}: no test split for {ref} (its card does not say it was trained on this dataset, so "
                           "every image is held out): evaluate them all with --split all, the default here")
    return SplitPlan(split, **params, reason="asked with --split" + (" (the model's own split)" if trained_here else ""))


def prepare(data: str, labels: tuple[str, ...], split: str | SplitPlan, classes: list[str] | None, limit: int | None = None,
            align: bool = False) -> Dataset:
    """Load, keep the model's (or the chosen) classes, split deterministically; ``align``: faces turned eyes-level."""
    plan = split if isinstance(split, SplitPlan) else SplitPlan(split)
    split = plan.part
    wanted = tuple(classes) if classes else labels
    unknown = [c for c in wanted if c not in labels]
    if unknown:
        raise DatasetError(f"class(es) {', '.join(unknown)} are not among the model's labels ({', '.join(labels)})")
    dataset = load_dataset(data).restrict(wanted).split(split, plan.val_fraction, plan.seed, plan.test_fraction)
    if limit:
        dataset.samples = dataset.take(limit)
    if not dataset.samples:
        raise DatasetError(f"{data}: the {split} split is empty")
    if align:
        from edgeemo.data.align import FaceAligner

        dataset = dataset.transformed(FaceAligner())
    return dataset


def evaluate(predictor: Predictor, data: str, split: str = "auto", classes: list[str] | None = None,
             resize: str | None = None, limit: int | None = None,
             on_progress: Callable[[int, int], None] = lambda done, total: None, align: bool | None = None) -> EvalResult:
    """Accuracy, macro recall/F1, per-class figures and the confusion matrix on one split. ``align``: faces turned
    eyes-level first (None: as the model was trained, ``trained_aligned``)."""
    start = time.perf_counter()
    labels = list(predictor.spec.labels)
    wanted = list(classes) if classes else labels
    plan = plan_split(predictor.ref, data, split)
    align = trained_aligned(predictor.ref) if align is None else align
    dataset = prepare(data, tuple(labels), plan, classes, limit, align)
    skipped = dict(dataset.skipped)
    columns = [labels.index(c) for c in wanted]  # argmax only over the evaluated classes
    y_true, y_pred, done = [], [], 0
    for x, ys in labeled_batches(dataset, predictor, resize, skipped):
        scores = np.asarray(predictor.predict(x)).reshape(len(x), -1)[:, columns]
        y_pred.extend(scores.argmax(1).tolist())
        y_true.extend(wanted.index(y) for y in ys)
        done += len(ys)
        on_progress(done, len(dataset.samples))
    if not y_true:
        raise DatasetError(f"{data}: none of the images could be read")
    metrics = classification_metrics(np.array(y_true), np.array(y_pred), wanted)
    return EvalResult(model=predictor.ref, data=str(data), split=plan.part, split_reason=plan.reason, labels=wanted, n=len(y_true), skipped=skipped,
                      resize=resize or predictor.spec.resize, seconds=time.perf_counter() - start,
                      resolved=predictor.resolved.to_dict() if predictor.resolved else None,
                      computed_in=predictor.precision, aligned=align, **metrics)


__all__ = ["ClassMetrics", "EvalResult", "SplitPlan", "calibrated", "evaluate", "labeled_batches", "plan_split", "prepare", "trained_aligned"]
