"""What a MODEL argument names: a zoo entry, or a file or folder of a source format (step 1 of resolve -> load -> graph)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeemo.errors import ModelLoadError, ShapeError, UnknownModelError
from edgeemo.models import ModelSpec, get_spec, list_models

MAX_SIDE = 4096  # a face classifier's input side; larger shapes are refused before anything is allocated

# format name -> file suffixes (a SavedModel is a folder holding saved_model.pb)
SOURCE_FORMATS: dict[str, tuple[str, ...]] = {
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

    kind: str  # "zoo" or a SOURCE_FORMATS key or "saved_model"
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
    for kind, suffixes in SOURCE_FORMATS.items():
        if suffix in suffixes:
            return Source(kind, ref)
    known = ", ".join(s for group in SOURCE_FORMATS.values() for s in group)
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
