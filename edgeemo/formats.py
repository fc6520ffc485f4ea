"""The one table of artifact formats: suffix, file name per precision inside a convert/quantize folder, and the
runtimes that read it. convert, quantize, the bench matrix, the predictor and deploy all read this table.
Adding a format: one row here naming its exporter (``edgeemo/export/<name>.py:export``) and its INT8 quantizer
(``edgeemo/quantize/backends.py``), and its runtime in ``edgeemo/runtime/`` if new."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ArtifactFormat:
    name: str
    suffix: str
    files: dict[str, str]  # precision -> path inside a convert/quantize folder
    runtimes: tuple[str, ...]  # runtimes that read it; the first is its own
    exporter_path: str  # "module:function": export(ExportJob, precision) -> Path (edgeemo/export/)
    quantizer_path: str  # "module:function": quantize(fp32, out, calibration, QuantizeOptions) -> Path (quantize/backends.py)
    accuracy_control: bool = False  # its quantizer honours QuantizeOptions.max_drop (NNCF accuracy control)
    shared_precisions: tuple[str, ...] = field(default=("fp32", "fp16"))  # what runtimes other than its own also read

    def exporter(self) -> Callable:
        return _import(self.exporter_path)

    def quantizer(self) -> Callable:
        return _import(self.quantizer_path)

    def runtimes_for(self, precision: str) -> tuple[str, ...]:
        return self.runtimes if precision in self.shared_precisions else self.runtimes[:1]

    @property
    def precisions(self) -> tuple[str, ...]:
        return tuple(self.files)


FORMATS: dict[str, ArtifactFormat] = {
    "onnx": ArtifactFormat("onnx", ".onnx", {"fp32": "model.onnx", "int8": "model_int8.onnx"},
                           ("onnxruntime", "openvino"),  # OpenVINO reads ONNX directly; ORT's QDQ INT8 stays with ORT
                           "edgeemo.export.onnx:export", "edgeemo.quantize.backends:quantize_onnx"),
    "openvino": ArtifactFormat("openvino", ".xml", {"fp32": "openvino/model.xml", "fp16": "openvino-fp16/model.xml",
                                                    "int8": "openvino-int8/model.xml"}, ("openvino",),
                               "edgeemo.export.openvino:export", "edgeemo.quantize.backends:quantize_openvino",
                               accuracy_control=True),
    "tflite": ArtifactFormat("tflite", ".tflite", {"fp32": "model.tflite", "fp16": "model_fp16.tflite",
                                                   "int8": "model_int8.tflite"}, ("litert",),
                             "edgeemo.export.tflite:export", "edgeemo.quantize.backends:quantize_tflite"),
}


def _import(path: str) -> Callable:
    """'package.module:function' -> the function (imported on first use: the table itself stays import-light)."""
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


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


def folder_entries() -> list[str]:
    """The top-level names (files and folders) that the artifacts of a convert/quantize folder occupy."""
    return list(dict.fromkeys(Path(rel).parts[0] for rel, *_ in folder_artifacts()))
