"""PyTorch -> ONNX."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

from edgeemo.errors import ModelLoadError
from edgeemo.export._torch_util import eval_mode
from edgeemo.fsutil import atomic_path
from edgeemo.quiet import quiet_native

OPSET = 17


def torch_to_onnx(model, example, path: str | Path, opset: int = OPSET) -> Path:
    """Export an eval-mode module with a static input shape (that of ``example``) to ONNX.

    The TorchScript exporter in PRESERVE mode keeps BatchNormalization as its own node, so the
    graph counts as the source does; the runtimes fuse it into the convolution when they compile.
    """
    import torch

    model = eval_mode(model)
    with atomic_path(path) as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), quiet_native():
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


def write_onnx(job, path: Path) -> Path:
    """The source as ONNX at ``path`` with the card embedded: the ONNX artifact, and the route to IR and TFLite."""
    from edgeemo.export.onnx_meta import add_metadata, copy_onnx, saved_model_to_onnx

    src = job.src
    if src.framework == "torch":
        import torch

        torch_to_onnx(src.module, torch.zeros(job.shape), path)
    elif src.framework == "keras":
        saved_model_to_onnx(job.saved_model(), path)
    else:
        copy_onnx(src.path, path)
    add_metadata(path, job.card)
    return path


def export(job, precision: str) -> Path:
    """The ONNX artifact (``edgeemo.formats`` row "onnx"): the file convert wrote first (``write_onnx``)."""
    return job.onnx_path
