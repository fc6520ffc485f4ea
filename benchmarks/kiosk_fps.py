"""Kiosk pipeline FPS (goal: >= 60 FPS on 640x480 video with one or two faces, 1 thread, INT8 zoo model).

Makes a 640x480 test clip from held-out faces, quantizes the zoo models to INT8 OpenVINO IR (NNCF, real
calibration data), and runs `edgeemo run --threads 1` over the clip for each model, side by side in one run:
pipeline FPS, per-stage latency (decode, detect, classify, track) and the clip scores.

    .venv/bin/python benchmarks/kiosk_fps.py --data ../shared/data/facial_expressions

Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def edgeemo(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "edgeemo", *args, "--json"], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1]) if args[0] == "run" else json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--models", default="emolite,emonet-resnet10")
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        info = edgeemo("testclip", "--data", args.data, "--out", str(clip), "--seconds", str(args.seconds), "--seed", "2")
        print(f"clip: {info['frames']} frames 640x480, {info['visitors']} faces, one or two in view")
        rows = []
        for name in args.models.split(","):
            q = Path(tmp) / name
            edgeemo("quantize", name, "--data", args.data, "--to", "openvino", "--out", str(q))
            fp32 = next(p for p in q.rglob("*.xml") if "int8" not in str(p))
            int8 = next(p for p in q.rglob("*.xml") if "int8" in str(p))
            for label, model in ((f"{name} INT8 IR", int8), (f"{name} FP32 IR", fp32)):
                s = edgeemo("run", "--model", str(model), "--source", str(clip), "--truth", str(clip) + ".truth.json",
                            "--threads", "1", "--out", str(Path(tmp) / "agg.jsonl"))["summary"]
                rows.append((label, s))
    print(f"\n{'model':28s} {'FPS':>6s} {'decode':>7s} {'detect':>7s} {'classify':>8s} {'track':>6s}  "
          f"{'recall':>6s} {'accuracy':>8s} {'stable':>6s}")
    for label, s in rows:
        st, sc = s["stages_ms"], s["score"]
        print(f"{label:28s} {s['fps']:6.1f} {st['decode']['mean_ms']:7.2f} {st['detect']['mean_ms']:7.2f} "
              f"{st['classify']['mean_ms']:8.2f} {st['track']['mean_ms']:6.2f}  {sc['detection_recall']:6.3f} "
              f"{sc['label_accuracy']:8.3f} {sc['stable_fraction']:6.3f}")
    print("\n(ms are means per frame; classify covers all faces of a frame in one batch; 1 thread)")


if __name__ == "__main__":
    main()
