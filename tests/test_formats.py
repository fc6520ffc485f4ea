"""The format table agrees with itself, with the runtime layer and with every command that reads it (fast tier)."""

from pathlib import Path

from edgeemo import runtime
from edgeemo.bench.matrix import ARTIFACTS
from edgeemo.export.convert import FORMATS as CONVERT_FORMATS
from edgeemo.formats import FORMATS, artifact_path, folder_artifacts, format_of
from edgeemo.predictor import ARTIFACT_SUFFIXES
from edgeemo.quantize import FP32_NAMES, INT8_NAMES


def test_each_row_is_consistent_with_the_runtime_layer():
    for fmt in FORMATS.values():
        assert runtime.RUNTIME_FOR_SUFFIX[fmt.suffix] == fmt.runtimes[0], fmt.name  # its own runtime opens it by default
        for name in fmt.runtimes:
            assert fmt.suffix in runtime.RUNTIMES[name][2], (fmt.name, name)  # every runtime named reads the suffix
        for precision, rel in fmt.files.items():
            assert Path(rel).suffix == fmt.suffix and format_of(rel) is fmt and artifact_path(fmt.name, precision) == rel
        assert "fp32" in fmt.files and "int8" in fmt.files
    files = [rel for f in FORMATS.values() for rel in f.files.values()]
    assert len(files) == len(set(files))  # no two artifacts share a file


def test_commands_read_the_table():
    assert CONVERT_FORMATS == tuple(FORMATS)
    assert ARTIFACTS == folder_artifacts()
    assert ARTIFACT_SUFFIXES == {f.suffix: f.name for f in FORMATS.values()}
    assert INT8_NAMES == {n: f.files["int8"] for n, f in FORMATS.items()}
    assert FP32_NAMES == {n: f.files["fp32"] for n, f in FORMATS.items()}
    assert ("model_int8.onnx", "onnx", "int8", ("onnxruntime",)) in ARTIFACTS  # ORT's QDQ INT8 is timed in ORT only
    assert format_of("weights.pt") is None
    from edgeemo.resolve import FORMAT_FOR_RUNTIME

    assert FORMAT_FOR_RUNTIME == {"openvino": "openvino", "onnxruntime": "onnx", "litert": "tflite"}


def test_each_row_names_an_exporter_and_a_quantizer_with_the_common_signatures():
    import inspect

    for fmt in FORMATS.values():
        export, quantize = fmt.exporter(), fmt.quantizer()
        assert list(inspect.signature(export).parameters) == ["job", "precision"], fmt.name
        assert list(inspect.signature(quantize).parameters)[3] == "options", fmt.name
    assert [f.name for f in FORMATS.values() if f.accuracy_control] == ["openvino"]  # NNCF's accuracy control: IR only
