"""Kiosk bundles: the right artifact for a target, its card, a standalone runner, pinned requirements,
recorded self-test data and a manifest of checksums, in one tar.gz; and a safe, verifying unpack."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import importlib.util
import json
import shutil
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from edgeemo.errors import EdgeemoError
from edgeemo.fsutil import atomic_path

RUNNER = Path(__file__).with_name("runner.py")
KIOSK = Path(__file__).parents[1] / "kiosk"  # copied as edgeemo_kiosk/, with edgeemo's preprocessing beside it
PREPROCESS = Path(__file__).parents[1] / "data" / "preprocess.py"
# Versions known to exist for the Pi's Python 3.11 on aarch64 (docs/deploy.md; checked under emulation).
PI_REQUIREMENTS = ["ai-edge-litert==2.3.0", "numpy==2.4.6", "opencv-python-headless==4.11.0.86"]


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _requirements(runtime: str) -> list[str]:
    if runtime == "litert":
        return PI_REQUIREMENTS
    version = md.version("openvino")
    return [f"openvino=={version}", f"numpy=={md.version('numpy')}", "opencv-python-headless==4.11.0.86"]


def _artifact(ref: str, target, precision: str, data: str | None, work: Path) -> tuple[Path, dict]:
    """The file this target runs: given directly, or produced with convert (+ quantize)."""
    from edgeemo.predictor import find_card

    wanted_suffix = ".tflite" if target.runtime == "litert" else ".xml"
    path = Path(ref)
    if path.is_file():
        if path.suffix.lower() != wanted_suffix:
            raise EdgeemoError(f"{ref}: target {target.name} runs {target.runtime} ({wanted_suffix} files); give the source model to convert")
        card = find_card(path)
        if card is None:
            raise EdgeemoError(f"{ref}: no model card (model.json) beside it; convert it with `edgeemo convert` first")
        return path, card
    from edgeemo.export.convert import convert
    from edgeemo.export.sources import Overrides, load_source
    from edgeemo.quantize import quantize

    fmt = "tflite" if target.runtime == "litert" else "openvino"
    result = convert(load_source(ref, Overrides()), work, (fmt,), fp16=precision == "fp16", data=data)
    if result.failed:
        raise EdgeemoError(result.failed[0].error or "conversion failed")
    fp32 = next(Path(a.path) for a in result.artifacts if a.precision == "fp32")
    card = json.loads((work / "model.json").read_text())
    if precision == "fp32":
        return fp32, card
    if precision == "fp16":
        return next(Path(a.path) for a in result.artifacts if a.precision == "fp16"), card
    q = quantize(ref, work, data, "real" if data else "synthetic", artifacts={fmt: fp32})
    if q.artifacts[0].error:
        raise EdgeemoError(q.artifacts[0].error)
    return Path(q.artifacts[0].path), card


def build_bundle(ref: str, target_name: str, out: str | Path, precision: str | None = None, data: str | None = None) -> BundleResult:
    from edgeemo import __version__
    from edgeemo.data.preprocess import synthetic_batch
    from edgeemo.predictor import spec_from_card
    from edgeemo.targets import load_target

    target = load_target(target_name)
    precision = precision or target.precisions[0]
    if precision not in ("fp32", "fp16", "int8"):
        raise EdgeemoError(f"--precision {precision!r}: fp32, fp16 or int8")
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        work, stage = Path(tmp) / "work", Path(tmp) / "bundle"
        work.mkdir()
        stage.mkdir()
        artifact, card = _artifact(ref, target, precision, data, work)
        name = "model.tflite" if artifact.suffix == ".tflite" else "model.xml"
        shutil.copyfile(artifact, stage / name)
        if artifact.suffix == ".xml":
            shutil.copyfile(artifact.with_suffix(".bin"), stage / "model.bin")
        card = {**card, "artifact": name, "precision": precision, "target": target.name, "device": target.device,
                "runtime": target.runtime}
        (stage / "model.json").write_text(json.dumps(card, indent=2) + "\n")
        shutil.copyfile(RUNNER, stage / "runner.py")
        (stage / "edgeemo_kiosk").mkdir()
        for module in sorted(KIOSK.glob("*.py")) + [PREPROCESS]:
            shutil.copyfile(module, stage / "edgeemo_kiosk" / module.name)
        (stage / "requirements.txt").write_text(
            f"# {target.name}: {target.description}\n# Python 3.11 ({target.arch})\n" + "\n".join(_requirements(target.runtime)) + "\n")
        _record_selftest(stage, spec_from_card(card, card.get("name", "model")), synthetic_batch, precision, target.runtime)
        files = {str(p.relative_to(stage)): _sha256(p) for p in sorted(stage.rglob("*")) if p.is_file()}
        manifest = {"format": "edgeemo-bundle/1", "edgeemo": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "target": asdict(target), "artifact": name, "precision": precision, "files": files,
                    "entry_points": {"verify": "python3 runner.py verify", "selftest": "python3 runner.py selftest", "bench": "python3 runner.py bench",
                                     "predict": "python3 runner.py predict IMAGE...",
                                     "run": "python3 runner.py run --source VIDEO|CAMERA|URL --interval 10s"}}
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        with atomic_path(out) as tmp_out:
            with tarfile.open(tmp_out, "w:gz") as tar:
                for path in sorted(stage.rglob("*")):
                    tar.add(path, arcname=str(path.relative_to(stage)), recursive=False)
    return BundleResult(str(out), target.name, name, precision, out.stat().st_size, files)


def _record_selftest(stage: Path, spec, synthetic_batch, precision: str, runtime: str, n: int = 8) -> None:
    """Inputs and the outputs the bundle's own runner gives for them here; the target must reproduce them."""
    runner = _import_runner(stage)
    model = runner.Model(json.loads((stage / "model.json").read_text()), device="CPU")  # reference outputs from this CPU
    from edgeemo.runtime import adapt_layout, layout_of

    inputs = adapt_layout(synthetic_batch(spec, n * model.input_shape[0]), model.input_shape, layout_of(model.input_shape))
    outputs = model.infer(np.ascontiguousarray(inputs))
    # LiteRT INT8 is bit-exact across CPUs; float kernels differ in the last bits; devices may compute in FP16/bf16
    tolerance = {"litert": 1e-4 if precision != "int8" else 1e-6}.get(runtime, 3e-2)
    np.savez(stage / "selftest.npz", inputs=inputs, outputs=outputs, tolerance=np.float64(tolerance))


def _import_runner(folder: Path):
    import sys

    spec = importlib.util.spec_from_file_location("edgeemo_bundle_runner", folder / "runner.py")
    module = importlib.util.module_from_spec(spec)
    path, dont_write = list(sys.path), sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ inside the bundle
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:], sys.dont_write_bytecode = path, dont_write
    module.HERE = folder
    return module


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


def unpack_bundle(bundle: str | Path, dest: str | Path) -> dict:
    """Check every member's path, extract, verify the manifest's checksums; nothing is left on failure."""
    bundle, dest = Path(bundle), Path(dest)
    if not bundle.is_file():
        raise BundleError(f"no such bundle: {bundle}")
    if dest.exists() and any(dest.iterdir()):
        raise BundleError(f"{dest} exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".unpack-") as tmp:
        staging = Path(tmp)
        try:
            with tarfile.open(bundle, "r:gz") as tar:
                members = _safe_members(tar, staging)
                tar.extractall(staging, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BundleError(f"{bundle}: not a readable bundle: {exc}") from None
        manifest_path = staging / "manifest.json"
        if not manifest_path.is_file():
            raise BundleError(f"{bundle}: no manifest.json")
        manifest = json.loads(manifest_path.read_text())
        present = {str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()} - {"manifest.json"}
        listed = set(manifest.get("files", {}))
        if present != listed:
            raise BundleError(f"{bundle}: files differ from the manifest (unlisted: {sorted(present - listed)}, "
                              f"missing: {sorted(listed - present)})")
        for rel, digest in manifest["files"].items():
            if _sha256(staging / rel) != digest:
                raise BundleError(f"{bundle}: checksum mismatch for {rel}: the bundle was modified after it was made")
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
        dest.chmod(0o755)
        Path(tmp).mkdir()  # TemporaryDirectory cleans up a folder it expects to find
    return manifest
