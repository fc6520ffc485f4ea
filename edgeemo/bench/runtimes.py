"""One benchmark adapter per runtime: compile/load, then ``infer(x)`` (sync) or an async queue."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import EdgeemoError, ModelLoadError

RUNTIMES = ("openvino", "onnxruntime", "litert", "torch")
RUNTIME_FOR_SUFFIX = {".xml": "openvino", ".onnx": "onnxruntime", ".tflite": "litert"}


class DeviceError(EdgeemoError):
    """A device that is not present, or a model the device cannot run as it is."""


@dataclass
class Prepared:
    runtime: str
    device: str
    infer: Callable[[np.ndarray], object]
    input_shape: list[int]
    layout: str
    compile_ms: float
    threads: int | None
    precision: str  # what the runtime actually computes in
    device_name: str = ""
    streams: int = 1
    run_async: Callable[[list[np.ndarray], int], list[float]] | None = None  # throughput mode
    encode: Callable[[np.ndarray], object] | None = None  # float input -> what infer() takes (prepared outside timing)
    runtime_latency: Callable[[], float] | None = None  # the runtime's own measure of the last call (ms)
    extra: dict = field(default_factory=dict)


def openvino_devices() -> list[str]:
    import openvino as ov

    return list(ov.Core().available_devices)


def check_device(device: str) -> None:
    """One line naming what was asked and what is present, before any compile is tried."""
    present = openvino_devices()
    wanted = device.split(":", 1)[1].split(",") if device.startswith(("HETERO:", "MULTI:", "AUTO:")) else [device]
    if device == "AUTO":
        return
    missing = [d for d in wanted if d.split(".")[0] not in present and d not in present]
    if missing:
        raise DeviceError(f"device {device} is not present on this machine (OpenVINO sees: {', '.join(present) or 'none'}); "
                          "run on the target, or pick one of those")


def npu_preflight(model) -> None:
    """What the NPU plugin needs, said before compiling: static shapes; it computes in FP16 (INT8 runs as U8)."""
    for port in model.inputs:
        if port.get_partial_shape().is_dynamic:
            raise DeviceError(f"the NPU needs static shapes; input {port.get_any_name()} is {port.get_partial_shape()}: "
                              "use `edgeemo convert` (static IR) or --input-shape 1,3,64,64")


def prepare_openvino(path: Path, device: str, mode: str, threads: int | None, streams: int | None,
                     input_shape: list[int] | None = None, requests: int | None = None) -> Prepared:
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    check_device(device)
    core = ov.Core()
    model = core.read_model(str(path))
    if input_shape:
        model.reshape(input_shape)
    if device.startswith("NPU"):
        npu_preflight(model)
    config: dict = {hints.performance_mode: hints.PerformanceMode.LATENCY if mode == "latency" else hints.PerformanceMode.THROUGHPUT}
    if device.split(":")[0] in ("CPU",):
        if threads:
            config[props.inference_num_threads] = threads
        if mode == "latency" or streams:
            config[props.num_streams] = streams or 1
    t0 = time.perf_counter()
    try:
        compiled = core.compile_model(model, device, config)
    except Exception as exc:
        raise DeviceError(f"{device} could not compile {path.name}: {str(exc).strip().splitlines()[-1][:200]}") from None
    compile_ms = (time.perf_counter() - t0) * 1e3
    request = compiled.create_infer_request()
    from edgeemo.runtime import check_input

    shape = check_input(path.name, [[d.get_length() if d.is_static else None for d in p.get_partial_shape()]
                                     if p.get_partial_shape().rank.is_static else [None] for p in model.inputs])
    layout = model.get_rt_info(["edgeemo", "layout"]).astype(str) if model.has_rt_info(["edgeemo", "layout"]) else None
    first_device = device.split(":")[-1].split(",")[0]
    try:
        name = core.get_property(first_device, "FULL_DEVICE_NAME")
    except Exception:
        name = device
    try:
        precision = {"bf16": "bf16", "f32": "fp32", "f16": "fp16"}.get(
            compiled.get_property(hints.inference_precision).get_type_name(), "unknown")
    except Exception:
        precision = "unknown"
    if any(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops()):
        precision = f"int8 ({precision} elsewhere)"
    try:
        n_streams = int(compiled.get_property(props.num_streams))
    except Exception:
        n_streams = 1
    try:
        actual_threads = int(compiled.get_property(props.inference_num_threads))
    except Exception:
        actual_threads = threads
    port = compiled.input(0)

    def encode(x: np.ndarray) -> object:
        return ov.Tensor(np.ascontiguousarray(x))

    def infer(x) -> object:
        request.set_tensor(port, x if isinstance(x, ov.Tensor) else ov.Tensor(np.ascontiguousarray(x)))
        request.start_async()
        request.wait()

    def run_async(inputs: list[np.ndarray], count: int) -> list[float]:
        n_requests = requests or max(1, n_streams)
        queue = ov.AsyncInferQueue(compiled, n_requests)
        starts: dict[int, int] = {}
        latencies: list[float] = []

        def done(req, userdata):
            latencies.append((time.perf_counter_ns() - starts[userdata]) / 1e6)

        queue.set_callback(done)
        for i in range(count):
            starts[i] = time.perf_counter_ns()
            queue.start_async({0: inputs[i % len(inputs)]}, userdata=i)
        queue.wait_all()
        return latencies

    return Prepared("openvino", device, infer, shape, layout or "", compile_ms, actual_threads, precision, name, n_streams, run_async,
                    encode=encode, runtime_latency=lambda: float(request.latency))


def prepare_onnxruntime(path: Path, threads: int | None, providers: list[str] | None = None) -> Prepared:
    import onnxruntime as ort

    t0 = time.perf_counter()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelLoadError(f"{path}: ONNX Runtime cannot load it: {str(exc).strip().splitlines()[0][:200]}") from None
    compile_ms = (time.perf_counter() - t0) * 1e3
    from edgeemo.runtime import check_input

    shape = check_input(path.name, [i.shape for i in session.get_inputs()])
    name = session.get_inputs()[0].name
    import onnx

    ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
    precision = "int8 (QDQ)" if "QuantizeLinear" in ops else "fp32"
    return Prepared("onnxruntime", "CPU", lambda x: session.run(None, {name: x}), shape, "", compile_ms, threads,
                    precision, session.get_providers()[0])


def prepare_litert(path: Path, threads: int | None) -> Prepared:
    from edgeemo.quiet import quiet_native
    from edgeemo.runtime.litert import encode_input, interpreter_class

    Interpreter = interpreter_class()
    t0 = time.perf_counter()
    try:
        with quiet_native():
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
    except Exception as exc:
        raise ModelLoadError(f"{path}: LiteRT cannot load it: {str(exc).strip().splitlines()[0][:200]}") from None
    compile_ms = (time.perf_counter() - t0) * 1e3
    from edgeemo.runtime import check_input

    check_input(path.name, [[int(d) for d in i["shape"]] for i in interpreter.get_input_details()])
    detail = interpreter.get_input_details()[0]
    index = detail["index"]

    def infer(x: np.ndarray) -> object:
        interpreter.set_tensor(index, x)
        interpreter.invoke()

    dtype = np.dtype(detail["dtype"])
    precision = "int8" if any(np.dtype(t["dtype"]) == np.int8 for t in interpreter.get_tensor_details()) else "fp32"
    encode = None if dtype == np.float32 else (lambda x: encode_input(x, detail))
    return Prepared("litert", "CPU", infer, [int(d) for d in detail["shape"]], "", compile_ms, threads,
                    f"{precision} (input {dtype.name}, XNNPACK)", encode=encode)


def prepare_torch(module, input_shape: list[int], threads: int | None) -> Prepared:
    import torch

    if threads:
        torch.set_num_threads(threads)

    def infer(x: np.ndarray) -> object:
        with torch.inference_mode():
            return module(torch.from_numpy(x))

    return Prepared("torch", "CPU", infer, list(input_shape), "NCHW", 0.0, torch.get_num_threads(), "fp32 (eager)")
