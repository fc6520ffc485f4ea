#!/usr/bin/env python3
"""edgeemo kiosk runner: needs only numpy, opencv-python-headless and the target's runtime
(openvino on Intel; ai-edge-litert, or tflite_runtime on old Raspberry Pi images).

  python3 runner.py verify --trust PUBKEY   check the operator's signature over the manifest, then every file's
                                      SHA-256 and size (--allow-unsigned skips the signature: integrity only)
  python3 runner.py selftest          run the inputs recorded at bundle time, compare with the recorded outputs
  python3 runner.py bench [--iterations N] [--threads T]   edgeemo bench's latency protocol, JSON out
  python3 runner.py predict IMAGE...  classify face crops (already cropped), JSON lines out
  python3 runner.py run --source VIDEO|CAMERA|URL [--interval 10s] [--out FILE]
                                      the kiosk loop: faces -> emotions -> one JSON line of counts per interval
                                      (aggregates only: no face image, crop or identity is written or sent)

This file is copied into every bundle by `edgeemo deploy` with two packages: edgeemo_kiosk (the kiosk loop and
edgeemo's preprocessing, numpy + OpenCV only) and edgeemo_runtime (edgeemo's runtime layer and measuring loop,
the code `edgeemo bench` uses); it imports nothing from edgeemo.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled edgeemo_kiosk and edgeemo_runtime packages


def load_card() -> dict:
    return json.loads((HERE / "model.json").read_text())


def open_model(card: dict, threads: int | None = None, device: str | None = None):
    """The bundle's model as an edgeemo_runtime Session: the same code `edgeemo bench` measured on the build host."""
    from edgeemo_runtime import load
    from edgeemo_runtime._compat import DeviceError

    path = HERE / card["artifact"]
    if path.suffix == ".tflite":
        return load(path, "litert", threads=threads)
    device = device or os.environ.get("EDGEEMO_DEVICE") or card.get("device", "CPU")  # override to test off-target
    try:
        return load(path, "openvino", device=device, threads=threads)
    except DeviceError as exc:
        sys.exit(f"runner: {exc}; set EDGEEMO_DEVICE=CPU to check the bundle on this machine")


def card_spec(card: dict, input_shape: list[int]):
    """The card's preprocessing facts in the form edgeemo's preprocessing takes (layout from the model input)."""
    from types import SimpleNamespace

    channels = 1 if card["channel_order"] == "gray" else 3
    nhwc = len(input_shape) == 4 and input_shape[-1] == channels and input_shape[1] != channels
    return SimpleNamespace(channel_order=card["channel_order"], input_size=tuple(card["input_size"]),
                           resize=card.get("resize", "crop"), mean=tuple(card["mean"]), scale=tuple(card["scale"]),
                           layout="NHWC" if nhwc else "NCHW")


def preprocess(image: np.ndarray, card: dict, input_shape: list[int]) -> np.ndarray:
    """edgeemo's own preprocessing (bundled as edgeemo_kiosk/preprocess.py), driven by the model card."""
    from edgeemo_kiosk.preprocess import preprocess as prepare

    return prepare(image, card_spec(card, input_shape))


def verify(args) -> int:
    """Signature over the manifest first (with the trusted key), then every file against it; JSON out, exit 1 on failure."""
    import hashlib

    from edgeemo_kiosk.signature import SIGNATURE_FILE, SignatureError, verify_manifest

    manifest_bytes = (HERE / "manifest.json").read_bytes()
    sig_path = HERE / SIGNATURE_FILE
    signature = sig_path.read_bytes() if sig_path.is_file() else None
    if args.trust:
        try:
            signed_by = verify_manifest(manifest_bytes, signature, Path(args.trust))
        except SignatureError as exc:
            print(json.dumps({"verify": "FAIL", "signature": str(exc)}))
            return 1
    elif args.allow_unsigned:
        signed_by = None
        print("runner.py: WARNING: --allow-unsigned: the bundle's origin is NOT checked (integrity only)", file=sys.stderr)
    else:
        print(json.dumps({"verify": "FAIL", "signature": "no --trust PUBKEY given (or --allow-unsigned to skip the check)"}))
        return 1
    manifest = json.loads(manifest_bytes)
    sizes = manifest.get("sizes", {})
    bad = []
    for rel, digest in manifest["files"].items():
        path = HERE / rel
        if (not path.is_file() or (rel in sizes and path.stat().st_size != sizes[rel])
                or hashlib.sha256(path.read_bytes()).hexdigest() != digest):
            bad.append(rel)
    print(json.dumps({"verify": "FAIL" if bad else "pass", "files": len(manifest["files"]), "mismatched": bad,
                      "signed_by": signed_by, "target": manifest.get("target", {}).get("name")}))
    return 1 if bad else 0


def selftest(args) -> int:
    card = load_card()
    model = open_model(card, args.threads)
    data = np.load(HERE / "selftest.npz")
    got = model.infer(data["inputs"])
    diff = float(np.abs(got - data["outputs"]).max())
    agree = float((got.argmax(1) == data["outputs"].argmax(1)).mean())
    ok = diff <= float(data["tolerance"]) and agree == 1.0
    print(json.dumps({"selftest": "pass" if ok else "FAIL", "max_abs_diff": diff, "top1_agreement": agree,
                      "tolerance": float(data["tolerance"]), "n": int(len(got)), "runtime": model.runtime,
                      "machine": platform.machine()}))
    return 0 if ok else 1


def bench(args) -> int:
    """edgeemo bench's protocol (edgeemo_runtime.measure): 16 seeded batches of random pixels normalised as the card
    says, encoded beforehand, the first call alone, warm-up, N timed calls; OpenVINO's own latency figure where it
    keeps one."""
    from edgeemo_runtime import random_inputs
    from edgeemo_runtime.measure import measure

    card = load_card()
    model = open_model(card, args.threads)
    m = measure(model, random_inputs(model, mean=card.get("mean"), scale=card.get("scale")), iterations=args.iterations,
                warmup=args.warmup)
    stats = m.latency
    print(json.dumps({"latency_ms": stats.to_dict(), "wall_ms": m.wall.to_dict(), "latency_source": m.source,
                      "throughput_fps": 1000.0 * model.batch / stats.mean, "first_inference_ms": m.first_ms,
                      "iterations": len(m.wall_ms), "threads": model.threads, "streams": model.streams,
                      "runtime": model.runtime, "device": model.device, "precision": model.precision, "mode": "latency",
                      "machine": platform.machine(), "emulated": bool(os.environ.get("QEMU_CPU"))}))
    return 0


def predict(args) -> int:
    from edgeemo_kiosk.preprocess import read_image

    card = load_card()
    model = open_model(card, args.threads)
    for path in args.images:
        image = read_image(path)
        if image is None:
            print(json.dumps({"image": path, "error": "unreadable"}))
            continue
        probs = model.infer(preprocess(image, card, model.input_shape)[None])[0]
        print(json.dumps({"image": path, "label": card["labels"][int(probs.argmax())],
                          "scores": {label: float(p) for label, p in zip(card["labels"], probs)}}))
    return 0


def open_detector(args, runtime: str):
    """The bundle's face detector: BlazeFace (its .tflite carried in the bundle) through edgeemo_runtime — OpenVINO on
    x86, LiteRT on a Pi, its graph resized to the frames' aspect — or OpenCV's Haar cascade."""
    from edgeemo_kiosk import make_detector
    from edgeemo_kiosk.blazeface import MODEL_FILE, runtime_opener

    name = args.detector
    path = HERE / MODEL_FILE
    if name == "auto":
        name = "blazeface" if path.is_file() else "haar-alt2"
    if name != "blazeface":
        return make_detector(name, detect_width=args.detect_width, min_face=args.min_face)
    if not path.is_file():
        sys.exit(f"runner: --detector blazeface: this bundle carries no {MODEL_FILE} (use --detector haar-alt2)")
    from edgeemo_runtime import load

    device = os.environ.get("EDGEEMO_DEVICE") or load_card().get("device", "CPU")
    opener = runtime_opener(load, path, runtime, device, args.threads)
    return make_detector("blazeface", opener, args.detect_width, args.min_face)


def run(args) -> int:
    import cv2
    from edgeemo_kiosk import IoUTracker, KioskPipeline, make_classifier, parse_interval, run_stream
    from edgeemo_kiosk.pipeline import SourceError

    card = load_card()
    model = open_model(card, args.threads)
    if args.threads:
        cv2.setNumThreads(args.threads)
    from edgeemo_kiosk.preprocess import preprocess as prepare

    labels = tuple(card["labels"])
    spec = card_spec(card, model.input_shape)
    classify = make_classifier(model.infer, lambda crop: prepare(crop, spec), card.get("output", "softmax"))
    detector = open_detector(args, model.runtime)
    pipeline = KioskPipeline(detector, classify, labels, args.margin,
                             IoUTracker(labels, half_life_s=args.smooth, threshold=args.threshold),
                             align=bool(card.get("align")) if args.align is None else args.align)
    sink = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout

    def emit(record: dict) -> None:
        sink.write(json.dumps(record) + "\n")
        sink.flush()

    try:
        summary = run_stream(args.source, pipeline, parse_interval(args.interval), emit, max_frames=args.max_frames)
    except (SourceError, ValueError) as exc:
        print(f"runner: {exc}", file=sys.stderr)
        return 2
    finally:
        if sink is not sys.stdout:
            sink.close()
    # each label's precision on the model's validation split: how far a count of it can be taken at its word
    print(json.dumps({"summary": summary.to_dict(), "machine": platform.machine(),
                      "label_precision": card.get("label_precision")}), file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--trust", help="the operator's public key (PEM, from `edgeemo keys new`)")
    v.add_argument("--allow-unsigned", action="store_true", help="skip the signature check (integrity only)")
    sub.add_parser("selftest")
    b = sub.add_parser("bench")
    b.add_argument("--iterations", type=int, default=200)
    b.add_argument("--warmup", type=int, default=10)
    p = sub.add_parser("predict")
    p.add_argument("images", nargs="+")
    from edgeemo_kiosk.pipeline import DEFAULTS

    r = sub.add_parser("run", help="the kiosk loop (aggregates only)")
    r.add_argument("--source", required=True, help="video file, camera index (0) or stream URL")
    r.add_argument("--interval", default=DEFAULTS["interval"])
    r.add_argument("--out", help="append the aggregates (JSON lines) here; default stdout")
    r.add_argument("--detector", default=DEFAULTS["detector"], help="auto (blazeface if carried, else haar-alt2), blazeface, haar-alt2, ...")
    r.add_argument("--detect-width", type=int, default=DEFAULTS["detect_width"])
    r.add_argument("--min-face", type=int, default=DEFAULTS["min_face"])
    r.add_argument("--margin", type=float, default=DEFAULTS["margin"])
    r.add_argument("--align", action=argparse.BooleanOptionalAction, default=None,
                   help="turn faces eyes-level before classifying (BlazeFace keypoints); default: the card's "
                        "'align' (true for models trained with edgeemo train --align)")
    r.add_argument("--threshold", type=float, default=DEFAULTS["threshold"])
    r.add_argument("--smooth", type=float, default=DEFAULTS["smooth_s"])
    r.add_argument("--max-frames", type=int, default=None)
    args = parser.parse_args()
    if args.threads is None:  # the target profile's thread count (e.g. 4 on a Pi 5), as `edgeemo bench --target` uses
        try:
            args.threads = json.loads((HERE / "manifest.json").read_text()).get("target", {}).get("threads")
        except (OSError, ValueError):
            args.threads = None
    return {"verify": verify, "selftest": selftest, "bench": bench, "predict": predict, "run": run}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
