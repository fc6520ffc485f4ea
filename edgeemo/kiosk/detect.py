"""Face detectors whose weights ship inside an installed package (nothing is downloaded).

``blazeface`` (blazeface.py: MediaPipe's BlazeFace run through edgeemo's runtime layer, with six keypoints per
face for alignment) is the default where its model file is present; ``haar-*`` are the fallback. OpenCV 4.x wheels carry the Haar cascades in ``cv2.data``; OpenCV 5.x wheels do not (the project pins
``opencv-python-headless<5``). Detection runs on a copy of the frame scaled to ``detect_width`` pixels:
kiosk faces are large, and a 320-pixel-wide frame is 4x less work than 640x480. The defaults (alt2,
320 px, scale step 1.2, faces from 80 px) were chosen by recall and speed on a generated test clip:
benchmarks/kiosk_detectors.py.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# name -> cascade file in cv2.data.haarcascades
CASCADES = {
    "haar-default": "haarcascade_frontalface_default.xml",
    "haar-alt": "haarcascade_frontalface_alt.xml",
    "haar-alt2": "haarcascade_frontalface_alt2.xml",
}
DETECTORS = ("auto", "blazeface", *CASCADES)  # auto: blazeface where its model is found, else haar-alt2
HAAR_MIN_FACE = 80  # the cascade's cost grows fast with smaller faces; BlazeFace finds faces down to ~20 px


class DetectorError(RuntimeError):
    pass


class HaarFaceDetector:
    """OpenCV Viola-Jones cascade; returns boxes as an (N, 4) int array of x, y, w, h in frame pixels."""

    crop_margin = -0.05  # its boxes include forehead and chin: benchmarks/kiosk_detectors.py

    def __init__(self, name: str = "haar-alt2", detect_width: int = 320, min_face: int = HAAR_MIN_FACE,
                 scale_factor: float = 1.2, min_neighbors: int = 3) -> None:
        if name not in CASCADES:
            raise DetectorError(f"unknown face detector {name!r} (known: {', '.join(DETECTORS)})")
        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        path = Path(folder or "") / CASCADES[name]
        if not folder or not path.is_file():
            raise DetectorError(f"OpenCV {cv2.__version__} ships no Haar cascades (cv2.data); "
                                "install opencv-python-headless<5")
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise DetectorError(f"{path}: OpenCV could not read this cascade")
        self.name = name
        self.detect_width = detect_width
        self.min_face = min_face
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        ratio = min(1.0, self.detect_width / gray.shape[1]) if self.detect_width else 1.0
        small = cv2.resize(gray, None, fx=ratio, fy=ratio, interpolation=cv2.INTER_AREA) if ratio < 1 else gray
        small = cv2.equalizeHist(small)
        side = max(24, round(self.min_face * ratio))
        found = self.cascade.detectMultiScale(small, self.scale_factor, self.min_neighbors, minSize=(side, side))
        if len(found) == 0:
            return np.zeros((0, 4), np.int32)
        return np.round(np.asarray(found, np.float32) / ratio).astype(np.int32)


HAAR_WIDTH, BLAZEFACE_WIDTH = 320, 384  # detection widths chosen on generated clips (benchmarks/kiosk_detectors.py)


def make_detector(name: str = "haar-alt2", opener=None, detect_width: int | None = None, min_face: int | None = None,
                  **options):
    """A detector by name; None for a setting: that detector's own default. ``blazeface`` needs ``opener``: given an
    input (height, width), it opens the BlazeFace model in a runtime and returns (infer, the input it takes)."""
    if name == "blazeface":
        if opener is None:
            raise DetectorError("blazeface: no model opened (its face_detection_back.tflite was not found)")
        from .blazeface import BlazeFaceDetector

        return BlazeFaceDetector(opener=opener, width=detect_width or BLAZEFACE_WIDTH, min_face=min_face or 0)
    return HaarFaceDetector(name, detect_width=detect_width or HAAR_WIDTH,
                            min_face=HAAR_MIN_FACE if min_face is None else min_face, **options)


def crop_with_margin(frame: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The box grown by ``margin`` of its size on each side, clipped to the frame (a view, never copied out)."""
    x, y, w, h = (int(v) for v in box)
    dx, dy = round(w * margin), round(h * margin)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(frame.shape[1], x + w + dx), min(frame.shape[0], y + h + dy)
    return frame[y0:y1, x0:x1]
