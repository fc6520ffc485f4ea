"""What every exporter is handed: the source model, the batch, the output folder, a scratch folder, the card to
embed and the ONNX file when one was written first (``export(job, precision) -> Path`` in each format's module)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeemo.sources import SourceModel


@dataclass
class ExportJob:
    src: SourceModel
    batch: int
    out: Path
    tmp: Path
    card: dict
    onnx_path: Path | None = None

    @property
    def shape(self) -> list[int]:
        return [self.batch, *self.src.input_shape[1:]]

    def saved_model(self) -> Path:
        """A Keras source as a TensorFlow SavedModel in the scratch folder (written once)."""
        saved = self.tmp / "saved_model"
        if not saved.exists():
            from edgeemo.quiet import quiet_native

            with quiet_native():
                self.src.module.export(str(saved), format="tf_saved_model", verbose=False)
        return saved
