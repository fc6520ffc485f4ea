"""The kiosk bundle's `runner.py bench` vs `edgeemo bench` on the same artifact, alternating, in one run.

Both run edgeemo's runtime layer (`edgeemo/runtime/`, copied into bundles as `edgeemo_runtime/`) and its measuring
loop; the medians should agree within noise. One bundle per runtime: cpu-x86 (OpenVINO FP32 IR) and rpi5 (LiteRT
INT8 TFLite; on x86 this times the x86 build of LiteRT, not a Pi).

Run: .venv/bin/python benchmarks/runner_vs_bench.py [--model emolite] [--rounds 5] [--iterations 500]
Goal: ratio of medians (runner / edgeemo bench) within 1 +- 0.05.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def edgeemo(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "edgeemo", *args], capture_output=True, text=True, check=True).stdout


def runner_bench(folder: Path, iterations: int) -> dict:
    out = subprocess.run([sys.executable, str(folder / "runner.py"), "--threads", "1", "bench", "--iterations", str(iterations)],
                         capture_output=True, text=True, check=True, env=dict(os.environ, EDGEEMO_DEVICE="CPU")).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="emolite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    env = None
    with tempfile.TemporaryDirectory() as tmp:
        for target in ("cpu-x86", "rpi5"):
            bundle, dest = Path(tmp) / f"{target}.tar.gz", Path(tmp) / target
            edgeemo("deploy", args.model, "--target", target, "--out", str(bundle))
            edgeemo("unpack", str(bundle), "--to", str(dest), "--allow-unsigned")
            artifact = dest / json.loads((dest / "model.json").read_text())["artifact"]
            kiosk, ours = [], []
            for _ in range(args.rounds):  # alternate so drift and noise hit both alike
                k = runner_bench(dest, args.iterations)
                e = json.loads(edgeemo("bench", str(artifact), "--threads", "1", "--iterations", str(args.iterations), "--json"))
                kiosk.append(k["latency_ms"]["median"])
                ours.append(e["latency_ms"]["median"])
            env = e["environment"]
            ratio = statistics.median(kiosk) / statistics.median(ours)
            print(f"{target}: {k['runtime']} {k['precision']}, 1 thread, {args.rounds} rounds x {args.iterations} iterations: "
                  f"runner.py bench {statistics.median(kiosk):.4f} ms, edgeemo bench {statistics.median(ours):.4f} ms, "
                  f"ratio {ratio:.3f} ({'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} 1 +- 0.05); "
                  f"per round runner {[round(v, 4) for v in kiosk]}, bench {[round(v, 4) for v in ours]}")
    print(f"machine: {env['cpu']} ({env.get('isa')}), {env['cores']} cores; "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))


if __name__ == "__main__":
    main()
