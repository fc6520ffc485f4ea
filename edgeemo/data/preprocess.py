"""Image -> network input, from the facts in a ModelSpec. The only place preprocessing happens.

Needs only numpy and OpenCV: `edgeemo deploy` copies this file into kiosk bundles, where ``spec`` is any
object with the ModelSpec fields (channel_order, input_size, resize, mean, scale, layout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from edgeemo.models.spec import ModelSpec


MAX_IMAGE_PIXELS = 50_000_000  # a photo larger than this is refused unread (a PNG header can claim 60000x60000)


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding; None for other formats or a short header."""
    import struct

    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + length
    return None


def read_image(path, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray | None:
    """An image file as OpenCV reads it, or None when it is empty, unreadable, or claims more than MAX_IMAGE_PIXELS."""
    try:
        with open(path, "rb") as f:
            data = f.read()  # read once: the header is checked, then the same bytes are decoded
    except OSError:
        return None
    if not data:
        return None
    size = header_size(data[: 1 << 16])
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        return None
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:  # OpenCV's own pixel cap, corrupt data
        return None


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Any pixel depth as 8-bit: 16-bit scaled by 255/65535, float in 0..1 scaled by 255; other types refused."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise ValueError("image has NaN or infinite pixels")
        scaled = image * 255.0 if image.size and float(image.max()) <= 1.0 else image
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported pixel type {image.dtype}")


def _to_channels(image: np.ndarray, order: str) -> np.ndarray:
    """An OpenCV image of any depth (gray HxW or HxWx1, gray+alpha, BGR, BGRA) in the spec's channel order, uint8 HxWxC."""
    image = to_uint8(image)
    if image.ndim == 3 and image.shape[2] in (1, 2):  # gray, gray + alpha
        image = image[:, :, 0]
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)) or 0 in image.shape:
        raise ValueError(f"not an image: array of shape {image.shape}")
    if order == "gray":
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return gray[:, :, None]
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    return bgr[:, :, ::-1] if order == "rgb" else bgr


def resize(image: np.ndarray, size: tuple[int, int], policy: str) -> np.ndarray:
    """Resize HxWxC to ``size`` (h, w): squash (plain), letterbox (keep aspect, pad) or crop (keep aspect, centre crop)."""
    h, w = image.shape[:2]
    th, tw = size
    interp = cv2.INTER_AREA if h > th or w > tw else cv2.INTER_LINEAR
    if policy == "squash":
        out = cv2.resize(image, (tw, th), interpolation=interp)
    elif policy == "crop":
        scale = max(th / h, tw / w)
        ch, cw = min(h, round(th / scale)), min(w, round(tw / scale))
        y, x = (h - ch) // 2, (w - cw) // 2
        out = cv2.resize(image[y : y + ch, x : x + cw], (tw, th), interpolation=interp)
    elif policy == "letterbox":
        scale = min(th / h, tw / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        inner = cv2.resize(image, (nw, nh), interpolation=interp)
        out = np.zeros((th, tw) + image.shape[2:], dtype=image.dtype)
        y, x = (th - nh) // 2, (tw - nw) // 2
        out[y : y + nh, x : x + nw] = inner.reshape(nh, nw, *image.shape[2:])
    else:
        raise ValueError(f"unknown resize policy {policy!r}: squash, letterbox or crop")
    return out.reshape(th, tw, image.shape[2])


def to_pixels(image: np.ndarray, spec: ModelSpec, resize_policy: str | None = None) -> np.ndarray:
    """One OpenCV image -> uint8 HxWxC in the spec's channel order and input size (training augments here)."""
    return resize(_to_channels(image, spec.channel_order), spec.input_size, resize_policy or spec.resize)


def normalize(pixels: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """uint8 HxWxC (or a batch NxHxWxC) -> float32 ``(pixel - mean) / scale`` in the spec's layout."""
    x = (pixels.astype(np.float32) - np.asarray(spec.mean, np.float32)) / np.asarray(spec.scale, np.float32)
    if spec.layout == "NHWC":
        return x
    axes = (2, 0, 1) if x.ndim == 3 else (0, 3, 1, 2)
    return np.ascontiguousarray(x.transpose(axes))


def preprocess(image: np.ndarray, spec: ModelSpec, resize_policy: str | None = None) -> np.ndarray:
    """One OpenCV image -> float32 tensor (C,H,W or H,W,C per ``spec.layout``), ``(pixel - mean) / scale``."""
    return normalize(to_pixels(image, spec, resize_policy), spec)


def preprocess_batch(images: list[np.ndarray], spec: ModelSpec, resize_policy: str | None = None) -> np.ndarray:
    return np.stack([preprocess(im, spec, resize_policy) for im in images])


def synthetic_batch(spec: ModelSpec, n: int, seed: int = 0) -> np.ndarray:
    """Deterministic random 'pixels' 0..255 through the spec's normalisation (the no-data stand-in)."""
    rng = np.random.default_rng(seed)
    h, w = spec.input_size
    images = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for _ in range(n)]
    if spec.channel_order == "gray":
        images = [im[:, :, 0] for im in images]
    return preprocess_batch(images, spec)
