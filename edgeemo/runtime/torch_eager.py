"""PyTorch eager: a source model run as it is, for comparison with its artifacts (never bundled)."""

from __future__ import annotations

import numpy as np

from . import Session


class TorchSession(Session):
    runtime = "torch"

    def __init__(self, module, input_shape: list[int], threads: int | None = None) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._torch, self.module = torch, module
        self._last = None
        super().__init__(list(input_shape), "NCHW", precision="fp32 (eager)", threads=torch.get_num_threads())

    def encode(self, x: np.ndarray) -> object:
        return self._torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def run(self, encoded: object) -> None:
        with self._torch.inference_mode():
            self._last = self.module(encoded)

    def output(self) -> np.ndarray:
        return self._last.detach().float().numpy()
