"""Face augmentation on uint8 HxWxC pixels: flip, small affine, brightness/contrast, gray/colour mixing."""

from __future__ import annotations

import cv2
import numpy as np


def augment(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w, c = pixels.shape
    out = pixels
    if rng.random() < 0.5:
        out = out[:, ::-1]
    angle = rng.uniform(-12, 12)
    scale = rng.uniform(0.9, 1.1)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-0.06, 0.06, size=2) * (w, h)
    out = cv2.warpAffine(np.ascontiguousarray(out), matrix, (w, h), borderMode=cv2.BORDER_REFLECT_101)
    out = out.reshape(h, w, c).astype(np.float32)
    contrast = rng.uniform(0.7, 1.3)
    brightness = rng.uniform(-25, 25)
    out = (out - out.mean()) * contrast + out.mean() + brightness
    if c == 3 and rng.random() < 0.3:  # colour kiosk frames vs mostly-gray training faces
        out = np.repeat(out.mean(axis=2, keepdims=True), 3, axis=2)
    return np.clip(out, 0, 255).astype(np.uint8)
