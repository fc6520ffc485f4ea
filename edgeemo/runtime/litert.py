"""LiteRT (TFLite) interpreter with XNNPACK: ai-edge-litert, or tflite_runtime on old Raspberry Pi images."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import Session, check_input, layout_of
from ._compat import MissingDependencyError, ModelLoadError, first_line, quiet_native


def interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise MissingDependencyError("TFLite needs ai-edge-litert (pip install ai-edge-litert) or tflite_runtime") from None
    return Interpreter


class LiteRTSession(Session):
    runtime = "litert"

    def __init__(self, path: str | Path, threads: int | None = None, input_shape: list[int] | None = None) -> None:
        """``input_shape``: resize the input first (convolutional graphs, e.g. BlazeFace at the frames' aspect)."""
        Interpreter = interpreter_class()
        path = Path(path)
        t0 = time.perf_counter()
        try:
            with quiet_native():  # the XNNPACK banner goes to fd 2
                self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
                if input_shape:
                    self.interpreter.resize_tensor_input(self.interpreter.get_input_details()[0]["index"],
                                                         [int(d) for d in input_shape], strict=False)
                self.interpreter.allocate_tensors()
        except Exception as exc:
            raise ModelLoadError(f"{path}: LiteRT cannot load it: {first_line(exc)}") from exc
        compile_ms = (time.perf_counter() - t0) * 1e3
        inputs = self.interpreter.get_input_details()
        check_input(path.name, [[int(d) for d in i["shape"]] for i in inputs])
        self._input, self._outputs = inputs[0], self.interpreter.get_output_details()
        self._output = self._outputs[0]
        shape = [int(d) for d in self._input["shape"]]
        dtype = np.dtype(self._input["dtype"])
        int8 = any(np.dtype(t["dtype"]) == np.int8 for t in self.interpreter.get_tensor_details())
        super().__init__(shape, layout_of(shape), precision=f"{'int8' if int8 else 'fp32'} (input {dtype.name}, XNNPACK)",
                         threads=threads, compile_ms=compile_ms)

    def encode(self, x: np.ndarray) -> object:
        return encode_input(np.asarray(x, dtype=np.float32), self._input)

    def run(self, encoded: object) -> None:
        self.interpreter.set_tensor(self._input["index"], encoded)
        self.interpreter.invoke()

    def output(self) -> np.ndarray:
        return decode_output(self.interpreter.get_tensor(self._output["index"]), self._output)

    def outputs(self) -> list[np.ndarray]:
        return [decode_output(self.interpreter.get_tensor(d["index"]), d) for d in self._outputs]


def encode_input(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float input -> the tensor's type (quantized with its scale/zero point for an int8/uint8 input)."""
    scale, zero = detail["quantization"]
    if not scale or detail["dtype"] == np.float32:
        return np.ascontiguousarray(x, dtype=detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])


def decode_output(y: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    return y.astype(np.float32) if not scale or detail["dtype"] == np.float32 else (y.astype(np.float32) - zero) * scale
