"""Which face detector and crop margin for `edgeemo run`: detection recall/precision and speed of the
OpenCV Haar cascades at several settings, and the classifier's label accuracy per crop margin, on a
generated clip (held-out faces, known boxes; a different seed from the tests').

    .venv/bin/python benchmarks/kiosk_detectors.py --data ../shared/data/facial_expressions [--model emolite]

1 thread, 640x480 frames, every 3rd frame of a 60 s clip. Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from edgeemo.evaluate.video import make_clip
from edgeemo.kiosk.detect import HaarFaceDetector, crop_with_margin
from edgeemo.kiosk.track import greedy_match, iou_matrix
from edgeemo.live import classifier, open_model

SETTINGS = [(name, width, sf, mf, mn) for name in ("haar-default", "haar-alt", "haar-alt2")
            for width in (320, 240) for sf in (1.1, 1.2) for mf in (80,) for mn in (3, 4)]
MARGINS = (-0.15, -0.1, -0.05, 0.0, 0.05, 0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="emolite")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        info = make_clip(args.data, Path(tmp) / "clip.mp4", args.seconds, seed=args.seed)
        truth = json.loads(Path(info.truth).read_text())["frames"]
        cap = cv2.VideoCapture(info.video)
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    frames, truth = frames[::3], truth[::3]
    print(f"{len(frames)} frames, {sum(map(len, truth))} faces, {info.visitors} visitors")
    print(f"{'detector':13s} {'width':>5s} {'step':>4s} {'min':>4s} {'nbrs':>4s} {'recall':>7s} {'precision':>9s} {'median ms':>9s}")
    for name, width, sf, mf, mn in SETTINGS:
        det = HaarFaceDetector(name, detect_width=width, min_face=mf, scale_factor=sf, min_neighbors=mn)
        total = matched = found = 0
        times = []
        for frame, gt in zip(frames, truth):
            t0 = time.perf_counter()
            boxes = det(frame)
            times.append((time.perf_counter() - t0) * 1e3)
            total += len(gt)
            found += len(boxes)
            if gt and len(boxes):
                matched += len(greedy_match(iou_matrix(np.array([g["box"] for g in gt]), boxes), 0.4))
        print(f"{name:13s} {width:5d} {sf:4.1f} {mf:4d} {mn:4d} {matched / total:7.3f} {matched / max(found, 1):9.3f} "
              f"{np.median(times):9.2f}")

    predictor = open_model(args.model, 1, "CPU")
    classify, labels = classifier(predictor), predictor.spec.labels
    det = HaarFaceDetector()
    hits: dict[str, list[bool]] = {}
    for frame, gt in zip(frames, truth):
        boxes = det(frame)
        if not gt or not len(boxes):
            continue
        for g, r in greedy_match(iou_matrix(np.array([g["box"] for g in gt]), boxes), 0.4):
            x, y, w, h = gt[g]["box"]
            crops = {"truth box": frame[y:y + h, x:x + w]}
            crops.update({f"margin {m:+.2f}": crop_with_margin(frame, boxes[r], m) for m in MARGINS})
            for key, crop in crops.items():
                hits.setdefault(key, []).append(labels[int(classify([crop])[0].argmax())] == gt[g]["label"])
    print(f"\nlabel accuracy of {args.model} per crop (unsmoothed, {len(hits['truth box'])} matched faces):")
    for key, v in hits.items():
        print(f"  {key:14s} {np.mean(v):.3f}")


if __name__ == "__main__":
    main()
