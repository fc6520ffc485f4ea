"""One frame at a time: detect -> crop with margin -> classify all faces in one batch -> track/smooth,
timed per stage; and the loop over a video file, camera index or stream URL that emits aggregates."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from .aggregate import IntervalAggregator
from .blazeface import aligned_crop
from .detect import crop_with_margin
from .track import UNCERTAIN, IoUTracker, Track

STAGES = ("decode", "detect", "classify", "track")

# One set of defaults for `edgeemo run` and the bundle's `runner.py run`. The detector settings and the margin
# (fraction of the box added per side before classifying; negative shrinks) were chosen by detection recall,
# speed and label accuracy on a generated clip: benchmarks/kiosk_detectors.py.
DEFAULTS = {"interval": "10s", "detector": "auto", "detect_width": None, "min_face": None, "margin": None,
            "threshold": 0.5, "smooth_s": 0.3, "align": False}  # None: the detector's own (detect.py, blazeface.py)


class SourceError(RuntimeError):
    pass


def parse_interval(text: str | float) -> float:
    """'10s', '2m', '1h', '500ms' or plain seconds -> seconds."""
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", str(text))
        if not m:
            raise ValueError(f"interval {text!r}: use a number with s, m, h or ms (e.g. 10s)")
        seconds = float(m.group(1)) * {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"interval {text!r} must be positive")
    return seconds


def is_live(source: str) -> bool:
    """A camera index ('0') or a stream URL, as opposed to a video file."""
    return source.isdigit() or "://" in source


def video_capture(source: str) -> cv2.VideoCapture:
    """cv2.VideoCapture for a camera index or a file/URL, with FFmpeg's own log lines off (callers report errors)."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    level = logging.getLogLevel() if logging else None
    if logging:
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)  # no WARN lines while opening: callers report failures in one line
    try:
        return cv2.VideoCapture(int(source)) if source.isdigit() else cv2.VideoCapture(source)
    finally:
        if logging:
            logging.setLogLevel(level)


def open_source(source: str) -> tuple[cv2.VideoCapture, bool]:
    """A camera index ('0'), a video file or a stream URL -> (capture, is_live)."""
    live = is_live(source)
    cap = video_capture(source)
    if not cap.isOpened():
        what = "camera" if source.isdigit() else "stream" if "://" in source else "video"
        raise SourceError(f"{source}: cannot open this {what} (OpenCV {cv2.__version__})")
    return cap, live


@dataclass
class StageTimes:
    """Milliseconds per frame of each stage (classify counts the whole batch of the frame's faces)."""

    decode: list[float] = field(default_factory=list)
    detect: list[float] = field(default_factory=list)
    classify: list[float] = field(default_factory=list)
    track: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for stage in STAGES:
            v = np.asarray(getattr(self, stage) or [0.0])
            out[stage] = {"mean_ms": float(v.mean()), "median_ms": float(np.median(v)), "p90_ms": float(np.percentile(v, 90))}
        return out


@dataclass
class FrameResult:
    """What one frame gave: boxes and labels of the confirmed faces (kept in memory only)."""

    t: float
    boxes: np.ndarray
    labels: list[str]
    confidences: list[float]
    track_ids: list[int]


@dataclass
class RunSummary:
    frames: int
    seconds: float  # wall time of the loop
    fps: float
    faces_classified: int
    stages: dict
    records: int
    detector: str
    source_fps: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class KioskPipeline:
    """detector(frame) -> boxes (or detector.detect(frame) -> Faces with keypoints); classify(list of crops) ->
    (N, classes) probabilities. ``align``: turn each face eyes-level before classifying (detectors with keypoints)."""

    def __init__(self, detector: Callable[[np.ndarray], np.ndarray], classify: Callable[[list[np.ndarray]], np.ndarray],
                 labels: tuple[str, ...] | list[str], margin: float = DEFAULTS["margin"], tracker: IoUTracker | None = None,
                 align: bool = DEFAULTS["align"]) -> None:
        self.detector = detector
        self.align = align
        margin = getattr(detector, "crop_margin", -0.05) if margin is None else margin
        self.classify = classify
        self.labels = tuple(labels)
        self.margin = margin
        self.tracker = tracker or IoUTracker(self.labels)
        self.times = StageTimes()
        self.faces_classified = 0

    def step(self, frame: np.ndarray, t: float) -> tuple[FrameResult, list[Track]]:
        t0 = time.perf_counter()
        detect = getattr(self.detector, "detect", None)
        faces = detect(frame) if detect is not None else None
        boxes = faces.boxes if faces is not None else self.detector(frame)
        points = faces.keypoints if faces is not None and self.align else None
        t1 = time.perf_counter()
        if len(boxes):
            crops = ([aligned_crop(frame, b, p, self.margin) for b, p in zip(boxes, points)] if points is not None
                     else [crop_with_margin(frame, b, self.margin) for b in boxes])
            probs = np.asarray(self.classify(crops), np.float64)
            self.faces_classified += len(boxes)
        else:
            probs = np.zeros((0, len(self.labels)))
        t2 = time.perf_counter()
        seen = self.tracker.update(boxes, probs, t)
        self.tracker.pop_finished()  # faces gone longer than max_age_s are forgotten
        t3 = time.perf_counter()
        self.times.detect.append((t1 - t0) * 1e3)
        self.times.classify.append((t2 - t1) * 1e3)
        self.times.track.append((t3 - t2) * 1e3)
        result = FrameResult(t, np.array([tr.box for tr in seen]).reshape(-1, 4), [tr.label for tr in seen],
                             [tr.confidence for tr in seen], [tr.id for tr in seen])
        return result, seen


def draw(frame: np.ndarray, result: FrameResult) -> np.ndarray:
    """The frame with boxes and labels (for --preview only)."""
    out = frame.copy()
    for (x, y, w, h), label, conf in zip(result.boxes, result.labels, result.confidences):
        color = (128, 128, 128) if label == UNCERTAIN else (0, 200, 0)
        cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), color, 2)
        org = (int(x), max(12, int(y) - 6))
        cv2.putText(out, f"{label} {conf:.2f}", org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3)  # outline
        cv2.putText(out, f"{label} {conf:.2f}", org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1)
    return out


def run_stream(source: str, pipeline: KioskPipeline, interval_s: float, on_record: Callable[[dict], None],
               on_frame: Callable[[np.ndarray, FrameResult], None] | None = None,
               max_frames: int | None = None, max_seconds: float | None = None) -> RunSummary:
    """Read frames until the source ends (or a limit), emitting one aggregate record per interval.
    A file's time is its frame index / fps; a camera's or stream's is the wall clock since the start."""
    cap, live = open_source(source)
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    step_s = 1.0 / fps if fps > 0 and not live else None
    agg = IntervalAggregator(pipeline.labels, interval_s)
    records = frames = 0
    start = time.perf_counter()
    t = 0.0
    try:
        for frame in _frames(cap, pipeline.times):
            t = frames * step_s if step_s else time.perf_counter() - start
            if agg.due(t):
                on_record(agg.flush(t))
                records += 1
            result, seen = pipeline.step(frame, t)
            agg.observe(t, seen)
            if on_frame is not None:
                on_frame(frame, result)
            frames += 1
            if (max_frames and frames >= max_frames) or (max_seconds and time.perf_counter() - start >= max_seconds):
                break
    finally:
        cap.release()
    wall = time.perf_counter() - start
    if frames == 0:
        raise SourceError(f"{source}: no frame could be read")
    if agg.frames:
        on_record(agg.flush(t + (step_s or 0.0)))
        records += 1
    return RunSummary(frames, wall, frames / wall if wall > 0 else 0.0, pipeline.faces_classified,
                      pipeline.times.summary(), records, getattr(pipeline.detector, "name", "detector"),
                      fps if fps > 0 else None)


def _frames(cap: cv2.VideoCapture, times: StageTimes) -> Iterator[np.ndarray]:
    while True:
        t0 = time.perf_counter()
        ok, frame = cap.read()
        if not ok:
            return
        times.decode.append((time.perf_counter() - t0) * 1e3)
        yield frame
