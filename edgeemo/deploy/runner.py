#!/usr/bin/env python3
"""edgeemo kiosk runner: needs only numpy, opencv-python-headless and the target's runtime
(openvino on Intel; ai-edge-litert, or tflite_runtime on old Raspberry Pi images).

  python3 runner.py selftest          run the inputs recorded at bundle time, compare with the recorded outputs
  python3 runner.py bench [--iterations N] [--threads T]   edgeemo bench's latency protocol, JSON out
  python3 runner.py predict IMAGE...  classify face crops (already cropped), JSON lines out

This file is copied into every bundle by `edgeemo deploy`; it imports nothing from edgeemo.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def load_card() -> dict:
    return json.loads((HERE / "model.json").read_text())


class Model:
    """The bundle's model in its runtime; ``infer`` takes a batch in the model's own input layout."""

    def __init__(self, card: dict, threads: int | None = None, device: str | None = None) -> None:
        self.card = card
        path = HERE / card["artifact"]
        if path.suffix == ".tflite":
            try:
                from ai_edge_litert.interpreter import Interpreter
            except ImportError:
                from tflite_runtime.interpreter import Interpreter
            self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self.interpreter.allocate_tensors()
            self.inp = self.interpreter.get_input_details()[0]
            self.out = self.interpreter.get_output_details()[0]
            self.input_shape = [int(d) for d in self.inp["shape"]]
            self.runtime = "litert"
        else:
            import openvino as ov

            core = ov.Core()
            device = device or os.environ.get("EDGEEMO_DEVICE") or card.get("device", "CPU")  # override to test off-target
            if device.split(":")[0] not in ("AUTO", "HETERO", "MULTI") and device not in core.available_devices:
                sys.exit(f"runner: device {device} is not present (OpenVINO sees: {', '.join(core.available_devices)}); "
                         "set EDGEEMO_DEVICE=CPU to check the bundle on this machine")
            config = {"PERFORMANCE_HINT": "LATENCY"}
            if threads and device == "CPU":
                config["INFERENCE_NUM_THREADS"] = threads
            self.compiled = core.compile_model(core.read_model(str(path)), device, config)
            self.request = self.compiled.create_infer_request()
            self.input_shape = [int(d) for d in self.compiled.input(0).get_shape()]
            self.runtime = "openvino"

    def _encode(self, x: np.ndarray) -> np.ndarray:
        detail = self.inp
        if detail["dtype"] == np.float32:
            return x.astype(np.float32)
        scale, zero = detail["quantization"]
        info = np.iinfo(detail["dtype"])
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])

    def _decode(self, y: np.ndarray) -> np.ndarray:
        scale, zero = self.out["quantization"]
        return y.astype(np.float32) if not scale else (y.astype(np.float32) - zero) * scale

    def infer_one(self, x: np.ndarray) -> np.ndarray:
        if self.runtime == "litert":
            self.interpreter.set_tensor(self.inp["index"], self._encode(x))
            self.interpreter.invoke()
            return self._decode(self.interpreter.get_tensor(self.out["index"]))
        return np.array(self.request.infer({0: x})[self.compiled.output(0)])

    def infer(self, batch: np.ndarray) -> np.ndarray:
        n = self.input_shape[0]
        return np.concatenate([self.infer_one(batch[i:i + n]) for i in range(0, len(batch), n)])


def preprocess(image: np.ndarray, card: dict, input_shape: list[int]) -> np.ndarray:
    """Gray/colour, resize (crop/squash/letterbox), (pixel - mean) / scale, in the model's layout."""
    import cv2

    order = card["channel_order"]
    if order == "gray":
        image = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        image = image[:, :, None]
    else:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[:, :, :3]
        image = image[:, :, ::-1] if order == "rgb" else image
    th, tw = card["input_size"]
    h, w = image.shape[:2]
    if card.get("resize", "crop") == "crop":
        s = max(th / h, tw / w)
        ch, cw = min(h, round(th / s)), min(w, round(tw / s))
        y, x = (h - ch) // 2, (w - cw) // 2
        image = image[y:y + ch, x:x + cw]
    c = image.shape[2]
    image = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA if h > th else cv2.INTER_LINEAR).reshape(th, tw, c)
    x = (image.astype(np.float32) - np.asarray(card["mean"], np.float32)) / np.asarray(card["scale"], np.float32)
    nhwc = len(input_shape) == 4 and input_shape[-1] == c
    return x if nhwc else x.transpose(2, 0, 1)


def selftest(args) -> int:
    card = load_card()
    model = Model(card, args.threads)
    data = np.load(HERE / "selftest.npz")
    got = model.infer(data["inputs"])
    diff = float(np.abs(got - data["outputs"]).max())
    agree = float((got.argmax(1) == data["outputs"].argmax(1)).mean())
    ok = diff <= float(data["tolerance"]) and agree == 1.0
    print(json.dumps({"selftest": "pass" if ok else "FAIL", "max_abs_diff": diff, "top1_agreement": agree,
                      "tolerance": float(data["tolerance"]), "n": int(len(got)), "runtime": model.runtime,
                      "machine": platform.machine()}))
    return 0 if ok else 1


def bench(args) -> int:
    card = load_card()
    model = Model(card, args.threads)
    x = np.load(HERE / "selftest.npz")["inputs"][: model.input_shape[0]]
    run = model.infer_one
    t0 = time.perf_counter_ns()
    run(x)
    first = (time.perf_counter_ns() - t0) / 1e6
    for _ in range(args.warmup):
        run(x)
    samples = []
    for _ in range(args.iterations):
        t0 = time.perf_counter_ns()
        run(x)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    s = np.sort(np.array(samples))
    stats = {"median": float(np.median(s)), "mean": float(s.mean()), "std": float(s.std()), "min": float(s[0]),
             "max": float(s[-1]), "p90": float(np.percentile(s, 90)), "p99": float(np.percentile(s, 99))}
    print(json.dumps({"latency_ms": stats, "throughput_fps": 1000.0 / stats["mean"], "first_inference_ms": first,
                      "iterations": len(samples), "threads": args.threads, "runtime": model.runtime, "mode": "latency",
                      "machine": platform.machine(), "emulated": bool(os.environ.get("QEMU_CPU"))}))
    return 0


def predict(args) -> int:
    import cv2

    card = load_card()
    model = Model(card, args.threads)
    for path in args.images:
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if image is None:
            print(json.dumps({"image": path, "error": "unreadable"}))
            continue
        probs = model.infer(preprocess(image, card, model.input_shape)[None])[0]
        print(json.dumps({"image": path, "label": card["labels"][int(probs.argmax())],
                          "scores": {label: float(p) for label, p in zip(card["labels"], probs)}}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("selftest")
    b = sub.add_parser("bench")
    b.add_argument("--iterations", type=int, default=200)
    b.add_argument("--warmup", type=int, default=10)
    p = sub.add_parser("predict")
    p.add_argument("images", nargs="+")
    args = parser.parse_args()
    return {"selftest": selftest, "bench": bench, "predict": predict}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
