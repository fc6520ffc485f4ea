"""LiteRT (TFLite) interpreter: ai-edge-litert, or tflite_runtime on old Raspberry Pi images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeemo.errors import MissingDependencyError, ModelLoadError
from edgeemo.quiet import quiet_native
from edgeemo.runtime import Runner, layout_of


def interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise MissingDependencyError("TFLite needs ai-edge-litert (pip install ai-edge-litert) or tflite_runtime") from None
    return Interpreter


class LiteRTRunner(Runner):
    name = "litert"

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        Interpreter = interpreter_class()
        try:
            with quiet_native():  # the XNNPACK banner goes to fd 2
                self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
                self.interpreter.allocate_tensors()
        except Exception as exc:
            raise ModelLoadError(f"{path}: LiteRT cannot load it: {str(exc).strip().splitlines()[0][:200]}") from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        shape = [int(d) for d in self.input["shape"]]
        super().__init__(shape, layout_of(shape))

    def _run(self, x: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self.input["index"], encode_input(x, self.input))
        self.interpreter.invoke()
        return decode_output(self.interpreter.get_tensor(self.output["index"]), self.output)


def encode_input(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float input -> the tensor's type (quantized with its scale/zero point for an int8/uint8 input)."""
    scale, zero = detail["quantization"]
    if not scale or detail["dtype"] == np.float32:
        return x.astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])


def decode_output(y: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    return y.astype(np.float32) if not scale or detail["dtype"] == np.float32 else (y.astype(np.float32) - zero) * scale
