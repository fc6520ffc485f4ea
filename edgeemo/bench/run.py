"""Running a benchmark: open MODEL in a runtime (edgeemo.runtime), feed it, time it with the one measuring loop."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.bench.environment import environment
from edgeemo.bench.result import BenchResult
from edgeemo.errors import DeviceError, EdgeemoError
from edgeemo.runtime import RUNTIMES as FILE_RUNTIMES
from edgeemo.runtime import Session
from edgeemo.runtime.measure import LatencyStats, measure

RUNTIMES = (*FILE_RUNTIMES, "torch")


class BenchMode(str, Enum):
    latency = "latency"  # one request at a time, synchronous: what one kiosk frame waits
    throughput = "throughput"  # async requests / streams: what a busy device sustains


def check_duration(iterations: int | None, seconds: float | None) -> None:
    """One-line errors for a run that could never time anything."""
    if iterations is not None and iterations <= 0:
        raise EdgeemoError(f"--iterations must be positive, got {iterations}")
    if seconds is not None and seconds <= 0:
        raise EdgeemoError(f"--time must be positive, got {seconds}")


def _inputs(session: Session, spec, data: str | None, n: int = 16) -> tuple[list, str]:
    """``n`` pre-encoded batches: faces from DATA preprocessed by the model's spec, else seeded random pixels (0-255,
    normalised by the spec's mean/scale where there is one: the range the model sees)."""
    from edgeemo.runtime import random_inputs

    if spec is None:
        return random_inputs(session, n), "random pixels 0-255 (no model card: as benchmark_app fills a float input)"
    if not data:
        return random_inputs(session, n, mean=spec.mean, scale=spec.scale), "random pixels, normalised by the model card"
    from edgeemo.data import load_dataset
    from edgeemo.data.preprocess import preprocess

    batch = session.batch
    samples = load_dataset(data).take(n * batch)
    from edgeemo.data.datasets import readable

    xs = [preprocess(im, spec) for _, im in readable(samples)]
    if not xs:
        raise EdgeemoError(f"{data}: no readable images")
    arr = np.stack(xs)
    arr = np.concatenate([arr] * (-(-n * batch // len(arr))))[: n * batch]
    return [session.encode(session.adapt(arr[i * batch:(i + 1) * batch])) for i in range(n)], f"faces from {data}"


def prepare(ref: str, runtime: str | None, device: str, mode: str, threads: int | None, streams: int | None,
            batch: int, input_shape: list[int] | None, requests: int | None = None, precision: str | None = None,
            on_step: Callable[[str], None] = lambda step: None):
    """Open MODEL in its runtime by the one resolution rule (``edgeemo.resolve``): (Session, spec or None, ResolvedModel)."""
    from edgeemo.sources import Overrides
    from edgeemo.predictor import find_card, spec_from_card
    from edgeemo.resolve import is_artifact, resolve_model

    if runtime is not None and runtime not in RUNTIMES:
        raise EdgeemoError(f"unknown runtime {runtime!r}: {', '.join(RUNTIMES)}")
    if runtime not in (None, "openvino") and device not in ("CPU", "cpu"):
        raise EdgeemoError(f"--device {device} applies to the OpenVINO runtime; {runtime} runs on the CPU here")
    artifact = is_artifact(ref)
    if artifact and runtime not in (None, "torch"):
        readable = FILE_RUNTIMES[runtime][2]  # the runtime layer's table: OpenVINO also reads ONNX and TFLite
        suffix = Path(ref).suffix.lower()
        if suffix not in readable:
            raise EdgeemoError(f"{ref}: the {runtime} runtime cannot read {suffix} files (it reads {', '.join(readable)})")
    overrides = None if artifact else Overrides(input_shape=input_shape)
    resolved = resolve_model(ref, runtime, overrides, on_step)
    if resolved.runtime == "torch":
        from edgeemo.sources import load_source

        src = load_source(ref, Overrides(input_shape=input_shape))
        if src.framework != "torch":
            raise EdgeemoError(f"{ref}: the torch runtime runs PyTorch models (zoo names, .pt, .pt2)")
        from edgeemo.runtime.torch_eager import TorchSession

        return TorchSession(src.module, [batch, *src.input_shape[1:]], threads), src.spec, resolved
    if resolved.runtime not in RUNTIMES:
        raise EdgeemoError(f"{ref}: edgeemo bench runs {', '.join(RUNTIMES)}, not {resolved.runtime}")
    path = Path(resolved.artifact)
    card = find_card(path)
    spec = spec_from_card(card, path.stem) if card else None
    from edgeemo.runtime import load

    options = {}
    if resolved.runtime == "openvino":
        options = {"mode": mode, "streams": streams, "requests": requests, "input_shape": input_shape if artifact else None}
    return load(path, resolved.runtime, device=device, threads=threads, precision=precision, **options), spec, resolved


def benchmark(ref: str, runtime: str | None = None, device: str = "CPU", mode: str = "latency", threads: int | None = None,
              streams: int | None = None, batch: int = 1, iterations: int | None = 200, seconds: float | None = None,
              warmup: int = 10, data: str | None = None, end_to_end: bool = False, input_shape: list[int] | None = None,
              host_note: str | None = None, requests: int | None = None, precision: str | None = None,
              on_progress: Callable[[int, int | None], None] = lambda d, t: None,
              on_step: Callable[[str], None] = lambda step: None) -> BenchResult:
    """Time MODEL with the one protocol of ``edgeemo.runtime.measure``. ``precision``: OpenVINO's compute-precision
    hint (f32, bf16, f16); None leaves the device's choice, and the result records what it computed in."""
    try:
        mode = BenchMode(mode).value
    except ValueError:
        raise EdgeemoError(f"--mode {mode!r}: {' or '.join(m.value for m in BenchMode)}") from None
    check_duration(iterations, seconds)
    if iterations is None and seconds is None:
        iterations = 200
    if batch != 1 and input_shape is None and Path(ref).suffix.lower() == ".xml":
        raise EdgeemoError("--batch for an IR needs a static IR of that batch (`edgeemo convert --batch N`) or --input-shape")
    session, spec, resolved = prepare(ref, runtime, device, mode, threads, streams, batch, input_shape, requests,
                                      precision, on_step)
    declared = session.input_shape[0]
    if batch != 1 and declared > 0 and declared != batch:
        raise EdgeemoError(f"--batch {batch}: {ref} takes a static batch of {declared}; convert it with "
                           f"`edgeemo convert --batch {batch}`")
    if batch != 1 and declared <= 0:
        session.input_shape[0] = batch  # a dynamic batch: run the one asked for
    inputs, input_desc = _inputs(session, spec, data)
    batch = session.batch
    if mode == "throughput" and session.run_async is not None:
        t0 = time.perf_counter()
        session.run(inputs[0])  # the first inference alone, as in latency mode
        first = (time.perf_counter() - t0) * 1e3
        session.run_async(inputs, min(iterations or 20, 20))  # warm-up
        t0 = time.perf_counter()
        samples = session.run_async(inputs, iterations, None if iterations else seconds)
        wall = time.perf_counter() - t0
        stats = wall_stats = LatencyStats.from_samples(samples)
        fps = len(samples) * batch / wall  # completed inferences over the run's wall time, as benchmark_app's Count / Duration
        source = "runtime-reported per request of the async queue (InferRequest.latency, as benchmark_app)"
    else:
        m = measure(session, inputs, iterations, seconds, warmup, on_progress)
        samples, first, stats, wall_stats, source = m.wall_ms, m.first_ms, m.latency, m.wall, m.source
        fps = 1000.0 * batch / stats.mean
    e2e, pre = _end_to_end(session, spec, data) if end_to_end else (None, None)
    return BenchResult(model=ref, runtime=session.runtime, device=session.device, device_name=session.device_name,
                       mode=mode, threads=session.threads, streams=session.streams, batch=batch, iterations=len(samples),
                       latency_ms=stats, wall_ms=wall_stats, latency_source=source, throughput_fps=fps,
                       compile_ms=session.compile_ms, first_inference_ms=first, precision=session.precision, input=input_desc,
                       end_to_end_ms=e2e, preprocess_ms=pre, environment=environment(), host_note=host_note, resolved=resolved.to_dict())


def _end_to_end(session: Session, spec, data: str | None, n: int = 50) -> tuple[LatencyStats, LatencyStats]:
    """Decode a real JPEG, preprocess with the spec, infer: what a kiosk pays per face. Returns the whole
    (decode + preprocess + infer) and its decode + preprocess part, timed within the same iterations."""
    import cv2

    from edgeemo.data.preprocess import preprocess

    if spec is None:
        raise EdgeemoError("--end-to-end needs the model card (model.json) beside the artifact for its preprocessing")
    if data:
        from edgeemo.data import load_dataset

        path = next(s.path for s in load_dataset(data).take(8) if s.path is not None)
        encoded = np.frombuffer(Path(path).read_bytes(), np.uint8)
    else:
        rng = np.random.default_rng(0)
        ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (128, 128, 3), np.uint8))
        encoded = buf.ravel()
    whole, before_infer = [], []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        image = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
        tensor = session.encode(session.adapt(preprocess(image, spec)[None]))  # encoding is part of the kiosk path
        t1 = time.perf_counter_ns()
        session.run(tensor)
        t2 = time.perf_counter_ns()
        whole.append((t2 - t0) / 1e6)
        before_infer.append((t1 - t0) / 1e6)
    return LatencyStats.from_samples(whole), LatencyStats.from_samples(before_infer)


__all__ = ["BenchResult", "DeviceError", "LatencyStats", "benchmark", "environment"]
