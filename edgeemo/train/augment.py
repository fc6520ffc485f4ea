"""Face augmentation on uint8 HxWxC pixels: flip, small affine, brightness/contrast, gray/colour mixing."""

from __future__ import annotations

import cv2
import numpy as np


def augment(pixels: np.ndarray, rng: np.random.Generator, photometric: bool = False, erase: float = 0.0,
            low_res: float = 0.0) -> np.ndarray:
    """A random view of one face; ``photometric`` adds the camera and light changes of another domain; ``erase`` is
    the probability of hiding one random rectangle (occlusion by hands, glasses, masks); ``low_res`` the probability
    of a face captured small (far from the camera, a low-resolution dataset) and upscaled to the input size."""
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
    out = np.clip(out, 0, 255).astype(np.uint8)
    out = _photometric(out, rng) if photometric else out
    out = _low_resolution(out, rng) if low_res and rng.random() < low_res else out
    return _erased(out, rng) if erase and rng.random() < erase else out


def _low_resolution(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The face shrunk to 3/8-3/4 of its side (area averaging, as a small capture) and upscaled back (bilinear, as
    preprocessing upscales a small face)."""
    h, w, c = pixels.shape
    side = rng.uniform(0.375, 0.75)
    small = cv2.resize(pixels, (max(1, round(w * side)), max(1, round(h * side))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, c)


def _erased(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random erasing (Zhong et al.): a rectangle of 2-20% of the image, aspect 0.3-3.3, filled with uniform noise."""
    h, w, c = pixels.shape
    area = rng.uniform(0.02, 0.2) * h * w
    aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
    eh, ew = min(h, max(1, int(round(np.sqrt(area * aspect))))), min(w, max(1, int(round(np.sqrt(area / aspect)))))
    top, left = int(rng.integers(0, h - eh + 1)), int(rng.integers(0, w - ew + 1))
    out = pixels.copy()
    out[top:top + eh, left:left + ew] = rng.integers(0, 256, size=(eh, ew, c), dtype=np.uint8)
    return out


def _photometric(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lab light and other sensors: local/global equalisation, gamma, blur, sensor noise (one or two of them)."""
    h, w, c = pixels.shape
    out = pixels
    choice = rng.random()
    if choice < 0.25:
        clahe = cv2.createCLAHE(clipLimit=float(rng.uniform(1.5, 3.0)), tileGridSize=(4, 4))
        out = np.stack([clahe.apply(np.ascontiguousarray(out[:, :, k])) for k in range(c)], axis=2)
    elif choice < 0.4:
        out = np.stack([cv2.equalizeHist(np.ascontiguousarray(out[:, :, k])) for k in range(c)], axis=2)
    if rng.random() < 0.3:
        gamma = rng.uniform(0.6, 1.6)
        out = (255.0 * (out / 255.0) ** gamma).astype(np.uint8)
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (3, 3), float(rng.uniform(0.3, 1.0))).reshape(h, w, c)
    if rng.random() < 0.2:
        out = np.clip(out + rng.normal(0, rng.uniform(2, 8), out.shape), 0, 255).astype(np.uint8)
    return out
