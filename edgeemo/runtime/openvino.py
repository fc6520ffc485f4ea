"""OpenVINO: CPU, GPU, NPU and the AUTO/HETERO/MULTI meta-devices, configured as benchmark_app configures them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from . import Session, check_input, layout_of
from ._compat import DeviceError, ModelLoadError, decline_vendor_telemetry, first_line

PRECISION_NAMES = {"bf16": "bf16", "f32": "fp32", "f16": "fp16"}


def devices() -> list[str]:
    decline_vendor_telemetry()
    import openvino as ov

    return list(ov.Core().available_devices)


def check_device(device: str, present: list[str] | None = None) -> None:
    """One line naming what was asked and what is present, before any compile is tried."""
    present = devices() if present is None else present
    if device == "AUTO":
        return
    wanted = device.split(":", 1)[1].split(",") if device.startswith(("HETERO:", "MULTI:", "AUTO:")) else [device]
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


class OpenVINOSession(Session):
    runtime = "openvino"

    def __init__(self, path: str | Path, device: str = "CPU", threads: int | None = None, precision: str | None = None,
                 mode: str = "latency", streams: int | None = None, input_shape: list[int] | None = None,
                 requests: int | None = None) -> None:
        decline_vendor_telemetry()
        import openvino as ov

        self._ov = ov
        path = Path(path)
        device = device.upper()  # OpenVINO's names are upper case: `--device npu` means NPU
        core = ov.Core()
        check_device(device, list(core.available_devices))
        try:
            model = core.read_model(str(path))
        except Exception as exc:
            raise ModelLoadError(f"{path}: OpenVINO cannot read it: {first_line(exc)}") from exc
        if input_shape:
            model.reshape(input_shape)
        if device.startswith("NPU"):
            npu_preflight(model)
        shapes = [[d.get_length() if d.is_static else None for d in p.get_partial_shape()]
                  if p.get_partial_shape().rank.is_static else [None] for p in model.inputs]
        check_input(path.name, shapes)
        declared = [d if d is not None else -1 for d in shapes[0]]
        config: dict = {"PERFORMANCE_HINT": "LATENCY" if mode == "latency" else "THROUGHPUT"}
        on_cpu = device.split(":")[0] == "CPU"
        if on_cpu:
            if threads:
                config["INFERENCE_NUM_THREADS"] = threads
            if mode == "latency" or streams:
                config["NUM_STREAMS"] = streams or 1
        if precision:  # e.g. f32 on a CPU with AMX, which otherwise computes an FP32 model in bf16
            config["INFERENCE_PRECISION_HINT"] = precision
        t0 = time.perf_counter()
        try:
            self.compiled = core.compile_model(model, device, config)
        except Exception as exc:
            capped = os.environ.get("ONEDNN_MAX_CPU_ISA")
            hint = (f" (ONEDNN_MAX_CPU_ISA={capped} is set and OpenVINO's CPU plugin obeys it: unset it, or ask for "
                    "f32 precision)") if capped and on_cpu else ""
            raise DeviceError(f"{device} could not compile {path.name}: {first_line(exc)}{hint}") from exc
        compile_ms = (time.perf_counter() - t0) * 1e3
        self.request = self.compiled.create_infer_request()
        self._port = self.compiled.input(0)
        self._requests = requests
        self._queue = None  # throughput mode's AsyncInferQueue, made on first use
        layout = model.get_rt_info(["edgeemo", "layout"]).astype(str) if model.has_rt_info(["edgeemo", "layout"]) else None
        first_device = device.split(":")[-1].split(",")[0]
        try:
            name = core.get_property(first_device, "FULL_DEVICE_NAME")
        except Exception:
            name = device
        try:
            computes = PRECISION_NAMES.get(self.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name(), "unknown")
        except Exception:
            computes = "unknown"
        if any(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops()):
            computes = f"int8 ({computes} elsewhere)"
        super().__init__(declared, layout or layout_of(declared), device=device, device_name=name, precision=computes,
                         threads=_int_property(self.compiled, "INFERENCE_NUM_THREADS", threads),
                         streams=_int_property(self.compiled, "NUM_STREAMS", 1) or 1, compile_ms=compile_ms)

    def encode(self, x: np.ndarray) -> object:
        return self._ov.Tensor(np.ascontiguousarray(x, dtype=np.float32))

    def run(self, encoded: object) -> None:
        """One synchronous inference: with one stream the CPU plugin runs it on the calling thread, as a kiosk's
        `infer()` and `benchmark_app -api sync` do. (start_async + wait hands every inference to a worker thread and
        back: about 40 us more per call on an idle 2-core VM, 2x the time of a 6M-MACC INT8 IR.)"""
        self.request.set_tensor(self._port, encoded)
        self.request.infer()

    def output(self) -> np.ndarray:
        return np.array(self.request.get_output_tensor(0).data)

    def outputs(self) -> list[np.ndarray]:
        return [np.array(self.request.get_output_tensor(i).data) for i in range(len(self.compiled.outputs))]

    def latency_ms(self) -> float | None:
        return float(self.request.latency)

    def run_async(self, inputs: list, count: int | None = None, seconds: float | None = None) -> list[float]:
        """Inferences through one async queue (a request per stream unless ``requests`` says otherwise), kept full
        until ``count`` have started or ``seconds`` have passed; each request's own latency (ms, InferRequest.latency,
        as benchmark_app reports it). As benchmark_app, each request gets its input once (one of ``inputs``) and
        is restarted on it: setting an input per start cost ~10% of a 0.5 ms model's throughput on 2 cores. The
        queue is made once per session: one per call added its requests' creation and a drained pipeline."""
        if self._queue is None:
            self._queue = self._ov.AsyncInferQueue(self.compiled, self._requests or max(1, self.streams))
        for j in range(len(self._queue)):
            self._queue[j].set_tensor(self._port, inputs[j % len(inputs)])
        queue, latencies, in_flight = self._queue, [], set()
        deadline = time.perf_counter() + seconds if seconds else None
        i = 0
        while (count is None or i < count) and (deadline is None or time.perf_counter() < deadline):
            idle = queue.get_idle_request_id()  # no Python callback: its GIL hand-off slows the queue (benchmark_app's loop)
            if idle in in_flight:
                latencies.append(queue[idle].latency)
            in_flight.add(idle)
            queue.start_async()
            i += 1
        queue.wait_all()
        return latencies + [queue[j].latency for j in in_flight]


def _int_property(compiled, name: str, fallback: int | None) -> int | None:
    try:
        return int(compiled.get_property(name))
    except Exception:
        return fallback
