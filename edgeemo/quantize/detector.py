"""INT8 for the kiosk's face detector (BlazeFace): NNCF post-training quantization of an OpenVINO IR calibrated on
camera frames, its output heads kept in FP32, checked against the FP32 detector on frames it was not calibrated on.

Classifier quantization (``edgeemo.quantize``) calibrates on face crops and measures macro recall; a detector takes
whole frames and its quality is which faces it finds, so it has its own path: frames from a video or an image
folder, prepared exactly as the kiosk prepares them (``BlazeFaceDetector.prepare``, the graph reshaped to the
frames' aspect), and agreement with FP32 — the share of FP32's faces INT8 also finds (recall) and of INT8's faces
FP32 also finds (precision), at IoU >= 0.5 — on every 4th sampled frame, held out from calibration.

The convolutions that produce the box and score outputs stay FP32 (``output_heads``): quantizing them turned
background anchors into faces (precision 0.70 vs 1.00 on a generated hard clip; ``benchmarks/kiosk_detectors.py``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import EdgeemoError

DETECTORS = ("blazeface",)
INT8_FILE = "openvino-int8/model.xml"
HELD_OUT_EVERY = 4  # every 4th sampled frame measures agreement, the rest calibrate
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass
class Agreement:
    frames: int
    fp32_faces: int
    int8_faces: int
    recall_vs_fp32: float  # FP32's faces that INT8 also finds
    precision_vs_fp32: float  # INT8's faces that FP32 also finds


@dataclass
class DetectorQuantizeResult:
    detector: str
    source: str
    artifact: str
    input_shape: list[int]
    calibration: str
    n_calibration: int
    fp32_heads: list[str]
    agreement: Agreement
    latency_fp32_ms: float
    latency_int8_ms: float
    threads: int
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def is_detector(ref: str) -> bool:
    """A detector name (``blazeface``) or BlazeFace's own model file."""
    from edgeemo.kiosk.blazeface import MODEL_FILE

    return ref in DETECTORS or Path(ref).name == MODEL_FILE


def read_frames(data: str, count: int) -> list[np.ndarray]:
    """Up to ``count`` frames spread over a video file, or the images of a folder (BGR as OpenCV reads them)."""
    import cv2

    path = Path(data)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        files = files[:: max(1, len(files) // count)][:count]
        frames = [f for f in (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in files) if f is not None]
    elif path.is_file():
        cap = cv2.VideoCapture(str(path))
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        step = max(1, total // count) if total > 0 else 1
        frames, i = [], 0
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                break
            if i % step == 0:
                frames.append(frame)
            i += 1
        cap.release()
    else:
        raise EdgeemoError(f"--data {data}: no such video file or image folder")
    if len(frames) < 2 * HELD_OUT_EVERY:
        raise EdgeemoError(f"--data {data}: {len(frames)} readable frames; a detector needs at least "
                           f"{2 * HELD_OUT_EVERY} camera frames (a video file or a folder of images)")
    return frames


def output_heads(model) -> list[str]:
    """The convolutions nearest each output (walking back through reshapes, transposes, adds and concats)."""
    heads: list[str] = []
    seen: set[str] = set()  # by name: the Python wrappers of nodes are made afresh on each visit
    stack = [r.input_value(0).get_node() for r in model.get_results()]
    while stack:
        node = stack.pop()
        if node.get_friendly_name() in seen:
            continue
        seen.add(node.get_friendly_name())
        if node.get_type_name() in ("Convolution", "GroupConvolution"):
            heads.append(node.get_friendly_name())
            continue
        stack += [v.get_node() for v in node.input_values() if v.get_node().get_type_name() not in ("Constant", "Parameter")]
    return sorted(heads)


def _agreement(fp32, int8, frames: list[np.ndarray]) -> Agreement:
    from edgeemo.kiosk.track import greedy_match, iou_matrix

    n32 = n8 = matched = 0
    for frame in frames:
        a, b = fp32(frame), int8(frame)
        n32, n8 = n32 + len(a), n8 + len(b)
        if len(a) and len(b):
            matched += len(greedy_match(iou_matrix(a, b), 0.5))
    return Agreement(len(frames), n32, n8, matched / n32 if n32 else 1.0, matched / n8 if n8 else 1.0)


def quantize_detector(ref: str, data: str, out: str | Path, frame_count: int = 200, width: int = 384, threads: int = 1,
                      on_step: Callable[[str], None] = lambda step: None) -> DetectorQuantizeResult:
    """BlazeFace -> ``out``/openvino-int8/model.xml (+ model.json): calibrated on ``data``'s frames at the input the
    kiosk gives frames of that size at ``width``, output heads FP32; agreement and latency vs FP32 measured."""
    import nncf
    import openvino as ov

    from edgeemo.fsutil import check_out_dir, made_dir, save_ir
    from edgeemo.kiosk.blazeface import BlazeFaceDetector, find_model, input_for
    from edgeemo.live import BLAZEFACE_MISSING
    from edgeemo.quiet import quiet_native
    from edgeemo.runtime import load
    from edgeemo.runtime.measure import quick_latency

    start = time.perf_counter()
    source = find_model() if ref in DETECTORS else Path(ref)
    if source is None or not source.is_file():
        raise EdgeemoError(f"{ref}: {BLAZEFACE_MISSING}" if source is None else f"no such file: {ref}")
    out = check_out_dir(out)
    on_step("reading frames")
    frames = read_frames(data, frame_count)
    shapes = {f.shape[:2] for f in frames}
    if len(shapes) > 1:
        raise EdgeemoError(f"--data {data}: frames of {len(shapes)} sizes; calibrate on frames of the camera's one size")
    input_hw = input_for(frames[0].shape[:2], width)
    held_out, calib_frames = frames[::HELD_OUT_EVERY], [f for i, f in enumerate(frames) if i % HELD_OUT_EVERY]
    prepare = BlazeFaceDetector(lambda x: [], input_hw=input_hw).prepare
    calib = [prepare(f)[0].copy() for f in calib_frames]
    model = ov.Core().read_model(str(source))  # names are numbered per read: the heads come from this very model
    model.reshape([1, *input_hw, 3])
    heads = output_heads(model)
    on_step(f"NNCF on {len(calib)} frames at {input_hw[1]}x{input_hw[0]} (heads FP32: {', '.join(heads)})")
    with quiet_native():
        quantized = nncf.quantize(model, nncf.Dataset(calib), subset_size=len(calib),
                                  ignored_scope=nncf.IgnoredScope(names=heads))
    with made_dir(out):
        xml = save_ir(quantized, out / INT8_FILE, compress_to_fp16=True)
        on_step("checking INT8 against FP32 on held-out frames")
        shape = [1, *input_hw, 3]
        s32 = load(source, "openvino", threads=threads, input_shape=shape)
        s8 = load(xml, "openvino", threads=threads)
        agreement = _agreement(BlazeFaceDetector(s32.infer_all, input_hw), BlazeFaceDetector(s8.infer_all, input_hw), held_out)
        ms32, ms8 = (quick_latency(s, mean=127.5, scale=127.5).median for s in (s32, s8))  # BlazeFace takes [-1, 1]
        result = DetectorQuantizeResult(
            "blazeface", str(source), str(xml), shape, f"{len(calib)} frames of {data}", len(calib), heads, agreement,
            round(ms32, 3), round(ms8, 3), threads, round(time.perf_counter() - start, 1))
        if agreement.recall_vs_fp32 < 0.95 or agreement.precision_vs_fp32 < 0.95:
            result.warnings.append(f"INT8 agrees with FP32 on {agreement.recall_vs_fp32:.1%} of its faces and "
                                   f"{agreement.precision_vs_fp32:.1%} of its own: check recall on your footage before using it")
        card = {"name": "blazeface", "kind": "face-detector", "input_shape": shape, "layout": "NHWC", "precision": "int8",
                "source": str(source), "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
                "quantization": result.to_dict()}
        (out / "openvino-int8" / "model.json").write_text(json.dumps(card, indent=2) + "\n")
        (out / "quantize.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result
