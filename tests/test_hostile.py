"""Hostile inputs across every command: each must end in a non-zero exit with one line on stderr, no traceback,
no code run from the file (a payload marker), and nothing left under the output path.

The commands run in this process through the real console entry point (``edgeemo.cli.main``), so the battery
takes seconds per case, not a process start each.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class World:
    """Crafted files, made once; ``marker`` is what a payload would create if it ran."""

    root: Path
    marker: Path


class Payload:
    """Unpickling this runs a shell command: the marker file appears if any load is not weights-only."""

    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _tiny():
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 5, 3)

        def forward(self, x):
            return torch.softmax(self.conv(x).mean((2, 3)), 1)

    return Tiny()


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def _onnx(path: Path, inputs: list[tuple[str, list]], metadata: dict | None = None) -> Path:
    import onnx
    from onnx import TensorProto, helper

    names = [n for n, _ in inputs]
    nodes = [helper.make_node("Sum", names, ["s"]), helper.make_node("GlobalAveragePool", ["s"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.save(model, str(path))
    return path


def _evil_pt2(good: Path, evil: Path) -> None:
    """A valid ExportedProgram whose first weight is stored as a pickle that runs the payload."""
    import zipfile

    import torch

    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(evil, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name.endswith("model_weights_config.json"):
                config = json.loads(data)
                first = next(iter(config["config"]))
                config["config"][first]["use_pickle"] = True
                data = json.dumps(config).encode()
            elif name.endswith("data/weights/weight_0"):
                buf = io.BytesIO()
                torch.save(Payload(), buf)
                data = buf.getvalue()
            zout.writestr(name, data)


@pytest.fixture(scope="module")
def world(tmp_path_factory, signing_key) -> World:
    import cv2
    import torch

    from edgeemo.deploy import build_bundle
    from edgeemo.models import create_model

    root = tmp_path_factory.mktemp("hostile")
    marker = root / "PAYLOAD_RAN"
    Payload.marker = str(marker)

    torch.export.save(torch.export.export(_tiny().eval(), (torch.zeros(1, 3, 64, 64),)), root / "good.pt2")
    _evil_pt2(root / "good.pt2", root / "evil.pt2")
    torch.save({"state_dict": {"w": torch.zeros(1)}, "extra": Payload()}, root / "evil_ckpt.pt")
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3)), root / "pickled_module.pt")  # a whole pickled module
    torch.save(create_model("emolite", pretrained=False).state_dict(), root / "emolite_state.pt")
    planted = root / "planted_run"
    planted.mkdir()
    torch.save({"model": Payload(), "optimizer": {}, "state": {}, "config": {"arch": "emolite"}}, planted / "last.pt")

    (root / "arch.py").write_text("import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                  "        self.conv = torch.nn.Conv2d(3, 5, 3)\n    def forward(self, x):\n"
                                  "        return self.conv(x).mean((2, 3))\n")

    _onnx(root / "huge_input.onnx", [("x", [1, 3, 100000, 100000])])
    _onnx(root / "two_inputs.onnx", [("x", [1, 3, 64, 64]), ("x2", [1, 3, 64, 64])])
    _onnx(root / "dynamic_hw.onnx", [("x", [1, 3, "h", "w"])])
    _onnx(root / "bad_meta.onnx", [("x", [1, 3, 64, 64])], {"channel_order": "bgr", "input_shape": "[1,3,64", "labels": '["a"'})
    (root / "huge.png").write_bytes(_png_claiming(60000, 60000))
    (root / "empty").mkdir()
    one = root / "one_per_class"
    for k, label in enumerate(("neutral", "happy", "sad", "surprise", "anger")):
        (one / label).mkdir(parents=True)
        cv2.imwrite(str(one / label / "a.png"), np.full((64, 64), 40 * k, np.uint8))
    tiny = root / "tiny_faces"  # made here: training code never reads the cross-domain validation set
    rng = np.random.default_rng(0)
    for label in ("neutral", "happy", "sad", "surprise", "anger"):
        (tiny / label).mkdir(parents=True)
        for k in range(3):
            cv2.imwrite(str(tiny / label / f"{k}.png"), rng.integers(0, 256, (64, 64), dtype=np.uint8))
    (root / "bad.yaml").write_text("name: [\n")
    (root / "traversal_legend" / "images").mkdir(parents=True)
    (root / "traversal_legend" / "legend.csv").write_text("user.id,image,emotion\nx,../../../../etc/passwd,happy\nx,/etc/hostname,sad\n")
    (root / "notes.txt").write_text("not a video")
    (root / "a_file").write_text("x")
    (root / "not_a_key.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")

    from edgeemo.export.convert import convert
    from edgeemo.sources import Overrides, load_source

    convert(load_source("emolite", Overrides()), root / "emolite", ("tflite", "openvino"))
    card = json.loads((root / "emolite" / "model.json").read_text())
    scale0 = root / "scale0"
    scale0.mkdir()
    (scale0 / "model.tflite").write_bytes((root / "emolite" / "model.tflite").read_bytes())
    (scale0 / "model.json").write_text(json.dumps({**card, "scale": [0.0]}))
    garbled = root / "garbled"
    garbled.mkdir()
    (garbled / "model.tflite").write_bytes((root / "emolite" / "model.tflite").read_bytes())
    (garbled / "model.json").write_text('{"input_size": [64, 64], "channel_o')

    run = root / "run"
    (run / "m").mkdir(parents=True)
    (run / "m" / "model.json").write_text(json.dumps(card))
    (run / "m" / "profile.json").write_text('{"macc": 123, "layers": [{"name": "conv"')

    build_bundle(str(root / "emolite" / "model.tflite"), "rpi4", root / "signed.tar.gz", sign_key=signing_key[0])
    _bundles(root)
    return World(root, marker)


def _members(bundle: Path) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(bundle, "r:gz") as tar:
        return {m.name: (m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()}


def _write(members: dict, path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for m, data in members.values():
            if data is not None:
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data) if data is not None else None)


def _bundles(root: Path) -> None:
    """Bundles changed after signing, each in one way."""
    import hashlib

    signed = _members(root / "signed.tar.gz")

    def variant(name: str, change) -> None:
        members = {k: (tarfile.TarInfo(m.name), d) if d is not None else (m, d) for k, (m, d) in signed.items()}
        for k, (m, _) in members.items():
            m.mode = signed[k][0].mode
        change(members)
        _write(members, root / name)

    def rehashed(members):
        data = members["runner.py"][1] + b"\nimport os; os.system('touch PAYLOAD')\n"
        members["runner.py"] = (members["runner.py"][0], data)
        manifest = json.loads(members["manifest.json"][1])
        manifest["files"]["runner.py"] = hashlib.sha256(data).hexdigest()
        manifest["sizes"]["runner.py"] = len(data)
        members["manifest.json"] = (members["manifest.json"][0], json.dumps(manifest).encode())

    def extra_member(members):
        members["big.bin"] = (tarfile.TarInfo("big.bin"), b"\0" * (1 << 20))

    def size_mismatch(members):
        members["model.json"] = (members["model.json"][0], members["model.json"][1] + b" ")

    def manifest_not_json(members):
        members["manifest.json"] = (members["manifest.json"][0], b"{not json")

    def manifest_without_keys(members):
        members["manifest.json"] = (members["manifest.json"][0], b'{"format": "edgeemo-bundle/2"}')

    variant("rehashed.tar.gz", rehashed)
    variant("extra_member.tar.gz", extra_member)
    variant("size_mismatch.tar.gz", size_mismatch)
    variant("manifest_not_json.tar.gz", manifest_not_json)
    variant("manifest_without_keys.tar.gz", manifest_without_keys)
    (root / "not_a_bundle.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")


def run_main(capfd, *args: str) -> tuple[int, str]:
    """``edgeemo ARGS`` through the console entry point, in this process; (exit code, stderr)."""
    from edgeemo.cli import main
    from edgeemo.safeload import trust_pickles

    argv = sys.argv
    sys.argv = ["edgeemo", *args]
    os.environ.pop("EDGEEMO_DEBUG", None)
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
        trust_pickles(False)
    return code, capfd.readouterr().err


# (id, arguments, a fragment the one line must hold). {r}: the crafted files; {out}: the output path to keep clean;
# {key}/{pub}: the signing key pair. Each is one thing a hostile or careless user feeds edgeemo.
CASES = [
    ("pt2-profile", ["profile", "{r}/evil.pt2"], "--trust-checkpoint"),
    ("pt2-convert", ["convert", "{r}/evil.pt2", "--out", "{out}"], "--trust-checkpoint"),
    ("pt2-eval", ["eval", "{r}/evil.pt2", "--data", "{shared}/ckplus48_dev", "--labels", "a,b,c,d,e"], "--trust-checkpoint"),
    ("pt2-predict", ["predict", "{r}/huge.png", "-m", "{r}/evil.pt2"], ""),
    ("pt2-bench", ["bench", "{r}/evil.pt2"], ""),
    ("train-planted-last", ["train", "emolite", "--data", "{r}/tiny_faces", "--out", "{r}/planted_run"], "--trust-checkpoint"),
    ("train-init-pickle", ["train", "emolite", "--data", "{r}/tiny_faces", "--init", "{r}/evil_ckpt.pt", "--out", "{out}"],
     "--trust-checkpoint"),
    ("convert-ckpt-pickle", ["convert", "{r}/evil_ckpt.pt", "--arch", "{r}/arch.py:Net", "--input-shape", "1,3,64,64", "--out", "{out}"],
     "--trust-checkpoint"),
    ("convert-pickled-module", ["convert", "{r}/pickled_module.pt", "--out", "{out}"], "--trust-checkpoint"),
    ("train-init-other-arch", ["train", "mini-xception", "--data", "{r}/tiny_faces", "--init", "{r}/emolite_state.pt",
                               "--out", "{out}"], "--init"),
    ("train-init-not-torch", ["train", "emolite", "--data", "{r}/tiny_faces", "--init", "{r}/arch.py", "--out", "{out}"],
     "not a PyTorch file"),
    ("train-init-missing", ["train", "emolite", "--data", "{r}/tiny_faces", "--init", "{r}/nothing.pt", "--out", "{out}"],
     "no such file"),
    ("train-one-per-class", ["train", "emolite", "--data", "{r}/one_per_class", "--out", "{out}"], "split is empty"),
    ("unpack-rehashed", ["unpack", "{r}/rehashed.tar.gz", "--to", "{out}", "--trust", "{pub}"], "signature check failed"),
    ("unpack-rehashed-unsigned-ok", ["unpack", "{r}/rehashed.tar.gz", "--to", "{out}"], "--allow-unsigned"),
    ("unpack-extra-member", ["unpack", "{r}/extra_member.tar.gz", "--to", "{out}", "--trust", "{pub}"], "not in the manifest"),
    ("unpack-size-mismatch", ["unpack", "{r}/size_mismatch.tar.gz", "--to", "{out}", "--trust", "{pub}"], "the manifest says"),
    ("unpack-manifest-not-json", ["unpack", "{r}/manifest_not_json.tar.gz", "--to", "{out}", "--allow-unsigned"], "manifest"),
    ("unpack-manifest-no-keys", ["unpack", "{r}/manifest_without_keys.tar.gz", "--to", "{out}", "--allow-unsigned"], "manifest"),
    ("unpack-not-a-bundle", ["unpack", "{r}/not_a_bundle.tar.gz", "--to", "{out}", "--allow-unsigned"], "not a readable bundle"),
    ("unpack-to-file", ["unpack", "{r}/signed.tar.gz", "--to", "{r}/a_file", "--trust", "{pub}"], "not an empty folder"),
    ("unpack-wrong-key", ["unpack", "{r}/signed.tar.gz", "--to", "{out}", "--trust", "{r}/not_a_key.pem"], "public key"),
    ("deploy-remote-dash", ["deploy", "emolite", "--target", "rpi5", "--out", "{out}", "--remote", "-oProxyCommand=touch {marker}",
                            "--allow-unsigned"], "leading '-'"),
    ("bench-remote-dash", ["bench", "emolite", "--target", "rpi5", "--remote", "-oProxyCommand=touch {marker}"], "leading '-'"),
    ("deploy-remote-unsigned", ["deploy", "emolite", "--target", "rpi5", "--out", "{out}", "--remote", "kiosk"], "--sign"),
    ("deploy-out-dir", ["deploy", "{r}/emolite/model.tflite", "--target", "rpi4", "--out", "{r}/empty"], "is a folder"),
    ("deploy-out-missing", ["deploy", "{r}/emolite/model.tflite", "--target", "rpi4", "--out", "{out}/x/b.tar.gz"], "does not exist"),
    ("deploy-sign-bad-key", ["deploy", "{r}/emolite/model.tflite", "--target", "rpi4", "--out", "{out}", "--sign", "{r}/not_a_key.pem"],
     "--sign"),
    ("deploy-fp32-as-int8", ["deploy", "{r}/emolite/model.tflite", "--target", "rpi5", "--precision", "int8", "--out", "{out}"],
     "fp32 artifact"),
    ("deploy-target-traversal", ["deploy", "emolite", "--target", "../x", "--out", "{out}"], "unknown target"),
    ("deploy-target-bad-yaml", ["deploy", "emolite", "--target", "{r}/bad.yaml", "--out", "{out}"], "not valid YAML"),
    ("convert-labels-width", ["convert", "emolite", "--labels", "a,b", "--to", "onnx", "--out", "{out}"], "5 outputs"),
    ("convert-scale-zero", ["convert", "emolite", "--scale", "0", "--out", "{out}"], "positive"),
    ("convert-scale-negative", ["convert", "emolite", "--scale", "-1", "--out", "{out}"], "positive"),
    ("convert-mean-nan", ["convert", "emolite", "--mean", "nan", "--out", "{out}"], "finite"),
    ("convert-shape-letter", ["convert", "emolite", "--input-shape", "1,3,x,64", "--out", "{out}"], "bad input shape"),
    ("convert-out-file", ["convert", "emolite", "--to", "onnx", "--out", "{r}/a_file"], "is a file"),
    ("convert-out-under-file", ["convert", "emolite", "--to", "onnx", "--out", "{r}/a_file/deeper"], "is a file"),
    ("convert-out-bracket", ["convert", "emolite", "--to", "onnx", "--out", "{r}/a_file/[red]x[/red]"], "[red]x[/red]"),
    ("convert-fails-late", ["convert", "emolite", "--labels", "a,b", "--to", "onnx", "--out", "{out}/deeper/still"], "5 outputs"),
    ("convert-huge-input", ["convert", "{r}/huge_input.onnx", "--out", "{out}"], "refusing to allocate"),
    ("convert-two-inputs", ["convert", "{r}/two_inputs.onnx", "--out", "{out}"], "2 inputs"),
    ("bench-huge-input", ["bench", "{r}/huge_input.onnx"], "refusing to allocate"),
    ("bench-two-inputs", ["bench", "{r}/two_inputs.onnx"], "2 inputs"),
    ("bench-dynamic-hw", ["bench", "{r}/dynamic_hw.onnx"], "dynamic"),
    ("eval-bad-onnx-metadata", ["eval", "{r}/bad_meta.onnx", "--data", "{shared}/ckplus48_dev"], "not valid JSON"),
    ("eval-card-scale-zero", ["eval", "{r}/scale0/model.tflite", "--data", "{shared}/ckplus48_dev"], "scale"),
    ("eval-card-garbled", ["eval", "{r}/garbled/model.tflite", "--data", "{shared}/ckplus48_dev"], "model card"),
    ("quantize-empty-data", ["quantize", "emolite", "--data", "{r}/empty", "--out", "{out}"], "no images"),
    ("quantize-out-file", ["quantize", "emolite", "--calib", "synthetic", "--out", "{r}/a_file"], "is a file"),
    ("quantize-no-format-made", ["quantize", "emolite", "--calib", "synthetic", "--to", "onnx", "--ignored-scope", "nope",
                                 "--out", "{out}"], "no INT8 artifact made: onnx: --ignored-scope: no node 'nope'"),
    ("predict-csv-dir", ["predict", "{r}/huge.png", "--csv", "{r}/empty"], "is a folder"),
    ("predict-only-huge-png", ["predict", "{r}/huge.png", "-m", "emolite"], "no readable image"),
    ("run-preview-txt", ["run", "-m", "emolite", "-s", "{r}/notes.txt", "--preview", "{out}.txt"], "--preview"),
    ("run-out-missing", ["run", "-m", "emolite", "-s", "{r}/notes.txt", "--out", "{out}/x/agg.jsonl"], "does not exist"),
    ("testclip-out-missing", ["testclip", "--data", "{shared}/facial_expressions", "--out", "{out}/x/clip.mp4"], "does not exist"),
    ("report-truncated-json", ["report", "{r}/run"], "not valid JSON"),
    ("keys-overwrite", ["keys", "new", "{r}/emolite/model"], "exists"),
    ("profile-missing", ["profile", "{r}/nothing.onnx"], "no such file"),
    ("eval-legend-traversal", ["eval", "emolite", "--data", "{r}/traversal_legend"], "point outside"),
    ("usage-bad-value", ["testclip", "--seconds", "0", "--out", "{out}.mp4"], "--seconds"),
    ("usage-unknown-option", ["profile", "emolite", "--bogus"], "--bogus"),
    ("usage-missing-argument", ["convert"], "give a model to convert"),
]


@pytest.mark.parametrize("case, args, fragment", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_one_line(world, capfd, tmp_path, signing_key, case, args, fragment):
    if not SHARED.is_dir() and any("{shared}" in a for a in args):
        pytest.skip(f"shared data not found at {SHARED}")
    if case == "keys-overwrite":
        (world.root / "emolite" / "model.key").write_text("existing")
    out = tmp_path / "out"
    subs = {"r": str(world.root), "out": str(out), "shared": str(SHARED), "key": str(signing_key[0]), "pub": str(signing_key[1]),
            "marker": str(world.marker)}
    argv = [a.format(**subs) for a in args]
    before = sorted(p.name for p in world.root.iterdir())
    code, stderr = run_main(capfd, *argv)
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert code != 0, stderr
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("edgeemo: error:"), lines[0]
    assert fragment in lines[0], lines[0]
    assert not world.marker.exists(), f"{case}: the payload ran"
    leftovers = [p for p in (out, Path(str(out) + ".txt")) if p.exists()]
    assert not leftovers, f"{case}: left {leftovers}"
    assert not list(tmp_path.glob(".*")), f"{case}: left temporary files {list(tmp_path.glob('.*'))}"
    assert sorted(p.name for p in world.root.iterdir() if not p.name.startswith(".unpack-")) == before
    assert not list(world.root.glob(".unpack-*"))


def test_battery_is_large_enough():
    assert len(CASES) >= 40


def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
    """SIGINT during work: 'edgeemo: interrupted', exit 130, and the half-made output folder removed."""
    import signal
    import subprocess
    import time

    out = tmp_path / "out" / "deeper"
    proc = subprocess.Popen([sys.executable, "-m", "edgeemo", "quantize", "emolite", "--calib", "synthetic", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1"))
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert out.exists(), "the command never started writing"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    lines = [line for line in stderr.strip().splitlines() if line.strip() and "━" not in line and "⠋" not in line]
    assert proc.returncode == 130, stderr
    assert lines[-1] == "edgeemo: interrupted" and "Traceback" not in stderr, stderr
    assert not (tmp_path / "out").exists()
