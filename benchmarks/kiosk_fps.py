"""The whole kiosk loop (decode, detect, classify all faces in one batch, track), 1 thread, side by side in one run.

1. `edgeemo run --model MODEL --threads 1` over a generated easy and hard clip (640x480) with BlazeFace (the default)
   and Haar: FPS, per-stage ms, detection recall, label accuracy. Goal (issue #15): >= 60 FPS at 640x480 with
   BlazeFace on 1 thread of an AVX2 CPU without VNNI.
2. Cost as the work grows: frame time vs number of faces (1, 2, 4, 8) at 640x480 and 1280x720 (real faces pasted
   on a frame; classifier batched), plotted to kiosk_fps.png when matplotlib is there.

    .venv/bin/python benchmarks/kiosk_fps.py --data ../shared/data/facial_expressions [--model mini-xception]

Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def edgeemo(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "edgeemo", *args, "--json"], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1]) if args[0] == "run" else json.loads(proc.stdout)


def loop_on_clips(args, tmp: Path) -> None:
    print("| clip | detector | FPS | decode | detect | classify | track | recall | label acc. |\n|---|---|---|---|---|---|---|---|---|")
    for kind in ("easy", "hard"):
        clip = tmp / f"{kind}.mp4"
        edgeemo("testclip", "--data", args.data, "--out", str(clip), "--seconds", str(args.seconds), "--seed", "2",
                *(["--hard"] if kind == "hard" else []))
        for det in ("blazeface", "blazeface --align", "haar-alt2"):
            s = edgeemo("run", "--model", args.model, "--source", str(clip), "--truth", f"{clip}.truth.json", "--threads", "1",
                        "--detector", *det.split(), "--out", str(tmp / "agg.jsonl"))["summary"]
            st, sc = s["stages_ms"], s["score"]
            print(f"| {kind} | {det} | {s['fps']:.1f} | " + " | ".join(f"{st[k]['mean_ms']:.2f}" for k in ("decode", "detect", "classify", "track"))
                  + f" | {sc['detection_recall']:.3f} | {sc['label_accuracy']:.3f} |", flush=True)
    print("(ms are means per frame; classify covers all faces of a frame in one batch)")


def per_faces_curve(args) -> dict:
    from edgeemo.kiosk import IoUTracker, KioskPipeline
    from edgeemo.live import classifier, detector, open_model

    cv2.setNumThreads(1)
    predictor = open_model(args.model, 1, "CPU")
    classify = classifier(predictor)
    faces = [cv2.imread(f) for f in sorted(glob.glob(str(Path(args.data) / "images" / "*.jpg")))[:80:10]]
    curve: dict = {}
    print("\n| frame | faces | frame ms (detect + classify + track, median) | detect | classify | FPS |\n|---|---|---|---|---|---|")
    for w, h in ((640, 480), (1280, 720)):
        pipeline = KioskPipeline(detector("blazeface", None, None, "CPU", 1), classify, predictor.spec.labels,
                                 tracker=IoUTracker(predictor.spec.labels))
        for n in (1, 2, 4, 8):
            frame = np.full((h, w, 3), 100, np.uint8)
            side = min(h // 3, w // 5) - 8
            for i in range(n):  # a 4 x 2 grid of faces
                x, y = 8 + (i % 4) * (w // 4), 8 + (i // 4) * (h // 2)
                frame[y:y + side, x:x + side] = cv2.resize(faces[i], (side, side))
            for i in range(5):
                pipeline.step(frame, i / 15)
            t0 = len(pipeline.times.detect)
            total = []
            for i in range(60):
                start = time.perf_counter()
                pipeline.step(frame, (i + 5) / 15)
                total.append((time.perf_counter() - start) * 1e3)
            det, cls = np.median(pipeline.times.detect[t0:]), np.median(pipeline.times.classify[t0:])
            curve.setdefault(f"{w}x{h}", []).append((n, float(np.median(total))))
            print(f"| {w}x{h} | {n} | {np.median(total):.2f} | {det:.2f} | {cls:.2f} | {1000 / np.median(total):.0f} |", flush=True)
    return curve


def plot(curve: dict, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for size, points in curve.items():
        ax.plot([n for n, _ in points], [ms for _, ms in points], marker="o", label=size)
    ax.axhline(1000 / 60, color="grey", lw=0.8, ls="--", label="60 FPS")
    ax.set_xlabel("faces in the frame")
    ax.set_ylabel("ms per frame (no decode)")
    ax.set_xticks([1, 2, 4, 8])
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"plot: {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="mini-xception")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--plot", default=None, help="where to write the per-faces plot (default: none)")
    args = ap.parse_args()
    from edgeemo.bench import environment

    env = environment()
    print(f"CPU: {env['cpu']} ({env['isa']}), {env['cores']} cores; 1 thread; model {args.model}; "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    with tempfile.TemporaryDirectory() as tmp:
        loop_on_clips(args, Path(tmp))
    curve = per_faces_curve(args)
    if args.plot:
        plot(curve, Path(args.plot))


if __name__ == "__main__":
    main()
