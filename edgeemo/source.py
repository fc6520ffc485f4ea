"""What a MODEL argument names: a zoo entry or a file of a known format, and how to open it."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edgeemo.errors import ModelLoadError, ShapeError, UnknownModelError, first_line
from edgeemo.models import ModelSpec, create_model, get_spec, list_models

MAX_SIDE = 4096  # a face classifier's input side; larger shapes are refused before anything is allocated

# format name -> file suffixes (a SavedModel is a folder holding saved_model.pb)
FORMATS: dict[str, tuple[str, ...]] = {
    "onnx": (".onnx",),
    "openvino": (".xml",),
    "tflite": (".tflite",),
    "torchscript": (".pt", ".pth", ".torchscript"),
    "exported_program": (".pt2",),
    "keras": (".keras", ".h5", ".hdf5"),
}


@dataclass(frozen=True)
class Source:
    """A resolved model reference."""

    kind: str  # "zoo" or a FORMATS key or "saved_model"
    ref: str
    spec: ModelSpec | None = None

    @property
    def path(self) -> Path:
        return Path(self.ref)


def resolve(ref: str) -> Source:
    """Decide what ``ref`` is; raise a one-line error for anything unusable."""
    if ref in list_models():
        return Source("zoo", ref, get_spec(ref))
    path = Path(ref)
    if not path.exists():
        if path.suffix or "/" in ref:
            raise UnknownModelError(f"no such file: {ref}")
        get_spec(ref)  # raises UnknownModelError listing the zoo
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return Source("saved_model", ref)
        raise ModelLoadError(f"{ref} is a folder but not a TensorFlow SavedModel (no saved_model.pb)")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{ref} is empty")
    suffix = path.suffix.lower()
    for kind, suffixes in FORMATS.items():
        if suffix in suffixes:
            return Source(kind, ref)
    known = ", ".join(s for group in FORMATS.values() for s in group)
    raise ModelLoadError(f"{ref}: unknown model format {suffix or '(no extension)'!r}; known: {known}, or a SavedModel folder")


def parse_shape(text: str | None) -> list[int] | None:
    """'1,3,64,64' -> [1, 3, 64, 64]."""
    if not text:
        return None
    import re

    pieces = re.split(r"[,x]", text.strip())
    if not all(p.strip().isdigit() for p in pieces):
        raise ShapeError(f"bad input shape {text!r}: expected positive integers like 1,3,64,64")
    dims = [int(p) for p in pieces]
    if any(d <= 0 for d in dims):
        raise ShapeError(f"bad input shape {text!r}: every dimension must be a positive integer")
    if any(d > MAX_SIDE for d in dims[1:]) or dims[0] > 256:
        raise ShapeError(f"bad input shape {text!r}: larger than edgeemo handles (batch <= 256, sides <= {MAX_SIDE})")
    return dims


def load_torch(source: Source):
    """A PyTorch module from a zoo name, TorchScript file or ExportedProgram."""
    import torch

    if source.kind == "zoo":
        return create_model(source.ref)
    if source.kind == "torchscript":
        if not zipfile.is_zipfile(source.path):
            raise ModelLoadError(f"{source.ref}: not a TorchScript archive (truncated, or a checkpoint that needs --arch)")
        try:
            return torch.jit.load(str(source.path), map_location="cpu").eval()
        except Exception as exc:
            raise ModelLoadError(f"{source.ref}: not a TorchScript model ({first_line(exc)}); a checkpoint needs --arch") from None
    if source.kind == "exported_program":
        from edgeemo.safeload import load_exported_program

        return load_exported_program(source.path).module()
    raise ModelLoadError(f"{source.ref}: a {source.kind} model is not a PyTorch model")


def exported_program_shape(path: Path) -> list[int] | None:
    """Static input shape recorded in an ExportedProgram, if any."""
    from edgeemo.safeload import load_exported_program

    program = load_exported_program(path)
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name in program.graph_signature.user_inputs:
            val = node.meta.get("val")
            if val is not None and all(isinstance(d, int) for d in val.shape):
                return list(val.shape)
    return None


def to_openvino(source: Source, input_shape: list[int] | None = None, workdir: Path | None = None):
    """Read any supported model into an ``ov.Model`` with static input shapes."""
    import openvino as ov

    if source.kind in _FRONTENDS:
        model = read_with_frontend(source)
    elif source.kind in ("zoo", "torchscript", "exported_program"):
        from edgeemo.export.onnx import torch_to_onnx
        import torch

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
                raise ModelLoadError(f"{source.ref}: OpenVINO cannot convert it: {first_line(exc)}") from None
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
        raise ModelLoadError(f"{source.ref}: cannot read as {source.kind}: {first_line(exc)}") from None


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
            raise ShapeError(f"{name}: input shape {input_shape} does not fit the model: {first_line(exc)}") from None
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
