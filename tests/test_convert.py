"""edgeemo convert: every artifact written and verified against its source; bad input is one line."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeemo.errors import EdgeemoError
from edgeemo.export.convert import convert
from edgeemo.sources import Overrides, load_source
from edgeemo.models import list_models
from edgeemo.runtime import load

from conftest import assert_one_line_error

ARCH_FILE = '''
import torch
from torch import nn

class TinyNet(nn.Module):
    def __init__(self, classes=5, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU())
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))  # logits, not probabilities
'''


@pytest.fixture
def arch_file(tmp_path):
    path = tmp_path / "outside" / "tiny.py"
    path.parent.mkdir()
    path.write_text(ARCH_FILE)
    return path


def _tiny(arch_file):
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_for_test", arch_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    model = module.TinyNet(classes=5, width=8).eval()
    with torch.no_grad():
        model.features[1].bias.uniform_(-0.5, 0.5)
    return model


def _assert_verified(report: dict, formats=("onnx", "openvino", "tflite")):
    seen = {(a["format"], a["precision"]) for a in report["artifacts"]}
    for fmt in formats:
        assert (fmt, "fp32") in seen
    for a in report["artifacts"]:
        assert a["error"] is None and a["top1_agreement"] == 1.0, a
        assert a["max_abs_diff"] <= a["tolerance"], a
        assert Path(a["path"]).is_file() and a["bytes"] > 0 and a["seconds"] >= 0


@pytest.mark.parametrize("name", list_models())
def test_every_zoo_model_converts_and_verifies(name, tmp_path):
    result = convert(load_source(name, Overrides()), tmp_path)
    report = json.loads((tmp_path / "convert.json").read_text())
    _assert_verified(report)
    assert not result.failed
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["labels"] and card["channel_order"] and card["macc"] > 0 and card["params"] > 0
    tflite = next(a for a in card["artifacts"] if a["format"] == "tflite")
    assert tflite["layout"] == "NHWC"
    from edgeemo.runtime.litert import interpreter_class

    ops = [op["op_name"] for op in interpreter_class()(model_path=str(tmp_path / "model.tflite"))._get_ops_details()]
    assert "TRANSPOSE" not in ops, ops  # NHWC end to end: no layout shuffles around the convolutions


def test_emonet_cli_json_fp16_and_metadata(cli, tmp_path):
    result = cli("convert", "emonet-resnet10", "--out", str(tmp_path), "--fp16", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report == json.loads((tmp_path / "convert.json").read_text())
    _assert_verified(report)
    assert {(a["format"], a["precision"]) for a in report["artifacts"]} >= {("openvino", "fp16"), ("tflite", "fp16")}
    assert report["macc"] == 62_991_365 and report["params"] == 2_482_507

    import onnx
    import openvino as ov

    props = {p.key: p.value for p in onnx.load(str(tmp_path / "model.onnx")).metadata_props}
    assert json.loads(props["labels"]) == ["neutral", "happy", "sad", "surprise", "anger"]
    assert props["channel_order"] == "bgr"
    model = ov.Core().read_model(str(tmp_path / "openvino" / "model.xml"))
    assert model.inputs[0].get_partial_shape().is_static
    assert list(model.inputs[0].get_shape()) == [1, 3, 64, 64]
    assert json.loads(model.get_rt_info(["edgeemo", "labels"]).astype(str)) == ["neutral", "happy", "sad", "surprise", "anger"]
    assert model.get_rt_info(["edgeemo", "channel_order"]).astype(str) == "bgr"
    # the LiteRT wrapper takes the zoo's NCHW batch and the model's own NHWC batch alike
    runner = load(tmp_path / "model.tflite")
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 64, 64)).astype(np.float32)
    np.testing.assert_allclose(runner.infer(x), runner.infer(x.transpose(0, 2, 3, 1)))


def test_static_batch(tmp_path):
    result = convert(load_source("emolite", Overrides()), tmp_path, formats=("openvino",), batch=4)
    import openvino as ov

    from edgeemo.models import zoo_card
    from edgeemo.profile import profile

    assert list(ov.Core().read_model(str(tmp_path / "openvino" / "model.xml")).inputs[0].get_shape()) == [4, 1, 64, 64]
    # MACC is per face, and the budget (the reference at batch 1) is compared per face: a batch of 4 is not 4x over it
    one = zoo_card("emolite")["macc"]
    assert result.macc == one and json.loads((tmp_path / "model.json").read_text())["macc"] == one
    cost = profile(str(tmp_path / "openvino" / "model.xml"))
    assert cost.batch == 4 and cost.macc == 4 * one and cost.macc_per_image == one
    assert cost.budget_fraction == pytest.approx(one / 62_991_365)


def test_convert_table_fits_80_columns(tmp_path, cli):
    """The printed table keeps every path and figure on one line in an 80-column terminal (it folded
    'openvino-fp16/model.xml' and the sizes over two and three lines)."""
    result = cli("convert", "emolite", "--to", "openvino", "--fp16", "--batch", "2", "--out", str(tmp_path / "c"), columns=80)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    row = next(line for line in lines if "openvino-fp16/model.xml" in line).split()
    assert row[:3] == ["openvino", "fp16", "openvino-fp16/model.xml"] and row[-2:] == ["100.0%", "verified"], row
    assert any(line.startswith("MACC 8.89M per image") for line in lines)  # per face at --batch 2 as well


def test_torchscript_exported_program_and_checkpoint(arch_file, tmp_path, cli):
    model = _tiny(arch_file)
    x = torch.zeros(1, 1, 32, 32)
    torch.jit.trace(model, x).save(str(tmp_path / "tiny.pt"))
    torch.export.save(torch.export.export(model, (x,)), str(tmp_path / "tiny.pt2"))
    torch.save({"network": model.state_dict(), "optimizer": {"lr": 0.1}, "epoch": 3}, tmp_path / "ckpt.pth")

    ts = cli("convert", str(tmp_path / "tiny.pt"), "--input-shape", "1,1,32,32", "--out", str(tmp_path / "ts"), "--json")
    assert ts.code == 0, ts.stderr
    _assert_verified(ts.json())
    ep = cli("convert", str(tmp_path / "tiny.pt2"), "--out", str(tmp_path / "ep"), "--json")  # shape from the program
    assert ep.code == 0, ep.stderr
    _assert_verified(ep.json())
    ck = cli("convert", str(tmp_path / "ckpt.pth"), "--arch", f"{arch_file}:TinyNet", "--arch-kwargs", "classes=5,width=8",
             "--input-shape", "1,1,32,32", "--labels", "neutral,happy,sad,surprise,anger", "--out", str(tmp_path / "ck"), "--json")
    assert ck.code == 0, ck.stderr
    _assert_verified(ck.json())
    card = json.loads((tmp_path / "ck" / "model.json").read_text())
    assert card["output"] == "logits" and card["labels"][0] == "neutral" and card["channel_order"] == "gray"
    # the same weights through all three routes give the same ONNX outputs
    probe = np.random.default_rng(1).standard_normal((3, 1, 32, 32)).astype(np.float32)
    outs = [load(tmp_path / d / "model.onnx").infer(probe) for d in ("ts", "ep", "ck")]
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-5)
    np.testing.assert_allclose(outs[0], outs[2], atol=1e-5)


def test_one_hot_source_outputs_warn_that_the_check_proves_little(arch_file, tmp_path, cli):
    """A softmax model fed inputs far outside its training range (0-255 noise, no --scale) answers one-hot, and an
    artifact that computes anything before the softmax would pass: convert says so (stderr, and "warnings" in the
    JSON); with the right --scale, or for a zoo model with its card's facts, it does not."""
    tiny = _tiny(arch_file)
    with torch.no_grad():
        tiny.fc.weight.mul_(4)  # logits of tens on 0-255 noise: one-hot within the check's 1e-4
    model = torch.nn.Sequential(tiny, torch.nn.Softmax(dim=1)).eval()
    torch.jit.trace(model, torch.zeros(1, 1, 32, 32)).save(str(tmp_path / "soft.pt"))
    args = ("convert", str(tmp_path / "soft.pt"), "--input-shape", "1,1,32,32", "--to", "onnx", "--json")
    raw = cli(*args, "--out", str(tmp_path / "raw"))
    assert raw.code == 0, raw.stderr
    assert "one-hot on 32 of 32" in raw.json()["warnings"][0] and "warning:" in raw.stderr
    scaled = cli(*args, "--scale", "255", "--out", str(tmp_path / "scaled"))
    assert scaled.code == 0 and scaled.json()["warnings"] == [] and "warning" not in scaled.stderr
    assert convert(load_source("emolite", Overrides()), tmp_path / "zoo", formats=("onnx",)).warnings == []


def test_onnx_source_converts_onward(tmp_path):
    convert(load_source("emolite", Overrides()), tmp_path / "a", formats=("onnx",))
    result = convert(load_source(str(tmp_path / "a" / "model.onnx"), Overrides()), tmp_path / "b", formats=("openvino", "tflite"))
    assert not result.failed, [a.error for a in result.artifacts]
    assert (tmp_path / "b" / "model.tflite").is_file() and (tmp_path / "b" / "openvino" / "model.xml").is_file()


def test_checkpoint_needing_pickle_is_refused(arch_file, tmp_path, cli):
    model = _tiny(arch_file)
    torch.save({"network": model.state_dict(), "extra": Path("x")}, tmp_path / "pickled.pth")
    result = cli("convert", str(tmp_path / "pickled.pth"), "--arch", f"{arch_file}:TinyNet", "--input-shape", "1,1,32,32",
                 "--out", str(tmp_path / "out"))
    assert_one_line_error(result, "--trust-checkpoint")
    ok = cli("convert", str(tmp_path / "pickled.pth"), "--arch", f"{arch_file}:TinyNet", "--input-shape", "1,1,32,32",
             "--trust-checkpoint", "--to", "onnx", "--out", str(tmp_path / "out"))
    assert ok.code == 0, ok.stderr


def test_bad_inputs_are_one_line_and_leave_nothing(arch_file, tmp_path, cli):
    model = _tiny(arch_file)
    torch.save(model.state_dict(), tmp_path / "ckpt.pth")
    out = tmp_path / "out"
    (tmp_path / "model.xyz").write_text("?")
    torch.jit.trace(model, torch.zeros(1, 1, 32, 32)).save(str(tmp_path / "good.pt"))
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    cases = [
        (["model.xyz"], "unknown model format"),
        (["trunc.pt", "--input-shape", "1,1,32,32"], "trunc.pt"),
        (["ckpt.pth", "--arch", "no_such_pkg.mod:Net", "--input-shape", "1,1,32,32"], "does not import"),
        (["ckpt.pth", "--arch", f"{arch_file}:TinyNet", "--arch-kwargs", "width=4", "--input-shape", "1,1,32,32"], "size mismatch"),
        (["ckpt.pth", "--arch", f"{arch_file}:TinyNet", "--arch-kwargs", "classes=7", "--input-shape", "1,1,32,32"], "fc."),
        (["good.pt", "--input-shape", "1,3,32,32"], "input"),
        (["emolite", "--to", "onnx,coreml"], "coreml"),
    ]
    for args, fragment in cases:
        argv = [str(tmp_path / args[0]) if (tmp_path / args[0]).exists() or "." in args[0] and args[0] != "emolite" else args[0], *args[1:]]
        result = cli("convert", *argv, "--out", str(out))
        assert_one_line_error(result, fragment)
        leftovers = [p for p in out.rglob("*")] if out.exists() else []
        assert not [p for p in leftovers if p.suffix in (".onnx", ".tflite", ".xml", ".bin", ".part")], leftovers


def test_output_paths_the_machine_refuses_are_one_line(tmp_path, cli, shared_data):
    """An --out the file system will not take (a name over its length limit; under /proc, a folder nothing can be
    created in) is a one-line error naming the path, not an "internal error", for the commands that write folders."""
    too_long = tmp_path / ("a" * 300) / "out"
    result = cli("convert", "emolite", "--to", "onnx", "--out", str(too_long))
    assert_one_line_error(result, "--out", "too long")
    assert result.code == 2 and list(tmp_path.iterdir()) == []
    if Path("/proc/self").is_dir():  # Linux: mkdir under /proc fails whoever runs it (root included)
        for args in (("convert", "emolite", "--to", "onnx"), ("optimize", "emolite", "--target", "cpu-x86")):
            result = cli(*args, "--out", "/proc/edgeemo-test/out")
            assert_one_line_error(result, "/proc/edgeemo-test")
            assert "internal error" not in result.stderr
        image = next((shared_data / "images").glob("*.jpg"))  # a file: the error names it, not its temporary twin
        result = cli("predict", str(image), "-m", "emolite", "--csv", "/proc/edgeemo-test.csv")
        assert_one_line_error(result, "/proc/edgeemo-test.csv")
        assert ".part" not in result.stderr


def _fft_arch(tmp_path: Path) -> Path:
    """An architecture file whose op (a 2-D FFT) neither ONNX nor LiteRT can export, and an empty checkpoint for it."""
    path = tmp_path / "fftnet.py"
    path.write_text("import torch\nclass FFTNet(torch.nn.Module):\n"
                    "    def forward(self, x):\n        return torch.fft.fft2(x).abs().flatten(1)[:, :5]\n")
    torch.save({}, tmp_path / "empty.pth")
    return path


def test_unsupported_op_names_op_and_format(tmp_path, cli):
    path = _fft_arch(tmp_path)
    result = cli("convert", "--arch", f"{path}:FFTNet", str(tmp_path / "empty.pth"), "--input-shape", "1,1,8,8",
                 "--to", "onnx", "--out", str(tmp_path / "out"))
    assert_one_line_error(result, "ONNX export failed: Exporting the operator 'aten::fft_fft2'")  # not the exporter's IR dump
    assert not (tmp_path / "out").exists()  # nothing converted: no folder with a card of no artifacts


def test_convert_that_makes_nothing_leaves_its_folder_as_it_was(tmp_path, cli):
    """Every artifact failing used to leave model.json (listing no artifact) and convert.json behind, exit 2; the
    reasons now come in one line, each once, and an existing folder keeps only what it had."""
    path = _fft_arch(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("convert", "--arch", f"{path}:FFTNet", str(tmp_path / "empty.pth"), "--input-shape", "1,1,8,8",
                 "--to", "onnx,openvino", "--out", str(out))
    assert_one_line_error(result, "aten::fft_fft2")
    assert result.stderr.count("aten::fft_fft2") == 1, result.stderr  # onnx and openvino stopped by the same export
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_drift_is_caught(tmp_path, monkeypatch):
    """A runtime that disagrees with the source fails verification and leaves no artifact behind."""
    from edgeemo.runtime.onnxruntime import OnnxRuntimeSession

    original = OnnxRuntimeSession.output
    monkeypatch.setattr(OnnxRuntimeSession, "output", lambda self: original(self) + 0.01)
    with pytest.raises(EdgeemoError, match="onnx fp32 drifted"):
        convert(load_source("emolite", Overrides()), tmp_path, formats=("onnx",))
    assert not list(tmp_path.iterdir())  # no model.onnx, and no card of a conversion that made nothing


def test_fer_keras_model_converts_with_full_agreement_on_real_faces(fer_model, shared_data, tmp_path, cli):
    result = cli("convert", str(fer_model), "--data", str(shared_data), "--labels", "anger,disgust,fear,happy,sad,surprise,neutral",
                 "--mean", "127.5", "--scale", "127.5", "--out", str(tmp_path), "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["inputs"].startswith("dataset:") and report["n_inputs"] >= 32
    _assert_verified(report)
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["channel_order"] == "gray" and card["layout"] == "NHWC" and card["input_shape"] == [1, 64, 64, 1]


def test_arch_kwargs_take_python_literals_and_json(arch_file, tmp_path, cli):
    """Constructor arguments as literals (nested lists) or @args.json; --weights without SRC."""
    from edgeemo.sources import parse_kwargs

    assert parse_kwargs("io_list=[[1,28],[28,56],[56,112]],scale=0.5,name=x,flag=True") == {
        "io_list": [[1, 28], [28, 56], [56, 112]], "scale": 0.5, "name": "x", "flag": True}
    for bad in ("a", "x=open(1)", "__import__('os').system('true')"):
        with pytest.raises(EdgeemoError):
            parse_kwargs(bad)
    torch.save({"network": _tiny(arch_file).state_dict()}, tmp_path / "ckpt.pth")
    (tmp_path / "args.json").write_text(json.dumps({"classes": 5, "width": 8}))
    result = cli("convert", "--weights", str(tmp_path / "ckpt.pth"), "--arch", f"{arch_file}:TinyNet", "--arch-kwargs",
                 f"@{tmp_path / 'args.json'}", "--input-shape", "1,1,32,32", "--to", "onnx", "--out", str(tmp_path / "o"), "--json")
    assert result.code == 0, result.stderr
    assert [(a["format"], a["passed"]) for a in result.json()["artifacts"]] == [("onnx", True)]
