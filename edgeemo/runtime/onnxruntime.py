"""ONNX Runtime (CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeemo.errors import ModelLoadError
from edgeemo.runtime import Runner, layout_of


class OnnxRuntimeRunner(Runner):
    name = "onnxruntime"

    def __init__(self, path: str | Path, threads: int | None = None, providers: list[str] | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelLoadError(f"{path}: ONNX Runtime cannot load it: {str(exc).strip().splitlines()[0][:200]}") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = [d if isinstance(d, int) else -1 for d in inp.shape]
        super().__init__(shape, layout_of(shape))

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]
