"""The one measuring protocol, used by `edgeemo bench` and the bundle's `runner.py bench` alike: inputs encoded
beforehand, a first call timed alone, warm-up, then N iterations or T seconds on a monotonic clock. Latency is the
runtime's own figure where it keeps one (OpenVINO's InferRequest.latency, as benchmark_app), else the wall clock."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np


@dataclass
class LatencyStats:
    """Milliseconds. Percentiles by linear interpolation between order statistics (numpy's default); benchmark_app
    takes the nearest rank: the two agree to within one sample's spacing, and exactly on the median of an odd count."""

    median: float
    mean: float
    std: float
    min: float
    max: float
    p90: float
    p99: float

    @classmethod
    def from_samples(cls, samples_ms) -> "LatencyStats":
        s = np.sort(np.asarray(samples_ms, dtype=np.float64))
        if s.size == 0:
            raise ValueError("no latency samples")
        return cls(median=float(np.median(s)), mean=float(s.mean()), std=float(s.std()), min=float(s[0]), max=float(s[-1]),
                   p90=float(np.percentile(s, 90)), p99=float(np.percentile(s, 99)))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Measurement:
    wall_ms: list[float]  # the blocking call as the calling program sees it
    runtime_ms: list[float] | None  # the runtime's own figure per call, where it keeps one
    first_ms: float  # the first call alone (lazy allocations)

    @property
    def latency(self) -> LatencyStats:
        return LatencyStats.from_samples(self.runtime_ms or self.wall_ms)

    @property
    def wall(self) -> LatencyStats:
        return LatencyStats.from_samples(self.wall_ms)

    @property
    def source(self) -> str:
        return "runtime-reported (InferRequest.latency, as benchmark_app)" if self.runtime_ms else "wall clock around the call"


def measure(session, inputs: list, iterations: int | None = 100, seconds: float | None = None, warmup: int = 10,
            on_progress: Callable[[int, int | None], None] = lambda done, total: None) -> Measurement:
    """Time ``session.run`` on pre-encoded inputs (cycled); stop after ``iterations`` or ``seconds``, whichever first."""
    if not inputs:
        raise ValueError("no inputs to measure with")
    clock = time.perf_counter_ns
    run = session.run
    t0 = clock()
    run(inputs[0])
    first_ms = (clock() - t0) / 1e6
    for i in range(warmup):
        run(inputs[i % len(inputs)])
    reported: list[float] | None = [] if session.latency_ms() is not None else None
    samples: list[float] = []
    deadline = clock() + int(seconds * 1e9) if seconds else None
    i = 0
    while (iterations is None or i < iterations) and (deadline is None or clock() < deadline):
        x = inputs[i % len(inputs)]
        t0 = clock()
        run(x)
        samples.append((clock() - t0) / 1e6)
        if reported is not None:
            reported.append(session.latency_ms())
        i += 1
        if i % 10 == 0:
            on_progress(i, iterations)
    return Measurement(samples, reported, first_ms)


def quick_latency(session, iterations: int = 50, mean=None, scale=None) -> LatencyStats:
    """A short measurement on seeded random pixels, normalised by ``mean``/``scale`` (e.g. INT8 vs FP32 in quantize)."""
    from . import random_inputs

    return measure(session, random_inputs(session, 4, mean=mean, scale=scale), iterations=iterations, warmup=5).latency
