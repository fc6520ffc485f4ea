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


def weak_reference(reference: np.ndarray) -> str | None:
    """Why a parity check against these source outputs proves little, or None: probabilities that are one-hot on
    most inputs compare equal whatever an artifact computes before its softmax (typically inputs outside the range
    the model was trained on: the preprocessing facts are wrong or missing)."""
    reference = reference.reshape(len(reference), -1)
    if len(reference) == 0 or reference.shape[1] < 2 or not is_probability(reference):
        return None
    one_hot = int(np.sum(reference.max(axis=1) >= 1.0 - FP32_ATOL))  # every other class within the tolerance of 0
    if 4 * one_hot < 3 * len(reference):
        return None
    return (f"the source's outputs are one-hot on {one_hot} of {len(reference)} verification inputs, so the parity "
            "check proves little: are the preprocessing facts right (--mean/--scale, --channel-order)? Verify on real "
            "faces with --data")


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
