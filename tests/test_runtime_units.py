"""The runtime layer at the unit level (fast tier): statistics, the measuring loop, sessions on a tiny real model in
ONNX Runtime and OpenVINO, and the same package working as a bundle's edgeemo_runtime without edgeemo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeemo.errors import ModelLoadError
from edgeemo.runtime import adapt_layout, check_input, load, random_inputs
from edgeemo.runtime.measure import LatencyStats, measure

RUNTIME_DIR = Path(__file__).parents[1] / "edgeemo" / "runtime"


def tiny_onnx(path: Path, batch: int | str = 1, channels: int = 3, size: int = 8) -> Path:
    """A real 5-class classifier graph: global average pool of the input, a 3->5 matrix, softmax."""
    import onnx
    from onnx import TensorProto, helper

    weights = np.arange(channels * 5, dtype=np.float32).reshape(channels, 5) / 10
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
         helper.make_node("Flatten", ["p"], ["f"]),
         helper.make_node("MatMul", ["f", "w"], ["z"]),
         helper.make_node("Softmax", ["z"], ["y"], axis=1)],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, channels, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 5])],
        [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.ravel())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def expected(x: np.ndarray) -> np.ndarray:
    z = x.mean(axis=(2, 3)) @ (np.arange(15, dtype=np.float32).reshape(3, 5) / 10)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_latency_stats_on_known_samples():
    s = LatencyStats.from_samples([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.median, s.min, s.max, s.mean) == (3.0, 1.0, 5.0, 3.0)
    assert s.p90 == pytest.approx(4.6) and s.p99 == pytest.approx(4.96)  # linear interpolation between order statistics
    with pytest.raises(ValueError):
        LatencyStats.from_samples([])


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_session_infers_splits_batches_and_transposes(tmp_path, runtime):
    model = tiny_onnx(tmp_path / "m.onnx")
    session = load(model, runtime, threads=1, precision="f32")
    x = np.random.default_rng(1).uniform(0, 1, (5, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(session.infer(x), expected(x), atol=1e-5)  # batch-1 model: five runs
    np.testing.assert_allclose(session.infer(x.transpose(0, 2, 3, 1)), expected(x), atol=1e-5)  # NHWC in: adapted
    assert session.batch == 1 and session.static_shape() == [1, 3, 8, 8] and session.threads == 1
    assert session.precision.startswith("fp32")
    # unhinted, the device's own choice (OpenVINO: bf16 on a CPU with AMX), which the session reports
    own = load(model, runtime, threads=1)
    assert own.precision in ("fp32", "bf16", "fp16")
    np.testing.assert_allclose(own.infer(x), expected(x), atol=1e-5 if own.precision == "fp32" else 1e-2)


def test_dynamic_batch_runs_whole_batches(tmp_path):
    session = load(tiny_onnx(tmp_path / "m.onnx", batch="n"), "onnxruntime")
    assert session.input_shape[0] == -1 and session.batch == 1
    x = np.ones((7, 3, 8, 8), np.float32)
    assert session.infer(x).shape == (7, 5)


def test_measure_uses_the_runtimes_own_latency_where_it_keeps_one(tmp_path):
    path = tiny_onnx(tmp_path / "m.onnx")
    ov_session, ort_session = load(path, "openvino", threads=1), load(path, "onnxruntime", threads=1)
    m = measure(ov_session, random_inputs(ov_session, 4), iterations=30, warmup=2)
    assert len(m.wall_ms) == len(m.runtime_ms) == 30 and m.first_ms > 0
    assert "InferRequest.latency" in m.source and m.latency.median <= m.wall.median * 1.5
    m = measure(ort_session, random_inputs(ort_session, 4), iterations=None, seconds=0.05, warmup=0)
    assert m.runtime_ms is None and m.source == "wall clock around the call" and len(m.wall_ms) > 0
    with pytest.raises(ValueError):
        measure(ort_session, [], iterations=1)


def test_random_inputs_are_pixels_in_the_range_the_card_normalises_to(tmp_path):
    """Like benchmark_app's fill, pixels uniform over 0-255; with a card's mean/scale, per channel in the model's
    layout (the range a kiosk feeds: it can change an FP32 IR's speed in bf16)."""
    from edgeemo.runtime import Session

    session = load(tiny_onnx(tmp_path / "m.onnx"), "onnxruntime")
    raw = np.stack(random_inputs(session, 8))
    assert raw.shape == (8, 1, 3, 8, 8) and 0 <= raw.min() < 10 and 245 < raw.max() <= 255
    unit = np.stack(random_inputs(session, 8, mean=[127.5], scale=[127.5]))
    np.testing.assert_allclose(unit, raw / 127.5 - 1, atol=1e-6)  # same seed, same pixels
    nhwc = np.stack(random_inputs(Session([1, 8, 8, 3], "NHWC"), 8, mean=[0, 100, 200], scale=[1, 1, 2]))
    assert nhwc.shape == (8, 1, 8, 8, 3)
    lows, highs = nhwc.min(axis=(0, 1, 2, 3)), nhwc.max(axis=(0, 1, 2, 3))
    assert (lows < [10, -90, -95]).all() and (lows >= [0, -100, -100]).all()
    assert (highs > [245, 145, 22]).all() and (highs <= [255, 155, 27.5]).all()
    with pytest.raises(ModelLoadError, match="2 mean/scale values for an input of 3 channels"):
        random_inputs(session, 1, mean=[1, 2])


def test_openvino_infers_synchronously_on_the_calling_thread(tmp_path):
    """One blocking infer() per run, as a kiosk calls it and as `benchmark_app -api sync` times it (start_async + wait
    hands each inference to a worker thread: twice the latency of a small INT8 IR on an idle VM); real inference
    through a spy on the request."""
    path = tiny_onnx(tmp_path / "m.onnx")
    session = load(path, "openvino", threads=1)
    calls: list[str] = []

    class Spy:
        def __init__(self, request):
            self._request = request

        def __getattr__(self, name):
            calls.append(name)
            return getattr(self._request, name)

    session.request = Spy(session.request)
    x = np.random.default_rng(0).random((1, 3, 8, 8), dtype=np.float32)
    session.run(session.encode(x))
    assert "infer" in calls and "start_async" not in calls and "wait" not in calls
    assert np.allclose(session.output(), expected(x), atol=1e-3) and session.latency_ms() > 0


def test_openvino_throughput_queue_is_kept_full_and_reports_each_requests_latency(tmp_path):
    """One queue per session (not one per call), each request set once to one of the inputs and restarted on it
    (as benchmark_app), stopped by count or by time; the figures are OpenVINO's per-request latencies."""
    session = load(tiny_onnx(tmp_path / "m.onnx"), "openvino", threads=1, precision="f32", mode="throughput",
                   requests=3)
    inputs = [session.encode(np.full((1, 3, 8, 8), v, np.float32)) for v in (0.5, 2.0, 9.0)]
    latencies = session.run_async(inputs, count=40)
    queue = session._queue
    assert len(latencies) == 40 and min(latencies) > 0 and len(queue) == 3
    for j in range(len(queue)):  # request j ran on input j
        np.testing.assert_allclose(queue[j].get_output_tensor(0).data, expected(inputs[j].data), atol=1e-3)
    timed = session.run_async(inputs[1:], seconds=0.05)
    assert len(timed) > 0 and session._queue is queue
    np.testing.assert_allclose(queue[0].get_output_tensor(0).data, expected(inputs[1].data), atol=1e-3)


def test_load_refuses_in_one_line(tmp_path):
    path = tiny_onnx(tmp_path / "m.onnx")
    with pytest.raises(ModelLoadError, match="cannot read .onnx"):
        load(path, "litert")
    with pytest.raises(ModelLoadError, match="applies to the OpenVINO runtime"):
        load(path, "onnxruntime", device="GPU")
    with pytest.raises(ModelLoadError, match="precision hint"):
        load(path, "onnxruntime", precision="bf16")
    with pytest.raises(ModelLoadError, match="no runtime for .bin"):
        load(tmp_path / "m.bin")
    with pytest.raises(ModelLoadError, match="no such file"):
        load(tmp_path / "absent.onnx")
    with pytest.raises(ModelLoadError, match="dynamic beyond the batch"):
        check_input("m", [[1, 3, None, 8]])
    with pytest.raises(ModelLoadError, match="2 inputs"):
        check_input("m", [[1, 3, 8, 8], [1]])
    with pytest.raises(ModelLoadError, match="does not fit"):
        adapt_layout(np.zeros((1, 3, 9, 9)), [1, 3, 8, 8], "NCHW")


def test_openvino_reports_what_it_computes_in_and_takes_a_hint(tmp_path):
    session = load(tiny_onnx(tmp_path / "m.onnx"), "openvino", threads=1, precision="f32")
    assert session.precision == "fp32" and session.streams == 1
    assert session.describe()["runtime"] == "openvino"


def test_openvino_device_names_in_any_case(tmp_path):
    """`--device cpu` is OpenVINO's CPU (its names are upper case; it refused the lower-case one as absent)."""
    session = load(tiny_onnx(tmp_path / "m.onnx"), "openvino", device="cpu", threads=1, precision="f32")
    assert session.device == "CPU"
    x = np.random.default_rng(0).random((1, 3, 8, 8), dtype=np.float32)
    np.testing.assert_allclose(session.infer(x), expected(x), atol=1e-5)


def test_the_bundled_copy_runs_without_edgeemo(tmp_path):
    """deploy copies edgeemo/runtime/ as edgeemo_runtime/: it must import and measure with edgeemo unimportable."""
    package = tmp_path / "edgeemo_runtime"
    package.mkdir()
    for module in RUNTIME_DIR.glob("*.py"):
        shutil.copyfile(module, package / module.name)
    model = tiny_onnx(tmp_path / "m.onnx")
    code = ("import sys, json; sys.modules.update(edgeemo=None, torch=None, tensorflow=None)\n"
            "from edgeemo_runtime import load, random_inputs, ModelLoadError\n"
            "from edgeemo_runtime.measure import measure\n"
            f"s = load({str(model)!r}, 'openvino', threads=1)\n"
            "m = measure(s, random_inputs(s), iterations=20, warmup=2)\n"
            "try:\n    load('x.bin', 'openvino')\nexcept ModelLoadError as e:\n    err = str(e)\n"
            "print(json.dumps({'median': m.latency.median, 'source': m.source, 'err': err, 'mod': ModelLoadError.__module__}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["median"] > 0 and "InferRequest.latency" in out["source"]
    assert "cannot read .bin" in out["err"] and out["mod"] == "edgeemo_runtime._compat"


def test_bench_runs_the_batch_asked_for_or_says_why_not(tmp_path):
    """`bench --batch 4` measured batch 1 and reported batch 1 for a static-batch-1 ONNX or TFLite artifact, and for
    a dynamic-batch model: it now runs batch 4 where the input allows it and refuses in one line where it does not."""
    from edgeemo.bench.run import benchmark
    from edgeemo.errors import EdgeemoError

    dynamic = benchmark(str(tiny_onnx(tmp_path / "dyn.onnx", batch="n")), batch=4, iterations=10, warmup=1)
    assert dynamic.batch == 4
    with pytest.raises(EdgeemoError, match="static batch of 1"):
        benchmark(str(tiny_onnx(tmp_path / "one.onnx")), batch=4, iterations=10, warmup=1)
    assert benchmark(str(tiny_onnx(tmp_path / "four.onnx", batch=4)), iterations=10, warmup=1).batch == 4
