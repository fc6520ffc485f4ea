"""Face alignment for datasets: the eyes turned level with BlazeFace's keypoints, as the kiosk's ``--align`` does.

A dataset image is already a face crop, so the "box" is the whole image: it is turned about its centre by the
angle of the eye line, the same rotation ``kiosk.blazeface.aligned_crop`` applies to a box cut from a frame, and
keeps its size. An image where no face is found passes unchanged and is counted. Training, eval and calibration
that use it see faces the way the kiosk with ``--align`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgeemo.errors import EdgeemoError

CANVAS = 2.0  # the crop is placed on a canvas twice its side: BlazeFace "back" is made for faces smaller than the frame


@dataclass
class AlignStats:
    aligned: int = 0
    no_face: int = 0
    mean_abs_angle: float = 0.0

    def to_dict(self) -> dict:
        return {"detector": "blazeface", "aligned": self.aligned, "no_face": self.no_face,
                "mean_abs_angle_deg": round(self.mean_abs_angle, 2)}


class FaceAligner:
    """``aligner(image) -> image``: gray or BGR face crop in, the same size out, eyes level where a face is found."""

    def __init__(self, threads: int | None = 1, device: str = "CPU") -> None:
        from edgeemo.kiosk.blazeface import BlazeFaceDetector, find_model, runtime_opener
        from edgeemo.live import BLAZEFACE_MISSING
        from edgeemo.runtime import load

        path = find_model()
        if path is None:
            raise EdgeemoError(f"--align: {BLAZEFACE_MISSING}")
        self.detector = BlazeFaceDetector(opener=runtime_opener(load, path, "openvino", device, threads), width=256)
        self.stats = AlignStats()
        self._angles: dict[int, float | None] = {}

    def angle(self, image: np.ndarray) -> float | None:
        """The eye line's angle in degrees (0: level), or None when no face is found."""
        h, w = image.shape[:2]
        side = int(max(h, w) * CANVAS)
        top, left = (side - h) // 2, (side - w) // 2
        canvas = cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=0)
        faces = self.detector.detect(canvas)
        if not len(faces):
            return None
        best = int(np.argmax(faces.boxes[:, 2] * faces.boxes[:, 3]))
        (ax, ay), (bx, by) = sorted(tuple(p) for p in faces.keypoints[best][:2])
        return float(np.degrees(np.arctan2(by - ay, bx - ax)))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        key = hash(image.tobytes())
        if key not in self._angles:
            angle = self._angles[key] = self.angle(image)
            if angle is None:
                self.stats.no_face += 1
            else:
                n = self.stats.aligned
                self.stats.mean_abs_angle = (self.stats.mean_abs_angle * n + abs(angle)) / (n + 1)
                self.stats.aligned += 1
        angle = self._angles[key]
        if angle is None:
            return image
        h, w = image.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
