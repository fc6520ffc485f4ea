"""The one table of artifact formats: suffix, file name per precision inside a convert/quantize folder, and the
runtimes that read it. convert, quantize, the bench matrix, the predictor and deploy all read this table.
Adding a format: one row here, its exporter in ``edgeemo/export/``, and its runtime in ``edgeemo/runtime/`` if new."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ArtifactFormat:
    name: str
    suffix: str
    files: dict[str, str]  # precision -> path inside a convert/quantize folder
    runtimes: tuple[str, ...]  # runtimes that read it; the first is its own
    shared_precisions: tuple[str, ...] = field(default=("fp32", "fp16"))  # what runtimes other than its own also read

    def runtimes_for(self, precision: str) -> tuple[str, ...]:
        return self.runtimes if precision in self.shared_precisions else self.runtimes[:1]

    @property
    def precisions(self) -> tuple[str, ...]:
        return tuple(self.files)


FORMATS: dict[str, ArtifactFormat] = {
    "onnx": ArtifactFormat("onnx", ".onnx", {"fp32": "model.onnx", "int8": "model_int8.onnx"},
                           ("onnxruntime", "openvino")),  # OpenVINO reads ONNX directly; ORT's QDQ INT8 stays with ORT
    "openvino": ArtifactFormat("openvino", ".xml", {"fp32": "openvino/model.xml", "fp16": "openvino-fp16/model.xml",
                                                    "int8": "openvino-int8/model.xml"}, ("openvino",)),
    "tflite": ArtifactFormat("tflite", ".tflite", {"fp32": "model.tflite", "fp16": "model_fp16.tflite",
                                                   "int8": "model_int8.tflite"}, ("litert",)),
}


def artifact_path(fmt: str, precision: str) -> str:
    """The file name of a format at a precision inside a convert/quantize folder."""
    return FORMATS[fmt].files[precision]


def format_of(path: str | Path) -> ArtifactFormat | None:
    """The format of an artifact file by its suffix (None: not an artifact)."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS.values() if f.suffix == suffix), None)


def folder_artifacts() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(relative path, format, precision, runtimes that read it) for every artifact a folder may hold."""
    return [(rel, f.name, precision, f.runtimes_for(precision)) for f in FORMATS.values() for precision, rel in f.files.items()]
