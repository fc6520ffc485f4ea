"""Per-interval counts: the only thing a kiosk run outputs."""

from __future__ import annotations

from collections import Counter

from .track import UNCERTAIN, Track


class IntervalAggregator:
    """Collects what the confirmed tracks showed during one interval and emits it as one JSON-able record:
    frames, faces (distinct faces seen), emotions (faces by the label they showed most), face_seconds
    per label, and the mean dwell time of those faces. No boxes, ids, crops or embeddings."""

    def __init__(self, labels: tuple[str, ...] | list[str], interval_s: float) -> None:
        self.labels = tuple(labels)
        self.interval_s = interval_s
        self.start: float | None = None
        self._reset()

    def _reset(self) -> None:
        self.frames = 0
        self.face_labels: dict[int, Counter] = {}
        self.dwell: dict[int, float] = {}
        self.new_faces = 0
        self.face_seconds = Counter()
        self.last_t: float | None = None

    def due(self, t: float) -> bool:
        return self.start is not None and t - self.start >= self.interval_s

    def observe(self, t: float, tracks: list[Track]) -> None:
        if self.start is None:
            self.start = t
        dt = 0.0 if self.last_t is None else max(0.0, t - self.last_t)
        self.last_t = t
        self.frames += 1
        for tr in tracks:
            if tr.id not in self.face_labels:
                self.face_labels[tr.id] = Counter()
                self.new_faces += tr.first_seen >= self.start
            self.face_labels[tr.id][tr.label] += 1
            self.dwell[tr.id] = tr.dwell_s
            self.face_seconds[tr.label] += dt

    def flush(self, end: float) -> dict:
        """The record for [start, end) and a fresh interval starting at ``end``."""
        emotions = Counter(c.most_common(1)[0][0] for c in self.face_labels.values())
        names = self.labels + (UNCERTAIN,)
        record = {
            "start_s": round(self.start if self.start is not None else end, 3),
            "end_s": round(end, 3),
            "frames": self.frames,
            "faces": len(self.face_labels),
            "new_faces": self.new_faces,
            "emotions": {name: emotions.get(name, 0) for name in names},
            "face_seconds": {name: round(self.face_seconds.get(name, 0.0), 2) for name in names},
            "mean_dwell_s": round(sum(self.dwell.values()) / len(self.dwell), 2) if self.dwell else 0.0,
        }
        self.start = end
        self._reset()
        return record
