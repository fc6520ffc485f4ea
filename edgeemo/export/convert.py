"""convert: a source model -> ONNX, OpenVINO IR and TFLite, each verified against the source."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import EdgeemoError
from edgeemo.export.job import ExportJob
from edgeemo.export.onnx import write_onnx
from edgeemo.sources import SourceModel
from edgeemo.export.validate import compare, is_probability, weak_reference
from edgeemo.resolve import source_sha256
from edgeemo.formats import FORMATS as ARTIFACT_FORMATS
from edgeemo.formats import artifact_path, folder_entries
from edgeemo.fsutil import artifact_bytes, atomic_path, check_out_dir, made_dir, remove_artifact, removed_on_failure

FORMATS = tuple(ARTIFACT_FORMATS)  # edgeemo.formats: names, file names per precision, runtimes
N_INPUTS = 32


class VerificationError(EdgeemoError):
    """An artifact whose outputs drifted from the source's."""


@dataclass
class Artifact:
    format: str
    precision: str
    path: str | None
    bytes: int = 0
    seconds: float = 0.0
    max_abs_diff: float | None = None
    top1_agreement: float | None = None
    tolerance: float | None = None
    layout: str | None = None
    passed: bool = False
    error: str | None = None


@dataclass
class ConvertResult:
    source: str
    framework: str
    out_dir: str
    inputs: str
    n_inputs: int
    macc: int | None = None  # per face (a --batch N artifact computes N times this per inference)
    params: int | None = None
    seconds: float = 0.0
    artifacts: list[Artifact] = field(default_factory=list)
    source_sha256: str | None = None  # the source weights' hash, also in the model card
    warnings: list[str] = field(default_factory=list)  # e.g. a parity check that proves little (validate.weak_reference)

    @property
    def failed(self) -> list[Artifact]:
        return [a for a in self.artifacts if not a.passed]

    def to_dict(self) -> dict:
        return asdict(self)


def verification_inputs(src: SourceModel, data: str | None, n: int) -> tuple[np.ndarray, str]:
    """n inputs in the source's layout: real faces from ``data`` when given, else deterministic noise."""
    from edgeemo.data.preprocess import preprocess, synthetic_batch

    if not data:
        return synthetic_batch(src.spec, n), "synthetic"
    from edgeemo.data import load_dataset

    dataset = load_dataset(data)
    if src.spec.labels:
        known = [s for s in dataset.samples if s.label in src.spec.labels]
        dataset.samples = known or dataset.samples
    from edgeemo.data.datasets import readable

    batch = []
    for _, image in readable(dataset.take(4 * n)):
        batch.append(preprocess(image, src.spec))
        if len(batch) == n:
            break
    if not batch:
        raise EdgeemoError(f"{data}: no readable images to verify with")
    return np.stack(batch), f"dataset:{data}"


def convert(
    src: SourceModel,
    out_dir: str | Path,
    formats: tuple[str, ...] = FORMATS,
    fp16: bool = False,
    batch: int = 1,
    data: str | None = None,
    n_inputs: int = N_INPUTS,
    on_step: Callable[[str], None] = lambda step: None,
) -> ConvertResult:
    """Write and verify every requested artifact; failed ones are removed and reported."""
    start = time.perf_counter()
    out = check_out_dir(out_dir)
    n_inputs = -(-n_inputs // batch) * batch
    inputs, inputs_kind = verification_inputs(src, data, n_inputs)
    if len(inputs) % batch:
        inputs = inputs[: len(inputs) // batch * batch]
    reference = src.reference(inputs)
    spec = src.spec
    if reference.ndim != 2:
        raise EdgeemoError(f"{src.ref}: the model's output has shape {list(reference.shape)}; edgeemo converts classifiers "
                           "with one vector of class scores per image")
    if spec.labels and reference.shape[1] != len(spec.labels):
        raise EdgeemoError(f"{src.ref}: {len(spec.labels)} labels given ({', '.join(spec.labels)}) but the model has "
                           f"{reference.shape[1]} outputs; --labels must name every output, in order")
    with made_dir(out), removed_on_failure(out, _OUTPUT_NAMES):
        result = _convert(src, out, formats, fp16, batch, inputs, inputs_kind, reference, on_step, start)
        if result.artifacts and not any(a.passed for a in result.artifacts):  # nothing made: leave nothing
            raise EdgeemoError(_nothing_made(result.artifacts))
        return result


def _nothing_made(artifacts: list[Artifact]) -> str:
    """One line for a convert where every artifact failed: each distinct reason once, with the artifacts it stopped."""
    stopped: dict[str, list[str]] = {}
    for a in artifacts:
        stopped.setdefault(a.error or "failed", []).append(f"{a.format} {a.precision}")
    if len(stopped) == 1:
        return next(iter(stopped))
    return "no artifact made: " + "; ".join(f"{', '.join(names)}: {error}" for error, names in stopped.items())


# what convert may write in its folder: every format's files, the card and the report
_OUTPUT_NAMES = [*folder_entries(), "model.json", "convert.json"]


def _convert(src, out: Path, formats, fp16, batch, inputs, inputs_kind, reference, on_step, start) -> ConvertResult:
    spec = src.spec
    card = {
        **spec.to_dict(),
        "input_shape": [batch, *spec.input_shape()[1:]],
        "source": src.ref,
        "source_sha256": source_sha256(src.ref),
        "framework": src.framework,
        "output": "softmax" if is_probability(reference) else "logits",
    }
    from edgeemo.evaluate import trained_aligned

    if trained_aligned(src.ref):
        card["align"] = True  # trained on eyes-level faces: eval and the kiosk align for it by default
    result = ConvertResult(src.ref, src.framework, str(out), inputs_kind, len(inputs), source_sha256=card["source_sha256"])
    weak = weak_reference(reference)
    if weak:
        result.warnings.append(weak)
    with tempfile.TemporaryDirectory(dir=out, prefix=".convert-") as tmp:
        tmp = Path(tmp)
        onnx_path = None
        job = ExportJob(src, batch, out, tmp, card)
        plan = [(f, "fp32") for f in formats] + ([(f, "fp16") for f in formats if f != "onnx"] if fp16 else [])
        for fmt, precision in plan:
            on_step(f"{fmt} {precision}")
            t0 = time.perf_counter()
            try:
                if onnx_path is None and _needs_onnx(fmt, src.framework) and (fmt != "tflite" or src.framework == "onnx" or src.extra.get("tflite_via_onnx")):
                    onnx_path = write_onnx(job, out / artifact_path("onnx", "fp32") if "onnx" in formats else tmp / "model.onnx")
                    job.onnx_path = onnx_path
                path = ARTIFACT_FORMATS[fmt].exporter()(job, precision)
                artifact = _verify(fmt, precision, path, inputs, reference, time.perf_counter() - t0)
            except EdgeemoError as exc:
                artifact = Artifact(fmt, precision, None, seconds=time.perf_counter() - t0, error=str(exc))
            result.artifacts.append(artifact)
            if not artifact.passed and artifact.path:
                remove_artifact(Path(artifact.path))
                artifact.path = None
        if onnx_path is not None or any(a.format == "openvino" and a.passed for a in result.artifacts):
            result.macc, result.params = _cost(out, onnx_path, result)
    card.update(macc=result.macc, params=result.params,
                artifacts=[{"format": a.format, "precision": a.precision, "path": _rel(a.path, out), "layout": a.layout}
                           for a in result.artifacts if a.passed])
    _write_json(out / "model.json", card)
    result.seconds = time.perf_counter() - start
    _write_json(out / "convert.json", result.to_dict())
    return result


def _needs_onnx(fmt: str, framework: str) -> bool:
    """IR from PyTorch/ONNX sources and (sometimes) TFLite go through the ONNX file; Keras goes through SavedModel."""
    return fmt in ("onnx", "tflite") or (fmt == "openvino" and framework != "keras")


def _verify(fmt: str, precision: str, path: Path, inputs: np.ndarray, reference: np.ndarray, seconds: float) -> Artifact:
    from edgeemo.runtime import load

    runner = load(path, precision="f32" if path.suffix == ".xml" else None)  # parity is checked in f32 (AMX CPUs default to bf16)
    parity = compare(reference, runner.infer(inputs), precision)
    size = artifact_bytes(path)
    artifact = Artifact(fmt, precision, str(path), size, round(seconds, 3), parity.max_abs_diff, parity.top1_agreement,
                        parity.tolerance, runner.layout, parity.passed)
    if not parity.passed:
        artifact.error = (f"{fmt} {precision} drifted from the source: max abs diff {parity.max_abs_diff:.3g} "
                          f"(tolerance {parity.tolerance:.3g}), top-1 agreement {parity.top1_agreement:.1%}")
    return artifact


def _cost(out: Path, onnx_path: Path | None, result: ConvertResult) -> tuple[int | None, int | None]:
    from edgeemo.profile import profile

    target = onnx_path if onnx_path is not None and onnx_path.exists() else next(
        (Path(a.path) for a in result.artifacts if a.format == "openvino" and a.passed), None)
    if target is None:
        return None, None
    cost = profile(str(target))
    return cost.macc_per_image, cost.params  # per face, as every card says it (a --batch N graph computes N of them)


def _rel(path: str | None, out: Path) -> str | None:
    return str(Path(path).relative_to(out)) if path else None


def _write_json(path: Path, obj: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n")
