"""edgeemo bench vs OpenVINO's benchmark_app on the same static IR, same settings, alternating, in one run: latency
mode (1 thread, 1 stream, sync) and throughput mode (the THROUGHPUT hint, every core, async requests); then PyTorch
eager vs ONNX Runtime vs OpenVINO FP32/INT8 vs LiteRT FP32/INT8 for one model, at 1 thread.

Run: .venv/bin/python benchmarks/vs_benchmark_app.py [--model emonet-resnet10] [--rounds 5] [--data ../shared/data/facial_expressions]
Goal: the ratio of medians (edgeemo / benchmark_app) within 1 +- 0.05, in each mode (throughput: FPS).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def benchmark_app_median(xml: Path, iterations: int) -> float:
    tool = Path(sys.executable).with_name("benchmark_app")
    out = subprocess.run([str(tool), "-m", str(xml), "-d", "CPU", "-hint", "none", "-nstreams", "1", "-nthreads", "1",
                          "-api", "sync", "-ip", "f32", "-niter", str(iterations)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Median:\s+([\d.]+)\s+(us|ms|s)", out)
    return float(match.group(1)) * UNIT[match.group(2)]


def benchmark_app_fps(xml: Path, seconds: int) -> float:
    tool = Path(sys.executable).with_name("benchmark_app")
    out = subprocess.run([str(tool), "-m", str(xml), "-d", "CPU", "-hint", "throughput", "-api", "async", "-ip", "f32",
                          "-t", str(seconds)], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Throughput:\s+([\d.]+)\s+FPS", out).group(1))


def edgeemo_fps(xml: Path, seconds: int) -> float:
    cmd = [sys.executable, "-m", "edgeemo", "bench", str(xml), "--mode", "throughput", "--time", str(seconds), "--json"]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)["throughput_fps"]


def edgeemo_median(path: Path, iterations: int, runtime: str | None = None) -> dict:
    cmd = [sys.executable, "-m", "edgeemo", "bench", str(path), "--threads", "1", "--mode", "latency",
           "--iterations", str(iterations), "--json"]
    if runtime:
        cmd += ["--runtime", runtime]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="emonet-resnet10")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5, help="duration of each throughput-mode run")
    parser.add_argument("--data", default=None, help="calibrate INT8 on real faces (else data-free)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run([sys.executable, "-m", "edgeemo", "convert", args.model, "--out", str(out)], check=True, capture_output=True)
        calib = ["--data", args.data] if args.data else ["--calib", "synthetic"]
        subprocess.run([sys.executable, "-m", "edgeemo", "quantize", str(out / "openvino" / "model.xml"), "--out", str(out), *calib],
                       check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "edgeemo", "quantize", str(out / "model.tflite"), "--out", str(out), *calib],
                       check=True, capture_output=True)
        xml = out / "openvino" / "model.xml"
        ours, theirs = [], []
        for _ in range(args.rounds):  # alternate so drift and noise hit both alike
            theirs.append(benchmark_app_median(xml, args.iterations))
            ours.append(edgeemo_median(xml, args.iterations)["latency_ms"]["median"])
        env = edgeemo_median(xml, 10)["environment"]
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"machine: {env['cpu']}, {env['cores']} cores, OpenVINO {env['versions'].get('openvino')}")
        print(f"{args.model} FP32 IR, CPU, 1 thread, 1 stream, sync, {args.iterations} iterations x {args.rounds} rounds (alternating)")
        print(f"  benchmark_app median of medians: {statistics.median(theirs):.4f} ms  ({', '.join(f'{v:.4f}' for v in theirs)})")
        print(f"  edgeemo bench median of medians: {statistics.median(ours):.4f} ms  ({', '.join(f'{v:.4f}' for v in ours)})")
        print(f"  ratio edgeemo / benchmark_app: {ratio:.3f}  ({'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} +-5%)")

        fps_ours, fps_theirs = [], []
        for _ in range(args.rounds):
            fps_theirs.append(benchmark_app_fps(xml, args.seconds))
            fps_ours.append(edgeemo_fps(xml, args.seconds))
        ratio = statistics.median(fps_ours) / statistics.median(fps_theirs)
        print(f"{args.model} FP32 IR, CPU, THROUGHPUT hint (streams and threads the plugin's choice), async, {args.seconds:g} s x "
              f"{args.rounds} rounds (alternating)")
        print(f"  benchmark_app median FPS: {statistics.median(fps_theirs):.1f}  ({', '.join(f'{v:.1f}' for v in fps_theirs)})")
        print(f"  edgeemo bench median FPS: {statistics.median(fps_ours):.1f}  ({', '.join(f'{v:.1f}' for v in fps_ours)})")
        print(f"  ratio edgeemo / benchmark_app: {ratio:.3f}  ({'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} +-5%)")

        rows = [("PyTorch eager", args.model, "torch"), ("ONNX Runtime FP32", out / "model.onnx", None),
                ("OpenVINO FP32", xml, None), ("OpenVINO INT8", out / "openvino-int8" / "model.xml", None),
                ("LiteRT FP32", out / "model.tflite", None), ("LiteRT INT8", out / "model_int8.tflite", None)]
        results = [(label, edgeemo_median(path, args.iterations, runtime)) for label, path, runtime in rows]
        base = results[0][1]["latency_ms"]["median"]
        print(f"\n{args.model} at 1 thread, latency mode (median ms; speed-up vs PyTorch eager):")
        for label, r in results:
            m = r["latency_ms"]["median"]
            print(f"  {label:18s} {m:8.3f} ms  x{base / m:5.2f}   computes {r['precision']}")


if __name__ == "__main__":
    main()
