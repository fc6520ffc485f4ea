"""A model as an OpenVINO graph (step 3 of resolve -> load -> graph): what `edgeemo profile` counts, read from any
source or artifact with static input shapes. (Writing an IR artifact is export/openvino.py's job.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from edgeemo.errors import ModelLoadError, ShapeError, first_line
from edgeemo.sources.load import exported_program_shape, load_torch
from edgeemo.sources.reference import Source


def openvino_graph(source: Source, input_shape: list[int] | None = None, workdir: Path | None = None):
    """Read any supported model into an ``ov.Model`` with static input shapes."""
    import openvino as ov

    if source.kind in _FRONTENDS:
        model = read_with_frontend(source)
    elif source.kind in ("zoo", "torchscript", "exported_program"):
        import torch

        from edgeemo.export.onnx import torch_to_onnx

        shape = input_shape or _torch_input_shape(source)
        module = load_torch(source)
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            onnx_path = torch_to_onnx(module, torch.zeros(shape), Path(tmp) / "model.onnx")
            model = read_with_frontend(Source("onnx", str(onnx_path)))
    elif source.kind in ("keras", "saved_model"):
        from edgeemo.keras_io import keras_to_saved_model

        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            saved = source.path if source.kind == "saved_model" else keras_to_saved_model(source.path, Path(tmp) / "saved")
            try:
                model = ov.convert_model(str(saved))
            except Exception as exc:
                raise ModelLoadError(f"{source.ref}: OpenVINO cannot convert it: {first_line(exc)}") from exc
    else:
        raise ModelLoadError(f"{source.ref}: unsupported model kind {source.kind}")
    return make_static(model, input_shape, source.ref)


_FRONTENDS = {"onnx": "onnx", "openvino": "ir", "tflite": "tflite"}


def read_with_frontend(source: Source):
    """Read ONNX / IR / TFLite with that format's OpenVINO frontend alone (no guessing across frontends)."""
    from openvino.frontend import FrontEndManager

    if source.kind == "tflite" and source.path.read_bytes()[4:8] != b"TFL3":
        raise ModelLoadError(f"{source.ref}: not a TFLite flatbuffer (no TFL3 identifier): truncated or another format")
    frontend = FrontEndManager().load_by_framework(_FRONTENDS[source.kind])
    try:
        return frontend.convert(frontend.load(str(source.path)))
    except Exception as exc:
        raise ModelLoadError(f"{source.ref}: cannot read as {source.kind}: {first_line(exc)}") from exc


def make_static(model, input_shape: list[int] | None, name: str):
    """Apply ``input_shape``, or fill a dynamic batch with 1; any other dynamic dim is an error."""
    import openvino as ov

    if len(model.inputs) != 1 and input_shape:
        raise ShapeError(f"{name}: --input-shape applies to single-input models; it has {len(model.inputs)} inputs")
    port = model.inputs[0]
    shape = port.get_partial_shape()
    if input_shape:
        if shape.rank.is_static and shape.rank.get_length() != len(input_shape):
            raise ShapeError(f"{name}: input shape {input_shape} has rank {len(input_shape)}, the model expects {shape}")
        try:
            model.reshape(input_shape)
        except Exception as exc:
            raise ShapeError(f"{name}: input shape {input_shape} does not fit the model: {first_line(exc)}") from exc
    elif shape.is_dynamic:
        dims = list(shape)
        if shape.rank.is_static and all(d.is_static for d in dims[1:]):
            model.reshape([1] + [d.get_length() for d in dims[1:]])
        else:
            raise ShapeError(f"{name}: input shape {shape} is dynamic; give one with --input-shape, e.g. 1,3,64,64")
    for port in model.inputs:
        if port.get_partial_shape().is_dynamic:
            raise ShapeError(f"{name}: input {port.get_any_name()} is still dynamic: {port.get_partial_shape()}")
    _ = ov  # imported for the side effect of failing early when OpenVINO is missing
    return model


def _torch_input_shape(source: Source) -> list[int]:
    if source.spec is not None:
        return list(source.spec.input_shape())
    if source.kind == "exported_program":
        shape = exported_program_shape(source.path)
        if shape:
            return shape
    raise ShapeError(f"{source.ref}: the input shape is not recorded in the file; give it with --input-shape, e.g. 1,3,64,64")
