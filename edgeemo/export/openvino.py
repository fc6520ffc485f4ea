"""ONNX / SavedModel -> OpenVINO IR with a static input shape and the model card in rt_info."""

from __future__ import annotations

from pathlib import Path

from edgeemo.card import ModelCard
from edgeemo.errors import ModelLoadError, first_line
from edgeemo.fsutil import save_ir


def to_openvino(src: str | Path, out_xml: str | Path, input_shape: list[int], card: dict, fp16: bool = False) -> Path:
    """Convert ``src`` (ONNX file or SavedModel folder), fix the input shape, write ``out_xml`` + ``.bin``.

    The shape is static (batch included): the NPU plugin rejects dynamic shapes, and a dynamic IR
    also runs slower on CPU. ``fp16`` stores weights compressed to FP16 (compute stays as the device chooses).
    """
    import openvino as ov

    try:
        model = ov.convert_model(str(src), input=[input_shape])
    except Exception as exc:
        raise ModelLoadError(f"OpenVINO conversion failed: {first_line(exc)}") from exc
    ModelCard.from_dict(card).write_rt_info(model)
    save_ir(model, Path(out_xml), compress_to_fp16=fp16)
    return out_xml


def export(job, precision: str) -> Path:
    """The OpenVINO IR (``edgeemo.formats`` row "openvino"): from the ONNX file, or a Keras source's SavedModel."""
    from edgeemo.formats import artifact_path

    ov_src = job.saved_model() if job.src.framework == "keras" else job.onnx_path
    return to_openvino(ov_src, job.out / artifact_path("openvino", precision), job.shape, job.card, fp16=precision == "fp16")
