"""Accuracy on real faces, through the model's real runtime."""

from __future__ import annotations

import time
from typing import Callable, Iterator

import numpy as np

from edgeemo.data import load_dataset, preprocess
from edgeemo.data.datasets import Dataset, DatasetError
from edgeemo.evaluate.metrics import ClassMetrics, EvalResult, classification_metrics
from edgeemo.predictor import Predictor

BATCH = 32


def labeled_batches(dataset: Dataset, predictor: Predictor, resize: str | None, skipped: dict[str, int],
                    batch: int = BATCH) -> Iterator[tuple[np.ndarray, list[str]]]:
    """Preprocessed (inputs, labels) batches; unreadable images are counted in ``skipped['unreadable']``."""
    xs, ys = [], []
    for sample in dataset.samples:
        image = sample.load()
        if image is None or image.size == 0:
            skipped["unreadable"] = skipped.get("unreadable", 0) + 1
            continue
        xs.append(preprocess(image, predictor.spec, resize))
        ys.append(sample.label)
        if len(xs) == batch:
            yield np.stack(xs), ys
            xs, ys = [], []
    if xs:
        yield np.stack(xs), ys


def prepare(data: str, labels: tuple[str, ...], split: str, classes: list[str] | None, limit: int | None = None) -> Dataset:
    """Load, keep the model's (or the chosen) classes, split deterministically."""
    wanted = tuple(classes) if classes else labels
    unknown = [c for c in wanted if c not in labels]
    if unknown:
        raise DatasetError(f"class(es) {', '.join(unknown)} are not among the model's labels ({', '.join(labels)})")
    dataset = load_dataset(data).restrict(wanted).split(split)
    if limit:
        dataset.samples = dataset.take(limit)
    if not dataset.samples:
        raise DatasetError(f"{data}: the {split} split is empty")
    return dataset


def evaluate(predictor: Predictor, data: str, split: str = "val", classes: list[str] | None = None,
             resize: str | None = None, limit: int | None = None,
             on_progress: Callable[[int, int], None] = lambda done, total: None) -> EvalResult:
    """Accuracy, macro recall/F1, per-class figures and the confusion matrix on one split."""
    start = time.perf_counter()
    labels = list(predictor.spec.labels)
    wanted = list(classes) if classes else labels
    dataset = prepare(data, tuple(labels), split, classes, limit)
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
    return EvalResult(model=predictor.ref, data=str(data), split=split, labels=wanted, n=len(y_true), skipped=skipped,
                      resize=resize or predictor.spec.resize, seconds=time.perf_counter() - start, **metrics)


__all__ = ["ClassMetrics", "EvalResult", "evaluate", "labeled_batches", "prepare"]
