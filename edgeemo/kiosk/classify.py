"""Face crops -> class probabilities, for any model behind ``infer(batch) -> scores``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def probabilities(scores: np.ndarray, output: str) -> np.ndarray:
    """Model outputs as probabilities: softmax outputs pass through, logits get a softmax."""
    scores = np.asarray(scores, np.float64)
    if output == "softmax":
        return scores
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def make_classifier(infer: Callable[[np.ndarray], np.ndarray], prepare: Callable[[np.ndarray], np.ndarray],
                    output: str = "softmax") -> Callable[[list[np.ndarray]], np.ndarray]:
    """``prepare`` maps one crop to the network input (the spec's preprocessing); all crops go in one batch."""

    def classify(crops: list[np.ndarray]) -> np.ndarray:
        return probabilities(infer(np.stack([prepare(c) for c in crops])), output)

    return classify
