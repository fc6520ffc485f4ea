"""Every artifact checked against its source: same inputs, compare outputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FP32_ATOL = 1e-4  # on probabilities; on logits scaled by the largest |logit|
FP16_ATOL = 1e-2


@dataclass
class Parity:
    max_abs_diff: float
    top1_agreement: float
    tolerance: float
    near_ties: int  # disagreements where the source's top two were within the tolerance
    passed: bool


def is_probability(outputs: np.ndarray) -> bool:
    return bool(outputs.min() >= -1e-6 and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3))


def compare(reference: np.ndarray, candidate: np.ndarray, precision: str = "fp32") -> Parity:
    """Max abs diff and top-1 agreement; a disagreement only counts when the source's choice was clear."""
    reference = reference.reshape(len(reference), -1).astype(np.float64)
    candidate = candidate.reshape(len(candidate), -1).astype(np.float64)
    if reference.shape != candidate.shape:
        return Parity(float("inf"), 0.0, 0.0, 0, False)
    base = FP16_ATOL if precision == "fp16" else FP32_ATOL
    tol = base if is_probability(reference) else base * max(1.0, float(np.abs(reference).max()))
    diff = float(np.abs(reference - candidate).max())
    agree = reference.argmax(1) == candidate.argmax(1)
    top2 = np.sort(reference, axis=1)[:, -2:] if reference.shape[1] > 1 else np.zeros((len(reference), 2))
    tie = (top2[:, 1] - top2[:, 0]) <= 2 * tol
    clear_disagreements = int(np.sum(~agree & ~tie))
    return Parity(diff, float(agree.mean()), tol, int(np.sum(~agree & tie)), diff <= tol and clear_disagreements == 0)
