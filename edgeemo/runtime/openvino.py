"""OpenVINO runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeemo.errors import ModelLoadError
from edgeemo.runtime import Runner, layout_of


class OpenVINORunner(Runner):
    name = "openvino"

    def __init__(self, path: str | Path, device: str = "CPU", precision: str | None = "f32", threads: int | None = None) -> None:
        import openvino as ov

        core = ov.Core()
        try:
            model = core.read_model(str(path))
        except Exception as exc:
            raise ModelLoadError(f"{path}: OpenVINO cannot read it: {str(exc).strip().splitlines()[-1][:200]}") from None
        config: dict = {}
        if precision:  # pin it: CPUs with AMX otherwise run FP32 models in bf16
            config["INFERENCE_PRECISION_HINT"] = precision
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(model, device, config)
        self.request = self.compiled.create_infer_request()
        shape = [int(d) for d in model.inputs[0].get_partial_shape().get_min_shape()]
        declared = model.get_rt_info(["edgeemo", "layout"]).astype(str) if model.has_rt_info(["edgeemo", "layout"]) else None
        super().__init__(shape, declared or layout_of(shape))

    def _run(self, x: np.ndarray) -> np.ndarray:
        return np.array(self.request.infer({0: x})[self.compiled.output(0)])
