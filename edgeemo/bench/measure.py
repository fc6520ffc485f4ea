"""The measuring loop: warm-up, then N iterations or T seconds on a monotonic clock, inputs prepared beforehand."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from edgeemo.bench.stats import LatencyStats


def measure(infer: Callable[[np.ndarray], object], inputs: list, iterations: int | None = 100,
            seconds: float | None = None, warmup: int = 10,
            on_progress: Callable[[int, int | None], None] = lambda done, total: None,
            runtime_latency: Callable[[], float] | None = None) -> tuple[list[float], float, list[float] | None]:
    """Time ``infer`` on pre-filled inputs (cycled).

    Returns (wall-clock latencies in ms, first-inference ms, runtime-reported latencies in ms or None).
    The first call is timed on its own (it includes lazy allocations); warm-up calls are not recorded.
    Stops after ``iterations`` or after ``seconds`` (both given: whichever comes first).
    """
    if not inputs:
        raise ValueError("no inputs to benchmark with")
    clock = time.perf_counter_ns
    t0 = clock()
    infer(inputs[0])
    first_ms = (clock() - t0) / 1e6
    for i in range(warmup):
        infer(inputs[i % len(inputs)])
    samples: list[float] = []
    reported: list[float] | None = [] if runtime_latency is not None else None
    deadline = clock() + int(seconds * 1e9) if seconds else None
    i = 0
    while (iterations is None or i < iterations) and (deadline is None or clock() < deadline):
        x = inputs[i % len(inputs)]
        t0 = clock()
        infer(x)
        samples.append((clock() - t0) / 1e6)
        if reported is not None:
            reported.append(runtime_latency())
        i += 1
        if i % 10 == 0:
            on_progress(i, iterations)
    return samples, first_ms, reported


def quick_latency(infer: Callable[[np.ndarray], object], x: np.ndarray, iterations: int = 50) -> LatencyStats:
    samples, _, _ = measure(infer, [x], iterations=iterations, warmup=5)
    return LatencyStats.from_samples(samples)
