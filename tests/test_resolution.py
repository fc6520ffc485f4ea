"""One resolution rule: every command that takes a model resolves a zoo name (and an IR) the same way, and
reports what it ran: the source weights' hash (the model card's) and the runtime."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from edgeemo.models import weights_path

NAME = "emolite"


@pytest.fixture(scope="module")
def world(tmp_path_factory, shared_data):
    """A short video, two real photos (paths into the shared set, nothing copied) and the zoo model's IR."""
    import cv2

    folder = tmp_path_factory.mktemp("resolution")
    video = folder / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(6):
        writer.write(rng.integers(0, 255, (120, 160, 3), np.uint8))
    writer.release()
    with open(shared_data / "legend.csv", newline="") as f:
        photos = [str(shared_data / "images" / row["image"]) for row, _ in zip(csv.DictReader(f), range(2))]
    return {"folder": folder, "video": str(video), "photos": photos, "data": str(shared_data)}


def _commands(model: str, world: dict, tag: str) -> dict[str, list[str]]:
    out = world["folder"] / tag
    return {
        "profile": ["profile", model],
        "bench": ["bench", model, "--iterations", "10"],
        "eval": ["eval", model, "--data", world["data"], "--limit", "20"],
        "quantize": ["quantize", model, "--calib", "synthetic", "--subset", "4", "--to", "openvino", "--out", str(out / "q")],
        "deploy": ["deploy", model, "--target", "cpu-x86", "--precision", "fp32", "--out", str(out / "b.tar.gz")],
        "run": ["run", "--model", model, "--source", world["video"], "--max-frames", "4", "--out", str(out / "agg.jsonl")],
        "predict": ["predict", *world["photos"], "--model", model],
    }


def _resolved(command: str, report) -> dict:
    if command == "run":
        return report["summary"]["resolved"]
    return report["resolved"]


def test_zoo_name_and_its_ir_resolve_alike_in_every_command(world, cli):
    digest = hashlib.sha256(weights_path(NAME).read_bytes()).hexdigest()
    converted = cli("convert", NAME, "--to", "openvino", "--out", str(world["folder"] / "ir"), "--json")
    assert converted.code == 0, converted.stderr
    assert converted.json()["source_sha256"] == digest
    ir = str(world["folder"] / "ir" / "openvino" / "model.xml")

    artifacts = set()
    for command, args in _commands(NAME, world, "zoo").items():
        result = cli(*args, "--json")
        assert result.code == 0, (command, result.stderr)
        resolved = _resolved(command, result.json())
        assert resolved["ref"] == NAME and resolved["source_sha256"] == digest, (command, resolved)
        assert resolved["runtime"] == "openvino", (command, resolved)
        if command != "quantize":  # quantize writes its FP32 artifacts beside the INT8 ones, in its --out
            artifacts.add(resolved["artifact"])
    assert len(artifacts) == 1, artifacts  # converted once: every command ran the same cached IR

    for command, args in _commands(ir, world, "ir").items():
        result = cli(*args, "--json")
        assert result.code == 0, (command, result.stderr)
        resolved = _resolved(command, result.json())
        assert resolved == {"ref": ir, "runtime": "openvino", "artifact": ir, "source_sha256": digest,
                            "cached": False, "converted": False}, (command, resolved)


def test_runtime_torch_runs_the_source_eagerly_and_an_artifact_cannot(world, cli):
    result = cli("eval", NAME, "--data", world["data"], "--limit", "10", "--runtime", "torch", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["resolved"]["runtime"] == "torch" and result.json()["resolved"]["artifact"] is None
    onnx = cli("predict", *world["photos"], "--model", NAME, "--runtime", "onnxruntime", "--json")
    assert onnx.code == 0, onnx.stderr
    assert onnx.json()["resolved"]["artifact"].endswith("model.onnx")
    ir = world["folder"] / "ir" / "openvino" / "model.xml"
    if ir.is_file():
        refused = cli("bench", str(ir), "--runtime", "torch")
        assert refused.code != 0 and "eagerly" in refused.stderr
