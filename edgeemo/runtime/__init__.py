"""Runtimes behind one interface: ``load(path) -> Runner``; ``runner.infer(batch)``.

Every runner takes a batch in NCHW (the zoo's layout) or in the model's own declared layout and
transposes when needed, so callers never transpose by hand. Static batch-1 models are run one
sample at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeemo.errors import ModelLoadError

RUNTIME_FOR_SUFFIX = {".onnx": "onnxruntime", ".xml": "openvino", ".tflite": "litert"}


class Runner:
    """Base: holds the model's declared input shape/layout and adapts batches to it."""

    name = "runner"

    def __init__(self, input_shape: list[int], layout: str) -> None:
        self.input_shape = list(input_shape)
        self.layout = layout

    def _run(self, x: np.ndarray) -> np.ndarray:  # one batch in the model's own layout and batch size
        raise NotImplementedError

    def adapt(self, batch: np.ndarray) -> np.ndarray:
        """Bring an NCHW (or already model-layout) batch into the model's layout."""
        return adapt_layout(batch, self.input_shape, self.layout, self.name)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        x = self.adapt(batch)
        n = self.input_shape[0]
        if n in (None, -1, 0) or x.shape[0] == n:
            return self._run(x)
        if x.shape[0] % n:
            raise ModelLoadError(f"{self.name}: batch of {x.shape[0]} is not a multiple of the model's batch {n}")
        return np.concatenate([self._run(x[i : i + n]) for i in range(0, x.shape[0], n)])


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
    dims[0] = dims[0] or 1
    total = 1
    for d in dims:
        total *= d
    if total > MAX_INPUT_ELEMENTS:
        raise ModelLoadError(f"{name}: input shape {dims} holds {total:,} values per batch; refusing to allocate it")
    return dims


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


def load(path: str | Path, runtime: str | None = None, **options) -> Runner:
    """Open an artifact in its runtime (or the one named)."""
    path = Path(path)
    runtime = runtime or RUNTIME_FOR_SUFFIX.get(path.suffix.lower())
    if runtime == "openvino":
        from edgeemo.runtime.openvino import OpenVINORunner

        return OpenVINORunner(path, **options)
    if runtime == "onnxruntime":
        from edgeemo.runtime.onnxruntime import OnnxRuntimeRunner

        return OnnxRuntimeRunner(path, **options)
    if runtime == "litert":
        from edgeemo.runtime.litert import LiteRTRunner

        return LiteRTRunner(path, **options)
    raise ModelLoadError(f"{path}: no runtime for {path.suffix or 'this file'} (known: {', '.join(RUNTIME_FOR_SUFFIX)})")


def layout_of(shape: list[int]) -> str:
    """Guess NHWC when the last dim looks like channels (1 or 3) and the second does not."""
    if len(shape) == 4 and shape[-1] in (1, 3) and shape[1] not in (1, 3):
        return "NHWC"
    return "NCHW"
