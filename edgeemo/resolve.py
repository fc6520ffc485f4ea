"""One rule for every command: what a MODEL argument becomes.

An artifact (.xml/.onnx/.tflite) is used as it is. A zoo name or a source model (.pt/.pt2/.keras/.onnx
source, SavedModel) becomes the artifact the command's runtime reads — OpenVINO IR unless another runtime is
asked for — converted and verified once, then cached under ``$EDGEEMO_CACHE`` (default ``~/.cache/edgeemo``)
keyed by the hash of the source's weights, the preprocessing overrides and the edgeemo version.
``--runtime torch`` (or ``keras``) runs the source model eagerly instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from edgeemo.errors import EdgeemoError
from edgeemo.formats import FORMATS
from edgeemo.runtime import RUNTIME_FOR_SUFFIX

DEFAULT_RUNTIME = "openvino"
EAGER = ("torch", "keras")  # the source's own framework, no conversion
FORMAT_FOR_RUNTIME = {f.runtimes[0]: f.name for f in FORMATS.values()}  # the format a runtime gets a source converted to
RUNTIMES = (*FORMAT_FOR_RUNTIME, *EAGER)


@dataclass(frozen=True)
class ResolvedModel:
    """What a MODEL argument resolved to; every command reports it (``--json``: ``"model"``)."""

    ref: str  # as the user typed it
    runtime: str  # openvino, onnxruntime, litert, torch or keras
    artifact: str | None  # the file the runtime reads; None when run eagerly
    source_sha256: str | None  # the source weights' hash, as the model card records it
    cached: bool = False  # the artifact lives in edgeemo's conversion cache
    converted: bool = False  # ... and this call made it

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if self.artifact is None:
            return f"{self.ref} run eagerly in {self.runtime}"
        if self.converted and not self.cached:  # converted by this call into its own output (quantize, deploy)
            return f"{self.ref} -> {self.artifact} ({self.runtime}, converted now)"
        if not self.cached:
            return f"{self.ref} ({self.runtime}, as given)"
        how = "converted now, cached" if self.converted else "from the cache"
        return f"{self.ref} -> {self.artifact} ({self.runtime}, {how})"


def cache_dir() -> Path:
    """Where converted zoo and source models are kept."""
    env = os.environ.get("EDGEEMO_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "edgeemo"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_sha256(ref: str) -> str | None:
    """The hash that names a source model: its zoo weights, its file, or every file of its SavedModel folder."""
    from edgeemo.models import list_models, weights_path

    if ref in list_models():
        weights = weights_path(ref)
        return file_sha256(weights) if weights else hashlib.sha256(f"untrained:{ref}".encode()).hexdigest()
    path = Path(ref)
    if path.is_file():
        return file_sha256(path)
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode() + b"\0" + file_sha256(p).encode())
        return h.hexdigest()
    return None


def card_sha256(artifact: Path) -> str | None:
    """The source hash recorded in the model card beside an artifact (ONNX metadata as a fallback)."""
    from edgeemo.predictor import find_card

    card = find_card(artifact) or {}
    return card.get("source_sha256") if isinstance(card.get("source_sha256"), str) else None


def is_artifact(ref: str) -> bool:
    path = Path(ref)
    return path.is_file() and path.suffix.lower() in RUNTIME_FOR_SUFFIX


def runtime_for(ref: str, runtime: str | None) -> str:
    """The runtime a command uses for ``ref``: the one asked for, else the artifact's own, else OpenVINO."""
    if runtime is not None and runtime not in RUNTIMES:
        raise EdgeemoError(f"unknown runtime {runtime!r}: {', '.join(RUNTIMES)}")
    if runtime:
        return runtime
    return RUNTIME_FOR_SUFFIX[Path(ref).suffix.lower()] if is_artifact(ref) else DEFAULT_RUNTIME


def resolve_model(ref: str, runtime: str | None = None, overrides=None,
                  on_step: Callable[[str], None] = lambda step: None) -> ResolvedModel:
    """Resolve MODEL for a runtime, converting a zoo name or source model into the cache when needed."""
    from edgeemo.sources import resolve

    runtime = runtime_for(ref, runtime)
    if is_artifact(ref):
        resolve(ref)  # one-line errors for empty files
        if runtime in EAGER:
            raise EdgeemoError(f"{ref}: an artifact has no {runtime} model to run eagerly; use the source model, "
                               f"or --runtime {RUNTIME_FOR_SUFFIX[Path(ref).suffix.lower()]}")
        return ResolvedModel(ref, runtime, ref, card_sha256(Path(ref)))
    resolve(ref)  # unknown names and unreadable files are one line
    digest = source_sha256(ref)
    if runtime in EAGER:
        return ResolvedModel(ref, runtime, None, digest)
    return _cached_conversion(ref, runtime, digest, overrides, on_step)


def _cache_key(ref: str, fmt: str, digest: str | None, overrides) -> str:
    import edgeemo

    given = {k: v for k, v in (asdict(overrides) if overrides is not None else {}).items() if v is not None}
    text = json.dumps({"source": digest, "format": fmt, "overrides": given, "edgeemo": edgeemo.__version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cached_conversion(ref: str, runtime: str, digest: str | None, overrides, on_step) -> ResolvedModel:
    from edgeemo.sources import Overrides

    fmt = FORMAT_FOR_RUNTIME[runtime]
    overrides = overrides or Overrides()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(ref).stem if Path(ref).exists() else ref)[:40]
    folder = cache_dir() / "models" / f"{name}-{fmt}-{_cache_key(ref, fmt, digest, overrides)}"
    artifact = _artifact_in(folder, fmt)
    if artifact is not None:
        return ResolvedModel(ref, runtime, str(artifact), digest, cached=True)
    on_step(f"converting {ref} to {fmt} (once; cached in {folder.parent})")
    from edgeemo.export.convert import convert
    from edgeemo.sources import load_source

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        result = convert(load_source(ref, overrides), staging, (fmt,))
        if result.failed:
            raise EdgeemoError(f"{ref}: conversion to {fmt} failed: {result.failed[0].error}")
        try:
            os.replace(staging, folder)
        except OSError:  # another process cached it first
            pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    artifact = _artifact_in(folder, fmt)
    if artifact is None:
        raise EdgeemoError(f"{ref}: the converted {fmt} artifact is missing from {folder}")
    return ResolvedModel(ref, runtime, str(artifact), digest, cached=True, converted=True)


def _artifact_in(folder: Path, fmt: str) -> Path | None:
    """The verified artifact of a cache entry, if the entry is complete (its card lists it)."""
    card_path = folder / "model.json"
    if not card_path.is_file():
        return None
    try:
        card = json.loads(card_path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    for entry in card.get("artifacts", []):
        if entry.get("format") == fmt and entry.get("precision") == "fp32" and entry.get("path"):
            path = folder / entry["path"]
            if path.is_file():
                return path
    return None
