"""A test video with known faces, and how well a kiosk run did on it.

The clip is composed from held-out (validation split) faces of a labeled dataset moving over a
textured background, so detection recall, label accuracy and label stability can be measured against
exact boxes and labels. The easy clip shows one or two faces of 110-170 px at a time; the hard one
(``hard=True``) shows 1-6 faces of 40-200 px, turned up to 15 degrees in the image plane, slightly blurred,
under a lighting ramp over a busier background. The clip and its truth file are written where the user
asks (never into the repository).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edgeemo.data.datasets import DatasetError, load_dataset
from edgeemo.errors import EdgeemoError
from edgeemo.fsutil import atomic_path, atomic_suffixed_path
from edgeemo.kiosk.pipeline import FrameResult
from edgeemo.kiosk.track import UNCERTAIN, greedy_match, iou_matrix
from edgeemo.models.spec import RETAIL_LABELS


@dataclass
class ClipInfo:
    video: str
    truth: str
    frames: int
    fps: float
    size: tuple[int, int]
    visitors: int
    labels: dict[str, int]  # visitors per label


VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "FFV1"}
"""Written video per file suffix. MPEG-4 Part 2 and Motion JPEG decode a few grey levels differently on aarch64 and
x86 builds of OpenCV's FFmpeg (their IDCTs are not bit-exact); FFV1 is lossless, so a .mkv clip decodes to the same
frames everywhere (comparing a kiosk loop across machines needs that)."""


def video_fourcc(path: str | Path) -> int:
    """OpenCV's fourcc for writing ``path`` (by suffix, ``VIDEO_CODECS``); mp4v for anything else."""
    return cv2.VideoWriter_fourcc(*VIDEO_CODECS.get(Path(path).suffix.lower(), "mp4v"))


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A store-like backdrop: smooth colour noise, a floor gradient and a few shelf-like boxes."""
    w, h = size
    low = rng.integers(40, 200, size=(6, 8, 3), dtype=np.uint8)
    bg = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    bg *= np.linspace(1.0, 0.6, h, dtype=np.float32)[:, None, None]
    for _ in range(6):
        x, y = int(rng.integers(0, w - 80)), int(rng.integers(0, h - 40))
        cv2.rectangle(bg, (x, y), (x + int(rng.integers(60, 200)), y + int(rng.integers(20, 60))),
                      [float(v) for v in rng.integers(30, 230, 3)], -1)
    return np.clip(bg, 0, 255).astype(np.uint8)


def _brightened(face: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(face.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _hard_face(image: np.ndarray, side: int, angle: float, sigma: float, gain: float) -> tuple[np.ndarray, np.ndarray]:
    """The face resized, blurred, lit and turned by ``angle`` degrees: (patch, mask) of one square side."""
    face = cv2.resize(image[:, :, :3], (side, side), interpolation=cv2.INTER_AREA)
    if sigma > 0.05:
        face = cv2.GaussianBlur(face, (0, 0), sigma)
    face = _brightened(face, gain)
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    patch = cv2.warpAffine(face, m, (side, side), borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpAffine(np.full((side, side), 255, np.uint8), m, (side, side), borderMode=cv2.BORDER_CONSTANT)
    return patch, mask > 127


def make_clip(data: str, out: str | Path, seconds: float = 20.0, fps: float = 15.0, size: tuple[int, int] = (640, 480),
              labels: tuple[str, ...] = RETAIL_LABELS, seed: int = 0, hard: bool = False) -> ClipInfo:
    """Write ``out`` (video) and ``out`` + '.truth.json' (boxes and labels per frame). ``hard``: 1-6 faces of
    40-200 px, in-plane rotation, blur, a lighting ramp and a busier background (the truth box is the face's
    square before rotation)."""
    out = Path(out)
    dataset = load_dataset(data).restrict(labels).split("val")  # faces no zoo model was trained on
    pool: dict[str, list] = {}
    for s in dataset.samples:
        pool.setdefault(s.label, []).append(s)
    if not pool:
        raise DatasetError(f"{data}: no faces with the labels {', '.join(labels)}")
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    w, h = size
    n_frames = int(round(seconds * fps))
    # Two lanes (left/right half); visitors follow each other with short gaps, lane 2 starts later,
    # so one or two faces are in view. Labels cycle so every class appears.
    order = []
    for _ in range(200):  # every class equally often: a shuffled round of the labels after another
        cycle = [label for label in labels if label in pool]
        pick.shuffle(cycle)
        order += cycle
    visitors = []
    label_iter = iter(order)
    # easy: two lanes (left/right half); hard: six cells (3 x 2), each with its own stream of visitors
    cells = [(lane * w // 2, 0, w // 2, h) for lane in (0, 1)] if not hard else \
        [(c * w // 3, r * h // 2, w // 3, h // 2) for r in (0, 1) for c in (0, 1, 2)]
    for k, (cx, cy, cw, ch) in enumerate(cells):
        t = (0.0 if k == 0 else 1.5) if not hard else pick.uniform(0.0, 2.0) * (k > 0)
        while t < seconds:
            dur = pick.uniform(1.5, 3.0)
            label = next(label_iter)
            sample = pick.choice(pool[label])
            image = sample.load()
            if image is None:
                continue
            if image.ndim == 2:
                image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            if hard:
                side = pick.randint(40, min(200, cw - 12, ch - 12))
                face, mask = _hard_face(image, side, pick.uniform(-15, 15), pick.uniform(0.0, 1.2), pick.uniform(0.7, 1.2))
                x0, y0 = cx + pick.randint(4, cw - side - 4), cy + pick.randint(4, ch - side - 4)
                dx, dy = pick.uniform(-0.15, 0.15) * (cw - side), pick.uniform(-0.15, 0.15) * (ch - side)
                bounds = (cx, cy, cx + cw - side, cy + ch - side)
            else:
                side = pick.randint(110, 170)
                face = _brightened(cv2.resize(image[:, :, :3], (side, side), interpolation=cv2.INTER_AREA), pick.uniform(0.85, 1.15))
                mask = None
                x0, y0 = cx + pick.randint(10, cw - side - 10), pick.randint(40, h - side - 40)
                dx, dy = pick.uniform(-40, 40), pick.uniform(-25, 25)
                bounds = (0, 0, w - side, h - side)
            visitors.append({"id": len(visitors), "label": label, "start": t, "end": min(seconds, t + dur), "face": face,
                             "mask": mask, "x0": x0, "y0": y0, "dx": dx, "dy": dy, "bounds": bounds})
            t += dur + pick.uniform(0.3, 1.2) * (1 if not hard else pick.uniform(0.5, 3.0))
    background = _background(size, rng)
    if hard:  # busier: more shelves, and fine texture
        background = np.clip(background.astype(np.float32) + rng.normal(0, 12, background.shape), 0, 255).astype(np.uint8)
        for _ in range(12):
            x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 20))
            cv2.rectangle(background, (x, y), (x + int(rng.integers(20, 120)), y + int(rng.integers(10, 50))),
                          [int(v) for v in rng.integers(20, 235, 3)], -1)
    ramp = np.linspace(0.75, 1.15, w, dtype=np.float32)[None, :, None]  # light from one side
    truth_frames: list[list[dict]] = []
    truth_path = out.with_name(out.name + ".truth.json")
    fourcc = video_fourcc(out)
    with atomic_suffixed_path(out) as tmp_video, atomic_path(truth_path) as tmp_truth:
        writer = cv2.VideoWriter(str(tmp_video), fourcc, fps, (w, h))
        if not writer.isOpened():
            raise EdgeemoError(f"{out}: OpenCV cannot write this video type (use {', '.join(VIDEO_CODECS)})")
        try:
            for i in range(n_frames):
                t = i / fps
                frame = background.copy()
                boxes = []
                for v in visitors:
                    if not v["start"] <= t < v["end"]:
                        continue
                    p = (t - v["start"]) / max(1e-6, v["end"] - v["start"])
                    side = v["face"].shape[0]
                    bx0, by0, bx1, by1 = v["bounds"]
                    x = int(np.clip(v["x0"] + v["dx"] * p, bx0, bx1))
                    y = int(np.clip(v["y0"] + v["dy"] * p, by0, by1))
                    if v["mask"] is None:
                        frame[y:y + side, x:x + side] = v["face"]
                    else:
                        frame[y:y + side, x:x + side][v["mask"]] = v["face"][v["mask"]]
                    boxes.append({"box": [x, y, side, side], "label": v["label"], "visitor": v["id"]})
                pixels = frame.astype(np.float32)
                if hard:  # a lighting ramp across the frame that drifts over time
                    pixels *= ramp[:, ::-1] if (t // 10) % 2 else ramp
                    pixels *= 0.85 + 0.2 * np.sin(2 * np.pi * t / 12.0)
                noise = rng.normal(0, 3, frame.shape).astype(np.float32)
                writer.write(np.clip(pixels + noise, 0, 255).astype(np.uint8))
                truth_frames.append(boxes)
        finally:
            writer.release()
        shown = sorted({b["visitor"] for f in truth_frames for b in f})
        per_label: dict[str, int] = {}
        for v in visitors:
            if v["id"] in shown:
                per_label[v["label"]] = per_label.get(v["label"], 0) + 1
        tmp_truth.write_text(json.dumps({"video": out.name, "fps": fps, "size": [w, h], "labels": list(labels),
                                         "source": {"data": str(data), "split": "val", "seed": seed, "hard": hard},
                                         "frames": truth_frames}) + "\n")
    return ClipInfo(str(out), str(truth_path), n_frames, fps, size, len(shown), per_label)


def load_truth(path: str | Path) -> dict:
    """The truth file of a clip `edgeemo testclip` wrote (VIDEO.truth.json)."""
    if not Path(path).is_file():
        raise EdgeemoError(f"--truth {path}: no such file (testclip writes it beside the video, as VIDEO.truth.json)")
    try:
        truth = json.loads(Path(path).read_text())
        truth["frames"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EdgeemoError(f"{path}: not a truth file written by `edgeemo testclip` ({type(exc).__name__})") from exc
    return truth


@dataclass
class ClipScore:
    """Detection recall/precision over truth boxes (IoU >= 0.4), label accuracy of matched faces
    (an "uncertain" label counts as wrong; ``decided_accuracy`` leaves those out), and stability."""

    frames: int
    truth_faces: int
    detection_recall: float
    detection_precision: float
    label_accuracy: float
    decided_accuracy: float
    uncertain_rate: float
    label_changes_per_visitor: float
    stable_fraction: float  # consecutive matched frames of one visitor that keep their label
    tracks_per_visitor: float  # 1.0 = every visitor followed by one track
    per_class: dict[str, dict] = field(default_factory=dict)  # truth label -> matched faces, recall, uncertain rate

    def to_dict(self) -> dict:
        return asdict(self)


def score_clip(results: list[FrameResult], truth: dict, iou_threshold: float = 0.4) -> ClipScore:
    frames = truth["frames"][: len(results)]
    total = predicted = 0
    per_class: dict[str, list[int]] = {}  # truth label -> [matched, correct, uncertain]
    by_visitor: dict[int, list[tuple[int, str]]] = {}
    for res, gt in zip(results, frames):
        predicted += len(res.boxes)
        total += len(gt)
        if not gt or not len(res.boxes):
            continue
        pairs = greedy_match(iou_matrix(np.array([g["box"] for g in gt], np.float32), res.boxes), iou_threshold)
        for g, r in pairs:
            label = res.labels[r]
            counts = per_class.setdefault(gt[g]["label"], [0, 0, 0])
            counts[0] += 1
            counts[1] += label == gt[g]["label"]
            counts[2] += label == UNCERTAIN
            by_visitor.setdefault(gt[g]["visitor"], []).append((res.track_ids[r], label))
    changes = same = pairs_n = 0
    tracks = []
    for seq in by_visitor.values():
        labels = [lab for _, lab in seq]
        changes += sum(a != b for a, b in itertools.pairwise(labels))
        same += sum(a == b for a, b in itertools.pairwise(labels))
        pairs_n += max(0, len(labels) - 1)
        tracks.append(len({tid for tid, _ in seq}))
    matched, correct, uncertain = (sum(column) for column in zip(*per_class.values())) if per_class else (0, 0, 0)
    decided = matched - uncertain
    return ClipScore(
        frames=len(frames), truth_faces=total,
        detection_recall=matched / total if total else 0.0,
        detection_precision=matched / predicted if predicted else 0.0,
        label_accuracy=correct / matched if matched else 0.0,
        decided_accuracy=correct / decided if decided else 0.0,
        uncertain_rate=uncertain / matched if matched else 0.0,
        label_changes_per_visitor=changes / len(by_visitor) if by_visitor else 0.0,
        stable_fraction=same / pairs_n if pairs_n else 1.0,
        tracks_per_visitor=float(np.mean(tracks)) if tracks else 0.0,
        per_class={label: {"matched": n, "recall": ok / n, "uncertain_rate": unsure / n}
                   for label, (n, ok, unsure) in sorted(per_class.items())},
    )
