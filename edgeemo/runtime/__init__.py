"""One runtime layer for edgeemo and the kiosk: ``load(path, device, threads, precision) -> Session``.

A ``Session`` is a model compiled in one runtime. ``infer(batch)`` takes a float batch in NCHW (the zoo's
layout) or the model's own layout, splits it to the model's batch size and returns float outputs. Timing uses
the two halves of that call: ``encode(x)`` (outside the clock: the runtime's input type) and ``run(encoded)``
(the timed call), with ``latency_ms()`` the runtime's own figure for it where it keeps one (OpenVINO).

Numpy only at this level; each backend imports its framework. ``edgeemo deploy`` copies this package into
every bundle as ``edgeemo_runtime/``, so the kiosk runs the code `edgeemo bench` measured. Adding a runtime:
one module with a ``Session`` subclass and one row in ``RUNTIMES``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from ._compat import ModelLoadError

# runtime -> (module, Session class, file suffixes it reads)
RUNTIMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "openvino": ("openvino", "OpenVINOSession", (".xml", ".onnx", ".tflite")),  # its frontends read ONNX and TFLite
    "onnxruntime": ("onnxruntime", "OnnxRuntimeSession", (".onnx",)),
    "litert": ("litert", "LiteRTSession", (".tflite",)),
}
RUNTIME_FOR_SUFFIX = {".xml": "openvino", ".onnx": "onnxruntime", ".tflite": "litert"}  # the default reader


class Session:
    """A compiled model. Subclasses set the fields below and implement ``run`` and ``output``."""

    runtime = "runtime"

    def __init__(self, input_shape: list[int], layout: str, *, device: str = "CPU", device_name: str = "",
                 precision: str = "fp32", threads: int | None = None, streams: int = 1, compile_ms: float = 0.0) -> None:
        self.input_shape = list(input_shape)  # declared; a dynamic batch is -1
        self.layout = layout
        self.device = device
        self.device_name = device_name or device
        self.precision = precision  # what the runtime computes in, as it reports it
        self.threads = threads
        self.streams = streams
        self.compile_ms = compile_ms

    # the timed path
    def encode(self, x: np.ndarray) -> object:
        """A float batch in the model's layout -> what ``run`` takes (done outside any timing)."""
        return np.ascontiguousarray(x, dtype=np.float32)

    def run(self, encoded: object) -> None:
        """One inference on an encoded batch of the model's batch size: the call a benchmark times."""
        raise NotImplementedError

    def output(self) -> np.ndarray:
        """The float output of the last ``run``."""
        raise NotImplementedError

    def outputs(self) -> list[np.ndarray]:
        """Every float output of the last ``run`` (a detector has boxes and scores), in the runtime's order."""
        return [self.output()]

    def latency_ms(self) -> float | None:
        """The runtime's own latency figure for the last ``run`` (None where it keeps none)."""
        return None

    run_async = None  # throughput mode: (inputs, count, seconds) -> per-request latencies in ms, where the runtime queues

    # the whole call
    @property
    def batch(self) -> int:
        return self.input_shape[0] if self.input_shape[0] > 0 else 1

    def static_shape(self) -> list[int]:
        """The input shape with a dynamic batch taken as 1: what a benchmark feeds."""
        return [self.batch, *self.input_shape[1:]]

    def adapt(self, batch: np.ndarray) -> np.ndarray:
        """Bring an NCHW (or already model-layout) batch into the model's layout."""
        return adapt_layout(batch, self.input_shape, self.layout, self.runtime)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        x = self.adapt(batch)
        n = self.input_shape[0]
        if n <= 0 or x.shape[0] == n:
            self.run(self.encode(x))
            return self.output()
        if x.shape[0] % n:
            raise ModelLoadError(f"{self.runtime}: batch of {x.shape[0]} is not a multiple of the model's batch {n}")
        outputs = []
        for i in range(0, x.shape[0], n):
            self.run(self.encode(x[i : i + n]))
            outputs.append(self.output())
        return np.concatenate(outputs)

    def infer_all(self, x: np.ndarray) -> list[np.ndarray]:
        """One batch of the model's batch size -> every output (multi-output models: detectors)."""
        self.run(self.encode(self.adapt(x)))
        return self.outputs()

    def describe(self) -> dict:
        return {"runtime": self.runtime, "device": self.device, "device_name": self.device_name, "precision": self.precision,
                "threads": self.threads, "streams": self.streams, "input_shape": self.input_shape, "layout": self.layout}


def load(path: str | Path, runtime: str | None = None, *, device: str = "CPU", threads: int | None = None,
         precision: str | None = None, **options) -> Session:
    """Open an artifact in its runtime (or the one named). ``precision``: a compute-precision hint (f32, bf16, f16)
    for runtimes that take one; None leaves the device's own choice. Backend options (OpenVINO: mode, streams,
    input_shape, requests) pass through."""
    path = Path(path)
    runtime = runtime or RUNTIME_FOR_SUFFIX.get(path.suffix.lower())
    if runtime not in RUNTIMES:
        raise ModelLoadError(f"{path}: no runtime for {path.suffix or 'this file'} (known: {', '.join(RUNTIME_FOR_SUFFIX)})")
    module, cls, suffixes = RUNTIMES[runtime]
    if path.suffix.lower() not in suffixes:
        raise ModelLoadError(f"{path}: the {runtime} runtime cannot read {path.suffix or 'this file'} (it reads {', '.join(suffixes)})")
    if runtime != "openvino" and device.upper() != "CPU":
        raise ModelLoadError(f"--device {device} applies to the OpenVINO runtime; {runtime} runs on the CPU here")
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such file")
    session_class = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    if runtime == "openvino":
        return session_class(path, device=device, threads=threads, precision=precision, **options)
    if precision not in (None, "f32"):
        raise ModelLoadError(f"{runtime} computes in the artifact's own precision; a precision hint ({precision}) applies to OpenVINO")
    return session_class(path, threads=threads, **options)


MAX_INPUT_ELEMENTS = 1 << 26  # 64M values (256 MB of float32) per input batch: far above any face model


def check_input(name: str, shapes: list[list], dynamic_hint: str = "--input-shape 1,3,64,64") -> list[int]:
    """The one input of an image model, static apart from the batch (which becomes 1), and of a sane size;
    refused in one line before anything is allocated."""
    if len(shapes) != 1:
        raise ModelLoadError(f"{name}: has {len(shapes)} inputs; edgeemo measures image models with one input")
    shape = list(shapes[0])
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if any(d is None for d in dims[1:]):
        raise ModelLoadError(f"{name}: input shape {shape} is dynamic beyond the batch; fix it with {dynamic_hint} "
                             "(or convert the model with `edgeemo convert --input-shape`)")
    total = 1
    for d in dims:
        total *= d or 1
    if total > MAX_INPUT_ELEMENTS:
        raise ModelLoadError(f"{name}: input shape {dims} holds {total:,} values per batch; refusing to allocate it")
    return [dims[0] or 1, *dims[1:]]


def adapt_layout(batch: np.ndarray, input_shape: list[int], layout: str, name: str = "model") -> np.ndarray:
    """A batch in NCHW or NHWC, transposed if needed to fit ``input_shape`` (declared ``layout``)."""
    batch = np.asarray(batch, dtype=np.float32)
    want = list(input_shape[1:])
    if list(batch.shape[1:]) == want:
        return batch
    if batch.ndim == 4 and layout == "NHWC" and list(batch.transpose(0, 2, 3, 1).shape[1:]) == want:
        return np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
    if batch.ndim == 4 and layout == "NCHW" and list(batch.transpose(0, 3, 1, 2).shape[1:]) == want:
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
    raise ModelLoadError(f"{name}: input batch {list(batch.shape)} does not fit the model input {list(input_shape)}")


def layout_of(shape: list[int]) -> str:
    """Guess NHWC when the last dim looks like channels (1 or 3) and the second does not."""
    if len(shape) == 4 and shape[-1] in (1, 3) and shape[1] not in (1, 3):
        return "NHWC"
    return "NCHW"


def random_inputs(session: Session, n: int = 16, seed: int = 0, mean=None, scale=None) -> list:
    """The benchmark's default inputs: ``n`` seeded batches of random pixels, uniform over [0, 255] as benchmark_app
    fills a float input, normalised as the model's card says ((pixel - mean) / scale per channel) where it is known;
    pre-encoded. The range can matter: on a Xeon with AMX, an FP32 IR that OpenVINO computes in bf16 ran 9% faster
    on values in [-1, 1] than on the 0-255 pixels a kiosk feeds it."""
    rng = np.random.default_rng(seed)
    shape = session.static_shape()
    axis = -1 if session.layout == "NHWC" else 1
    where = [1] * len(shape)
    where[axis] = -1

    def per_channel(values, default: float) -> np.ndarray:
        v = np.asarray(default if values is None else values, dtype=np.float32).reshape(-1)
        if v.size not in (1, shape[axis]):
            raise ModelLoadError(f"{session.runtime}: {v.size} mean/scale values for an input of {shape[axis]} channels")
        return v.reshape(where) if v.size > 1 else v

    m, s = per_channel(mean, 0.0), per_channel(scale, 1.0)
    return [session.encode((rng.uniform(0, 255, size=shape).astype(np.float32) - m) / s) for _ in range(n)]
