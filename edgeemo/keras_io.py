"""Keras models: safe loading and the SavedModel route that converters handle reliably."""

from __future__ import annotations

from pathlib import Path

from edgeemo.errors import MissingDependencyError, ModelLoadError


def load_keras(path: str | Path):
    """Load a .keras/.h5 model with ``safe_mode=True`` (no arbitrary code from the file)."""
    from edgeemo.quiet import quiet_native

    try:
        with quiet_native():
            import keras
    except ImportError:
        raise MissingDependencyError("Keras models need TensorFlow: pip install 'edgeemo[tf]'") from None
    import zipfile

    if Path(path).suffix.lower() == ".keras" and Path(path).is_file() and not zipfile.is_zipfile(path):
        raise ModelLoadError(f"{path}: cannot load as a Keras model: not a .keras archive (a zip file): truncated or "
                             "another format")  # Keras itself says "File not found" for an existing file
    try:
        with quiet_native():
            return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:
        raise ModelLoadError(f"{path}: cannot load as a Keras model: {str(exc).strip().splitlines()[0][:300]}") from exc


def keras_to_saved_model(path: str | Path, out: str | Path) -> Path:
    """Export a Keras file to a TensorFlow SavedModel folder (``model.export``)."""
    model = load_keras(path)
    try:
        model.export(str(out), format="tf_saved_model", verbose=False)
    except Exception as exc:
        raise ModelLoadError(f"{path}: Keras export to SavedModel failed: {str(exc).strip().splitlines()[0][:300]}") from exc
    return Path(out)
