"""Classification metrics for imbalanced data: macro figures first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalResult:
    model: str
    data: str
    split: str
    labels: list[str]
    n: int
    accuracy: float
    macro_recall: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: list[list[int]]  # rows: true label, columns: predicted
    skipped: dict[str, int] = field(default_factory=dict)
    resize: str = ""
    seconds: float = 0.0
    split_reason: str = ""  # why this split: the default is all images unless the model was trained on this dataset
    resolved: dict | None = None  # what MODEL resolved to (edgeemo.resolve.ResolvedModel)
    computed_in: str = ""  # the compute precision the predictions came from (as bench reports it)
    aligned: bool = False  # faces turned eyes-level first (BlazeFace keypoints)

    def to_dict(self) -> dict:
        return asdict(self)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    support = confusion.sum(1)
    predicted = confusion.sum(0)
    tp = np.diag(confusion)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = support > 0  # macro over the classes that occur in the data
    return {
        "accuracy": float(tp.sum() / max(1, confusion.sum())),
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            label: ClassMetrics(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
            for i, label in enumerate(labels)
        },
        "confusion": confusion.tolist(),
    }
