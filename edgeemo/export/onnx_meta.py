"""Model card facts into ONNX metadata_props; Keras SavedModel -> ONNX (tf2onnx)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from edgeemo.errors import MissingDependencyError, ModelLoadError
from edgeemo.fsutil import atomic_path

def add_metadata(path: str | Path, card: dict) -> None:
    """Write the card's preprocessing facts into the ONNX file's metadata_props (atomically)."""
    import onnx

    from edgeemo.card import ModelCard

    model = onnx.load(str(path))
    ModelCard.from_dict(card).write_onnx(model)
    with atomic_path(path) as tmp:
        onnx.save(model, str(tmp))


def copy_onnx(src: str | Path, out: str | Path) -> Path:
    with atomic_path(out) as tmp:
        shutil.copyfile(src, tmp)
    return Path(out)


def saved_model_to_onnx(saved_model: str | Path, out: str | Path, opset: int = 17) -> Path:
    """TensorFlow SavedModel -> ONNX with tf2onnx (run as its own process: it logs heavily)."""
    try:
        import tf2onnx  # noqa: F401
    except ImportError:
        raise MissingDependencyError("Keras -> ONNX needs tf2onnx: pip install 'edgeemo[tf]'") from None
    with atomic_path(out) as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(saved_model), "--output", str(tmp), "--opset", str(opset)],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        if proc.returncode != 0 or not tmp.stat().st_size:
            lines = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Error" in line] or proc.stderr.splitlines()[-1:]
            raise ModelLoadError(f"onnx: tf2onnx failed: {(lines or ['no output'])[-1].strip()[:300]}")
    return Path(out)
