"""edgeemo bench: every runtime for real on a small zoo model; schema, consistent statistics, devices, errors."""

import json

import pytest

from edgeemo.export.convert import convert
from edgeemo.sources import Overrides, load_source

from conftest import assert_one_line_error

KEYS = {"latency_ms", "throughput_fps", "compile_ms", "first_inference_ms", "runtime", "device", "threads", "mode", "iterations"}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    convert(load_source("emolite", Overrides()), out)
    return out


def _check(report: dict, runtime: str, iterations: int):
    assert KEYS <= set(report)
    s = report["latency_ms"]
    assert set(s) >= {"median", "mean", "std", "min", "max", "p90", "p99"}
    assert 0 < s["min"] <= s["median"] <= s["p90"] <= s["p99"] <= s["max"]
    assert report["runtime"] == runtime and report["iterations"] == iterations and report["mode"] == "latency"
    assert report["throughput_fps"] == pytest.approx(1000 / s["mean"], rel=1e-6)
    assert report["first_inference_ms"] > 0 and report["compile_ms"] >= 0
    assert report["environment"]["cores"] >= 1 and report["environment"]["versions"]


@pytest.mark.parametrize("path, runtime, extra", [("openvino/model.xml", "openvino", ()), ("model.onnx", "onnxruntime", ()),
                                                  ("model.tflite", "litert", ()), ("emolite", "torch", ("--runtime", "torch")),
                                                  ("emolite", "onnxruntime", ("--runtime", "onnxruntime"))])
def test_every_runtime(artifacts, cli, path, runtime, extra):
    target = str(artifacts / path) if "." in path else path
    result = cli("bench", target, "--iterations", "30", "--threads", "1", "--json", *extra)
    assert result.code == 0, result.stderr
    report = result.json()
    _check(report, runtime, 30)
    assert report["threads"] == 1
    assert report["input"] == "random pixels, normalised by the model card"  # the range the model is fed


def test_openvino_on_onnx_and_time_limit(artifacts, cli):
    result = cli("bench", str(artifacts / "model.onnx"), "--runtime", "openvino", "--time", "0.5", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["runtime"] == "openvino" and report["iterations"] > 10


def test_end_to_end_and_real_faces(artifacts, shared_data, cli):
    result = cli("bench", str(artifacts / "openvino" / "model.xml"), "--data", str(shared_data), "--end-to-end",
                 "--iterations", "20", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["input"].startswith("faces from")
    whole, part = report["end_to_end_ms"], report["preprocess_ms"]
    # Timed in the same iterations, the whole holds its decode + preprocess part plus an inference, statistic by
    # statistic (comparing with latency_ms, a separate measurement, is a race on a busy machine).
    assert 0 < part["min"] < whole["min"] and part["median"] < whole["median"] and part["max"] < whole["max"]


def test_throughput_mode(artifacts, cli):
    result = cli("bench", str(artifacts / "openvino" / "model.xml"), "--mode", "throughput", "--iterations", "200", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["mode"] == "throughput" and report["throughput_fps"] > 0 and report["iterations"] == 200
    assert "InferRequest.latency" in report["latency_source"] and report["latency_ms"]["min"] > 0
    assert report["first_inference_ms"] > 0
    timed = cli("bench", str(artifacts / "openvino" / "model.xml"), "--mode", "throughput", "--time", "0.3", "--json")
    assert timed.code == 0, timed.stderr
    assert timed.json()["iterations"] > 10


def test_auto_device_works(artifacts, cli):
    result = cli("bench", str(artifacts / "openvino" / "model.xml"), "--device", "AUTO", "--iterations", "20", "--json")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("device", ["NPU", "GPU", "HETERO:NPU,CPU"])
def test_absent_devices_say_what_is_present(artifacts, cli, device):
    import openvino as ov

    if device.split(":")[-1].split(",")[0] in ov.Core().available_devices:
        pytest.skip(f"{device} is present here")
    result = cli("bench", str(artifacts / "openvino" / "model.xml"), "--device", device)
    assert_one_line_error(result, f"device {device} is not present", "CPU")


def test_npu_preflight_rejects_dynamic_shapes(tmp_path):
    import openvino as ov
    import torch

    from edgeemo.errors import DeviceError
    from edgeemo.runtime.openvino import npu_preflight
    from edgeemo.models import create_model

    path = tmp_path / "dyn.onnx"
    torch.onnx.export(create_model("emolite"), (torch.zeros(1, 1, 64, 64),), str(path), dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "n"}})
    with pytest.raises(DeviceError, match="static shapes"):
        npu_preflight(ov.Core().read_model(str(path)))


def test_bad_inputs(artifacts, cli, tmp_path):
    xml = str(artifacts / "openvino" / "model.xml")
    assert_one_line_error(cli("bench", xml, "--runtime", "tensorrt"), "unknown runtime")
    assert_one_line_error(cli("bench", xml, "--iterations", "0"), "--iterations")
    assert_one_line_error(cli("bench", xml, "--time", "-1"), "--time")
    assert_one_line_error(cli("bench", str(artifacts / "model.tflite"), "--runtime", "onnxruntime"), "cannot read .tflite")
    (tmp_path / "x.onnx").write_bytes(b"garbage")
    assert_one_line_error(cli("bench", str(tmp_path / "x.onnx")), "x.onnx")
    # --matrix given a zoo name or one artifact: how to get the folder it reads (was: "run `edgeemo convert` first")
    assert_one_line_error(cli("bench", "emolite", "--matrix"), "--matrix takes a folder", "edgeemo convert emolite --out DIR",
                          "edgeemo optimize emolite")
    one = cli("bench", xml, "--matrix")
    assert_one_line_error(one, "not one of them")
    assert one.stderr.strip().endswith(f"bench --matrix {artifacts}"), one.stderr  # the IR's folder's parent
    assert_one_line_error(cli("bench", str(tmp_path), "--matrix"), "no artifacts")


def test_target_profile_says_the_figure_is_from_this_host(artifacts, cli):
    result = cli("bench", str(artifacts / "model.tflite"), "--target", "rpi5", "--iterations", "20", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["runtime"] == "litert" and report["threads"] == 4
    assert "not on a rpi5" in report["host_note"] and "not on a rpi5" in result.stderr
    if "NPU" not in __import__("openvino").Core().available_devices:  # an absent target device: one answer, not a fallback
        assert_one_line_error(cli("bench", str(artifacts / "openvino" / "model.xml"), "--target", "intel-npu"),
                              "NPU is not present on this host", "present: CPU")
    listing = cli("targets", "--json")
    assert {t["name"] for t in listing.json()} >= {"cpu-x86", "intel-igpu", "intel-npu", "rpi4", "rpi5"}


def test_matrix(artifacts, cli):
    result = cli("bench", str(artifacts), "--matrix", "--iterations", "20", "--json")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert {(r["format"], r["runtime"]) for r in rows} >= {("onnx", "onnxruntime"), ("onnx", "openvino"),
                                                            ("openvino", "openvino"), ("tflite", "litert")}
    for r in rows:
        assert r["error"] is None and r["median_ms"] > 0 and r["macc"] > 0 and r["bytes"] > 0
    assert json.loads((artifacts / "bench_matrix.json").read_text()) == rows
    assert (artifacts / "bench_matrix.csv").read_text().startswith("format,precision,runtime")
    # the printed table fits an 80-column terminal, every figure whole (it was folded into 3-character columns)
    from rich.console import Console

    from edgeemo.bench.matrix import MatrixRow
    from edgeemo.cli.bench import _matrix_table

    console = Console(width=80, record=True, no_color=True)
    console.print(_matrix_table([MatrixRow(**r) for r in rows], "matrix"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for r in rows:
        assert f"{r['format']} {r['precision']}" in text and f"{r['median_ms']:.3f}" in text


def test_zoo_compare_script_runs_and_reports_the_cards(shared_data):
    """benchmarks/zoo_compare.py (issue #14's table) against today's API: one compact model and the reference."""
    from edgeemo.models import zoo_dir

    report = _benchmark_script_json("zoo_compare.py", "--data", str(shared_data), "--models", "mini-xception",
                                    "--iterations", "5", "--rounds", "2", "--subset", "16")
    rows = {r["model"]: r for r in report["rows"]}
    assert set(rows) == {"emonet-resnet10", "mini-xception"} and report["environment"]["isa"]
    assert rows["emonet-resnet10"]["speedup_vs_emonet_best"] == 1.0
    card = json.loads((zoo_dir() / "mini-xception.json").read_text())
    mx = rows["mini-xception"]
    assert mx["held_out"]["split"] == "test" and mx["held_out"]["macro_recall"] == card["test"]["macro_recall"]
    assert mx["cross_domain"]["macro_recall"] == card["cross_domain"]["macro_recall"]
    assert {"OpenVINO FP32", "OpenVINO INT8", "ONNX Runtime FP32", "LiteRT FP32"} <= set(mx["latency_ms"])
    assert mx["best_ms"] == min(mx["latency_ms"].values()) > 0
    # every artifact carries what it costs on the model's val split as it was timed (points under the FP32 card)
    assert set(mx["val_drop_pt"]) == set(mx["latency_ms"]) == set(mx["computes"])
    assert abs(mx["val_drop_pt"]["ONNX Runtime FP32"]) < 1  # the same FP32 network as the card's PyTorch one
    assert all(-100 < d < 100 for d in mx["val_drop_pt"].values()) and mx["computes"]["OpenVINO INT8"].startswith("int8")
    assert mx["best_val_drop_pt"] == mx["val_drop_pt"][mx["best"]] and mx["best_computes"] == mx["computes"][mx["best"]]


def test_emofast_shapes_script_times_both_int8_runtimes(shared_data):
    """benchmarks/emofast_shapes.py against today's API (it broke once when zoo_compare's timing changed shape)."""
    report = _benchmark_script_json("emofast_shapes.py", "--data", str(shared_data), "--only", "widths 24-48-96, stem 12 2x2/2",
                                    "--iterations", "5", "--rounds", "1", "--subset", "16")
    rows = {r["model"]: r for r in report["rows"]}
    assert set(rows) == {"emonet-resnet10", "emofast", "widths 24-48-96, stem 12 2x2/2"} and report["environment"]["isa"]
    assert rows["emonet-resnet10"]["speedup_vs_emonet_best_int8"] == 1.0
    for r in rows.values():
        assert set(r["int8_ms"]) == {"OpenVINO INT8", "LiteRT INT8"} and min(r["int8_ms"].values()) > 0
        assert r["best"] == min(r["int8_ms"], key=r["int8_ms"].get)
    assert 6.0e6 < rows["widths 24-48-96, stem 12 2x2/2"]["macc"] < 6.1e6  # the 3x3 stem's 6.12M less 0.06M


def _benchmark_script_json(script: str, *args: str) -> dict:
    """Run benchmarks/SCRIPT with --json in a fresh interpreter; its report."""
    import subprocess
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / script
    run = subprocess.run([sys.executable, str(path), *args, "--json"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)
