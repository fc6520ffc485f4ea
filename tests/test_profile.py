"""edgeemo profile: the MACC convention, reference figures, and format independence."""

import openvino as ov
import pytest
import torch

from edgeemo.export.onnx import torch_to_onnx
from edgeemo.models.mobilenet import MobileNetV2
from edgeemo.models.resnet import ResNet
from edgeemo.models import create_model
from edgeemo.profile import profile
from edgeemo.reference import REFERENCE_MACC, REFERENCE_PARAMS

from conftest import assert_one_line_error


@pytest.fixture(scope="module")
def emonet_files(tmp_path_factory):
    """emonet-resnet10 as ONNX, FP32 IR and FP16 IR."""
    out = tmp_path_factory.mktemp("emonet")
    onnx_path = torch_to_onnx(create_model("emonet-resnet10"), torch.zeros(1, 3, 64, 64), out / "model.onnx")
    ov.save_model(ov.convert_model(onnx_path), out / "fp32" / "model.xml", compress_to_fp16=False)
    ov.save_model(ov.convert_model(onnx_path), out / "fp16" / "model.xml")
    return {"onnx": onnx_path, "ir32": out / "fp32" / "model.xml", "ir16": out / "fp16" / "model.xml"}


def test_emonet_reproduces_the_published_table(cli):
    result = cli("profile", "emonet-resnet10", "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert abs(data["macc"] - 62_991_365) / 62_991_365 < 0.001
    assert data["params"] == 2_482_507
    assert data["budget_macc"] == REFERENCE_MACC
    assert data["budget_fraction"] == pytest.approx(data["macc"] / REFERENCE_MACC)
    assert {"macc", "params", "activations", "budget_macc", "budget_fraction", "layers"} <= set(data)
    for layer in data["layers"]:
        assert {"name", "op", "macc", "params", "output_shape"} <= set(layer)
    assert sum(layer["macc"] for layer in data["layers"]) == data["macc"]
    convs = [layer for layer in data["layers"] if layer["op"] == "Convolution"]
    assert sum(layer["macc"] for layer in convs) == 62_854_144  # convolutions alone, per the reference README


@pytest.mark.parametrize("kind", ["onnx", "ir32", "ir16"])
def test_same_totals_from_onnx_and_openvino_ir(emonet_files, kind):
    zoo = profile("emonet-resnet10")
    other = profile(str(emonet_files[kind]))
    assert (other.macc, other.params) == (zoo.macc, zoo.params) == (62_991_365, REFERENCE_PARAMS)
    assert other.activations == zoo.activations


def test_trained_like_batchnorm_counts_the_same(tmp_path):
    """Non-zero BN shifts survive conversion; the totals must not change."""
    model = create_model("emonet-resnet10")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.bias.uniform_(-1, 1)
                module.weight.uniform_(0.5, 1.5)
    onnx_path = torch_to_onnx(model, torch.zeros(1, 3, 64, 64), tmp_path / "m.onnx")
    ov.save_model(ov.convert_model(onnx_path), tmp_path / "m.xml")
    result = profile(str(tmp_path / "m.xml"))
    assert (result.macc, result.params) == (62_991_365, 2_482_507)


def test_resnet18_imagenet_figures(tmp_path):
    model = ResNet((2, 2, 2, 2), num_classes=1000, in_channels=3)
    path = torch_to_onnx(model, torch.zeros(1, 3, 224, 224), tmp_path / "r18.onnx")
    result = profile(str(path))
    assert result.macc == pytest.approx(1.82e9, rel=0.015)
    assert result.params == pytest.approx(11.69e6, rel=0.005)


def test_mobilenetv2_imagenet_figures(tmp_path):
    model = MobileNetV2(num_classes=1000, in_channels=3, width=1.0)
    path = torch_to_onnx(model, torch.zeros(1, 3, 224, 224), tmp_path / "mbv2.onnx")
    result = profile(str(path))
    assert result.macc == pytest.approx(300e6, rel=0.03)
    assert result.params == pytest.approx(3.5e6, rel=0.02)


def test_dynamic_batch_onnx_profiles_at_batch_one(tmp_path):
    model = ResNet((1, 1), num_classes=5, in_channels=1, small_input=True).eval()
    path = tmp_path / "dyn.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, 32, 32),), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})
    from edgeemo.errors import ShapeError

    with pytest.raises(ShapeError, match="--input-shape"):
        profile(str(path))
    small = profile(str(path), [1, 1, 32, 32])
    big = profile(str(path), [1, 1, 64, 64])
    assert big.macc > 3.5 * small.macc


def test_profile_table_shows_totals_and_verdict(cli):
    result = cli("profile", "resnet18")
    assert result.code == 0, result.stderr
    assert "OVER budget" in result.stdout and "params" in result.stdout
    result = cli("profile", "emolite")
    assert "within budget" in result.stdout


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("missing.onnx", None, "no such file"),
        ("t.onnx", b"\x08\x07\x12\x04abc", "cannot read as onnx"),
        ("t.xml", b"this is not xml at all", "cannot read as openvino"),
        ("x.weird", b"x", "unknown model format"),
        ("empty.tflite", b"", "empty"),
        ("junk.tflite", b"not a flatbuffer" * 10, "not a TFLite flatbuffer"),
        ("junk.keras", b"not a zip" * 10, "not a .keras archive"),  # Keras said "File not found" for it
    ],
)
def test_bad_files_give_one_line(cli, tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert_one_line_error(cli("profile", str(path)), fragment)


def test_truncated_onnx_gives_one_line(cli, emonet_files, tmp_path):
    data = emonet_files["onnx"].read_bytes()
    bad = tmp_path / "trunc.onnx"
    bad.write_bytes(data[: len(data) // 3])
    assert_one_line_error(cli("profile", str(bad)), "trunc.onnx")


def test_unknown_zoo_name_lists_the_zoo(cli):
    assert_one_line_error(cli("profile", "emonet-resnet99"), "unknown model", "emonet-resnet10")


def test_bad_input_shape_is_one_line(cli, emonet_files):
    assert_one_line_error(cli("profile", str(emonet_files["onnx"]), "--input-shape", "1,3,a"), "bad input shape")
    assert_one_line_error(cli("profile", str(emonet_files["onnx"]), "--input-shape", "1,3,64"), "rank")


@pytest.mark.slow
def test_a_model_counts_the_same_in_every_format(tmp_path):
    """emofast-pruned's BatchNorms are kept in edgeemo's ONNX and folded into the convolutions by OpenVINO's
    converter and TFLite: MACC and params must not depend on which file is profiled (the ONNX counted 2 per BN
    channel, the IR and TFLite 1, so `edgeemo models` and `edgeemo profile` disagreed for the same model)."""
    from edgeemo.export.convert import convert
    from edgeemo.sources import Overrides, load_source

    result = convert(load_source("emofast-pruned", Overrides()), tmp_path, formats=("onnx", "openvino", "tflite"))
    assert not result.failed
    costs = {a.format: profile(a.path) for a in result.artifacts}
    zoo = profile("emofast-pruned")
    assert {(c.macc, c.params) for c in costs.values()} == {(zoo.macc, zoo.params)} == {(7_931_365, 173_797)}


@pytest.mark.slow
def test_output_with_no_terminal_keeps_paths_whole(tmp_path):
    """With no terminal anywhere (cron, CI, a service's log) Rich wrapped at 80 columns, splitting the model's cache
    path over two lines of the log; such output is now LOG_WIDTH (200) wide. A terminal or COLUMNS still decides."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    log = subprocess.run([sys.executable, "-m", "edgeemo", "profile", "emolite"], cwd=ROOT, env={**env, "NO_COLOR": "1"},
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert log.returncode == 0, log.stderr
    line = next(line for line in log.stdout.splitlines() if line.startswith("model: emolite"))
    assert len(line) > 80 and line.endswith(")") and "/openvino/model.xml (openvino" in line, log.stdout
