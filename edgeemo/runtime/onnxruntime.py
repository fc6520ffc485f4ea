"""ONNX Runtime (CPU execution provider unless told otherwise)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import Session, check_input, layout_of
from ._compat import ModelLoadError, first_line


class OnnxRuntimeSession(Session):
    runtime = "onnxruntime"

    def __init__(self, path: str | Path, threads: int | None = None, providers: list[str] | None = None) -> None:
        import onnxruntime as ort

        path = Path(path)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        t0 = time.perf_counter()
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelLoadError(f"{path}: ONNX Runtime cannot load it: {first_line(exc)}") from exc
        compile_ms = (time.perf_counter() - t0) * 1e3
        inputs = self.session.get_inputs()
        check_input(path.name, [i.shape for i in inputs])
        self._name = inputs[0].name
        self._last: list = []
        declared = [d if isinstance(d, int) and d > 0 else -1 for d in inputs[0].shape]
        super().__init__(declared, layout_of(declared), device_name=self.session.get_providers()[0],
                         precision=_precision(path), threads=threads, compile_ms=compile_ms)

    def run(self, encoded: object) -> None:
        self._last = self.session.run(None, {self._name: encoded})

    def output(self) -> np.ndarray:
        return np.asarray(self._last[0], dtype=np.float32)

    def outputs(self) -> list[np.ndarray]:
        return [np.asarray(y, dtype=np.float32) for y in self._last]


def _precision(path: Path) -> str:
    """int8 where the graph quantizes (QDQ or QOperator), else what its first float input holds."""
    try:
        import onnx
    except ImportError:
        return "unknown"
    graph = onnx.load(str(path), load_external_data=False).graph
    ops = {n.op_type for n in graph.node}
    if ops & {"QuantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"}:
        return "int8 (QDQ)" if "QuantizeLinear" in ops else "int8"
    fp16 = any(t.data_type == onnx.TensorProto.FLOAT16 for t in graph.initializer)
    return "fp16" if fp16 else "fp32"
