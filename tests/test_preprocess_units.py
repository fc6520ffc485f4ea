"""The one preprocessing path on every pixel depth and channel count (fast, no models)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from edgeemo.data.preprocess import MAX_IMAGE_PIXELS, header_size, preprocess, read_image, to_uint8
from edgeemo.models import get_spec


@pytest.fixture
def face() -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur(rng.integers(0, 256, (80, 70, 3), dtype=np.uint8), (5, 5), 2)


@pytest.mark.parametrize("name", ["emonet-resnet10", "mini-xception"])
def test_every_depth_gives_the_same_input(face, name):
    spec = get_spec(name)
    expected = preprocess(face, spec)
    deep = face.astype(np.uint16) * 257  # a 16-bit PNG of the same picture
    assert np.array_equal(preprocess(deep, spec), expected)
    assert np.allclose(preprocess(face.astype(np.float32) / 255.0, spec), expected, atol=1e-6)
    bgra = np.dstack([face, np.full(face.shape[:2], 255, np.uint8)])
    assert np.array_equal(preprocess(bgra, spec), expected)


def test_gray_layouts_agree(face):
    spec = get_spec("mini-xception")
    gray = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    expected = preprocess(gray, spec)
    assert np.array_equal(preprocess(gray[:, :, None], spec), expected)
    assert np.array_equal(preprocess(np.dstack([gray, gray]), spec), expected)  # gray + alpha
    assert np.array_equal(preprocess(gray.astype(np.uint16) * 257, spec), expected)


def test_to_uint8_refuses_what_is_not_pixels():
    with pytest.raises(ValueError):
        to_uint8(np.full((4, 4), np.nan, np.float32))
    with pytest.raises(ValueError):
        to_uint8(np.zeros((4, 4), np.complex64))
    with pytest.raises(ValueError):
        preprocess(np.zeros((4, 4, 5), np.uint8), get_spec("emonet-resnet10"))


def test_sixteen_bit_png_file_reads_like_its_eight_bit_twin(tmp_path, face):
    cv2.imwrite(str(tmp_path / "a8.png"), face)
    cv2.imwrite(str(tmp_path / "a16.png"), face.astype(np.uint16) * 257)
    spec = get_spec("emonet-resnet10")
    assert read_image(tmp_path / "a16.png").dtype == np.uint16
    assert np.array_equal(preprocess(read_image(tmp_path / "a16.png"), spec), preprocess(read_image(tmp_path / "a8.png"), spec))


def test_a_header_claiming_a_huge_image_is_not_decoded(tmp_path, face):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    huge = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)) + chunk(b"IEND", b"")
    (tmp_path / "huge.png").write_bytes(huge)
    assert header_size(huge) == (60000, 60000) and 60000 * 60000 > MAX_IMAGE_PIXELS
    assert read_image(tmp_path / "huge.png") is None
    cv2.imwrite(str(tmp_path / "ok.jpg"), face)
    assert header_size((tmp_path / "ok.jpg").read_bytes()) == (70, 80)
    assert read_image(tmp_path / "ok.jpg").shape == (80, 70, 3)
    (tmp_path / "empty.png").write_bytes(b"")
    assert read_image(tmp_path / "empty.png") is None and read_image(tmp_path / "missing.png") is None


def test_a_dataset_skips_and_counts_a_huge_and_keeps_a_deep_image(tmp_path, face):
    from edgeemo.data import load_dataset

    for label in ("happy", "sad"):
        (tmp_path / label).mkdir()
        cv2.imwrite(str(tmp_path / label / "a.png"), face.astype(np.uint16) * 257)
    (tmp_path / "sad" / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + struct.pack(">II", 60000, 60000) + b"\0" * 9)
    samples = load_dataset(tmp_path).samples
    loaded = [s.load() for s in samples]
    assert sum(im is None for im in loaded) == 1 and sum(im is not None and im.dtype == np.uint16 for im in loaded) == 2
