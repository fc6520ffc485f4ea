"""Latency statistics over sorted samples (benchmark_app's percentile convention)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class LatencyStats:
    median: float
    mean: float
    std: float
    min: float
    max: float
    p90: float
    p99: float

    @classmethod
    def from_samples(cls, samples_ms: list[float] | np.ndarray) -> "LatencyStats":
        s = np.sort(np.asarray(samples_ms, dtype=np.float64))
        if s.size == 0:
            raise ValueError("no latency samples")
        return cls(median=float(np.median(s)), mean=float(s.mean()), std=float(s.std()), min=float(s[0]), max=float(s[-1]),
                   p90=float(np.percentile(s, 90)), p99=float(np.percentile(s, 99)))

    def to_dict(self) -> dict:
        return asdict(self)
