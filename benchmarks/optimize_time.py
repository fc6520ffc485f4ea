"""Wall time of `edgeemo optimize emonet-resnet10 --target cpu-x86 --data DIR` from nothing, then again in the same
folder (everything from its cache). Goals (issue #16): <= 3 minutes on 2 cores; the second run <= 10 s.

    .venv/bin/python benchmarks/optimize_time.py --data ../shared/data/facial_expressions
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="emonet-resnet10")
    ap.add_argument("--target", default="cpu-x86")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "edgeemo", "optimize", args.model, "--target", args.target, "--data", args.data,
               "--out", str(Path(tmp) / "opt"), "--json"]
        for run in ("first run", "second run (cache)"):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode:
                sys.exit(proc.stderr)
            r = json.loads(proc.stdout)
            picks = ", ".join(f"{c['name']} {c['median_ms']:.3f} ms, macro recall {c['macro_recall']:.3f}"
                              + (" (cached)" if c["cached"] else "") for c in r["candidates"])
            print(f"{run}: {wall:.1f} s wall; chosen {r['chosen']}; {picks}", flush=True)
    env = r["environment"]
    print(f"machine: {env['cpu']} ({env.get('isa')}), {env['cores']} cores; "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))


if __name__ == "__main__":
    main()
