"""IoU tracking and per-face label smoothing, so a face keeps one label instead of flickering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNCERTAIN = "uncertain"


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every x,y,w,h box in ``a`` with every one in ``b``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    a = np.asarray(a, np.float32)[:, None]
    b = np.asarray(b, np.float32)[None]
    x0 = np.maximum(a[..., 0], b[..., 0])
    y0 = np.maximum(a[..., 1], b[..., 1])
    x1 = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    y1 = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    return inter / np.maximum(union, 1e-6)


def greedy_match(iou: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, col) by descending IoU, each row and column used once, IoU >= threshold."""
    pairs = []
    if iou.size == 0:
        return pairs
    used_r, used_c = set(), set()
    for flat in np.argsort(-iou, axis=None):
        r, c = divmod(int(flat), iou.shape[1])
        if iou[r, c] < threshold:
            break
        if r not in used_r and c not in used_c:
            pairs.append((r, c))
            used_r.add(r)
            used_c.add(c)
    return pairs


@dataclass
class Track:
    """One face followed across frames. Holds a box and smoothed class probabilities, never pixels."""

    id: int
    box: np.ndarray
    probs: np.ndarray
    first_seen: float
    last_seen: float
    hits: int = 1
    label: str = UNCERTAIN
    confidence: float = 0.0
    label_changes: int = 0
    matched: bool = True

    @property
    def dwell_s(self) -> float:
        return self.last_seen - self.first_seen


class IoUTracker:
    """Greedy IoU association; each track's probabilities are an exponential moving average with the given
    half-life, its label the arg-max once it reaches ``threshold`` (else "uncertain"); the current label is kept
    while it stays within ``hysteresis`` of the best and of the threshold, so a face's label does not flicker."""

    def __init__(self, labels: tuple[str, ...] | list[str], iou_threshold: float = 0.3, max_age_s: float = 0.5,
                 half_life_s: float = 0.3, threshold: float = 0.5, hysteresis: float = 0.1, min_hits: int = 2) -> None:
        self.labels = tuple(labels)
        self.iou_threshold = iou_threshold
        self.max_age_s = max_age_s
        self.half_life_s = half_life_s
        self.threshold = threshold
        self.hysteresis = hysteresis
        self.min_hits = min_hits
        self.tracks: list[Track] = []
        self.finished: list[Track] = []  # closed since the last call to ``pop_finished``
        self._next_id = 0

    def update(self, boxes: np.ndarray, probs: np.ndarray, t: float) -> list[Track]:
        """Feed one frame's detections (x,y,w,h) and class probabilities at time ``t`` (seconds);
        returns the confirmed tracks seen in this frame."""
        pairs = greedy_match(iou_matrix(np.array([tr.box for tr in self.tracks]).reshape(-1, 4), boxes),
                             self.iou_threshold)
        for tr in self.tracks:
            tr.matched = False
        taken = set()
        for r, c in pairs:
            tr = self.tracks[r]
            keep = 0.5 ** ((t - tr.last_seen) / self.half_life_s) if self.half_life_s > 0 else 0.0
            tr.probs = keep * tr.probs + (1 - keep) * probs[c]
            tr.box, tr.last_seen, tr.hits, tr.matched = boxes[c], t, tr.hits + 1, True
            self._relabel(tr)
            taken.add(c)
        for c in range(len(boxes)):
            if c not in taken:
                tr = Track(self._next_id, boxes[c], np.asarray(probs[c], np.float64), t, t)
                self._next_id += 1
                self._relabel(tr)
                self.tracks.append(tr)
        alive = []
        for tr in self.tracks:
            (alive if t - tr.last_seen <= self.max_age_s else self.finished).append(tr)
        self.tracks = alive
        return [tr for tr in self.tracks if tr.matched and tr.hits >= self.min_hits]

    def _relabel(self, tr: Track) -> None:
        best = int(np.argmax(tr.probs))
        p = float(tr.probs[best])
        new = self.labels[best] if p >= self.threshold else UNCERTAIN
        if tr.label in self.labels:  # hysteresis: the current label stays while it is nearly as likely as the best
            current = float(tr.probs[self.labels.index(tr.label)])
            if current >= self.threshold - self.hysteresis and p - current < self.hysteresis:
                new = tr.label
        if new != tr.label and tr.hits > 1:
            tr.label_changes += 1
        tr.label = new
        tr.confidence = float(tr.probs[self.labels.index(new)]) if new in self.labels else p

    def pop_finished(self) -> list[Track]:
        done, self.finished = [t for t in self.finished if t.hits >= self.min_hits], []
        return done
