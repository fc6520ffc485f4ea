"""Time `edgeemo convert emonet-resnet10` to all three formats (the goal: under a minute on 2 cores).

Run: .venv/bin/python benchmarks/convert_time.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="emonet-resnet10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls, inner = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "edgeemo", "convert", args.model, "--out", out, "--json"],
                                  capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - t0)
            inner.append(json.loads(proc.stdout)["seconds"])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.model} -> onnx,openvino,tflite (verified): "
          f"command wall {min(walls):.1f}s best / {sum(walls) / len(walls):.1f}s mean; "
          f"conversion itself {min(inner):.1f}s best (n={args.repeat})")


if __name__ == "__main__":
    main()
