"""PyTorch -> ONNX."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

from edgeemo.errors import ModelLoadError
from edgeemo.export._torch_util import eval_mode
from edgeemo.fsutil import atomic_path

OPSET = 17


def torch_to_onnx(model, example, path: str | Path, opset: int = OPSET) -> Path:
    """Export an eval-mode module with a static input shape (that of ``example``) to ONNX.

    The TorchScript exporter in PRESERVE mode keeps BatchNormalization as its own node, so the
    graph counts as the source does; the runtimes fuse it into the convolution when they compile.
    """
    import torch

    model = eval_mode(model)
    with atomic_path(path) as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                model,
                (example,),
                str(tmp),
                dynamo=False,
                opset_version=opset,
                input_names=["input"],
                output_names=["output"],
                training=torch.onnx.TrainingMode.PRESERVE,
            )
        except Exception as exc:  # the exporter raises many types; report the first line
            raise ModelLoadError(f"ONNX export failed: {str(exc).strip().splitlines()[0]}") from exc
    return Path(path)
