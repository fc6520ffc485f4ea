"""quantize: FP32 artifacts -> INT8 (OpenVINO IR and ONNX with NNCF, TFLite full-integer), accuracy measured."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import EdgeemoError, first_line
from edgeemo.formats import FORMATS, folder_entries
from edgeemo.fsutil import artifact_bytes, atomic_path, remove_artifact

INT8_NAMES = {name: f.files["int8"] for name, f in FORMATS.items()}  # edgeemo.formats
FP32_NAMES = {name: f.files["fp32"] for name, f in FORMATS.items()}
FORMAT_OF_SUFFIX = {f.suffix: f.name for f in FORMATS.values()}


@dataclass
class Quantized:
    format: str
    path: str | None
    fp32_path: str
    bytes: int = 0
    fp32_bytes: int = 0
    size_ratio: float | None = None
    fp32: dict | None = None  # accuracy / macro_recall on the validation split
    int8: dict | None = None
    macro_recall_drop: float | None = None  # in points (percent)
    latency_fp32_ms: float | None = None
    latency_int8_ms: float | None = None
    latency_ratio: float | None = None
    accuracy_control: bool = False
    warning: str | None = None
    error: str | None = None


@dataclass
class QuantizeResult:
    source: str
    out_dir: str
    calibration: str
    n_calibration: int
    validation: str | None
    artifacts: list[Quantized] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resolved: dict | None = None  # what MODEL resolved to: the FP32 artifact quantized first (edgeemo.resolve)
    bias_correction: str = "full"  # NNCF's bias correction for OpenVINO and ONNX INT8: full or fast

    def to_dict(self) -> dict:
        return asdict(self)


def _fp32_artifacts(ref: str, out: Path, formats: tuple[str, ...], on_step) -> tuple[dict[str, Path], object]:
    """The FP32 artifacts to quantize: the given file, or a fresh verified `convert` of a source model."""
    from edgeemo.predictor import find_card

    path = Path(ref)
    if path.is_file() and path.suffix.lower() in FORMAT_OF_SUFFIX:
        from edgeemo.sources import resolve

        resolve(ref)
        if find_card(path) is None:
            raise EdgeemoError(f"{ref}: no model card (model.json) beside it; convert it with `edgeemo convert` first")
        return {FORMAT_OF_SUFFIX[path.suffix.lower()]: path}, None
    from edgeemo.export.convert import convert
    from edgeemo.sources import Overrides, load_source

    on_step("convert to FP32 artifacts")
    src = load_source(ref, Overrides())
    result = convert(src, out, formats)
    if result.failed:
        raise EdgeemoError(result.failed[0].error or "conversion failed")
    return {a.format: Path(a.path) for a in result.artifacts if a.precision == "fp32"}, src


class Calibration(str, Enum):
    """Where calibration inputs come from."""

    REAL = "real"  # faces of --data (its train split)
    SYNTHETIC = "synthetic"  # data-free: inputs optimised to match the model's BatchNorm statistics


BIAS_CORRECTIONS = ("full", "fast")


@dataclass
class QuantizeConfig:
    """What ``quantize`` is asked for (the CLI's options, checked once in ``check``)."""

    data: str | None = None  # faces: calibration from the train split, accuracy on the val split
    calib: Calibration | str = Calibration.REAL
    subset: int = 300  # calibration images
    formats: tuple[str, ...] = tuple(FORMATS)
    preset: str | None = None  # NNCF preset: performance or mixed
    ignored_scope: list[str] | None = None
    max_drop: float | None = None  # accuracy control: macro-recall drop in points (formats with accuracy_control)
    classes: list[str] | None = None  # measure accuracy on these labels only
    bias_correction: str = "full"  # NNCF (OpenVINO, ONNX): full BiasCorrection, or fast (FastBiasCorrection)

    def check(self) -> "QuantizeConfig":
        """One-line errors for impossible requests, before anything is written."""
        try:
            self.calib = Calibration(self.calib)
        except ValueError:
            raise EdgeemoError(f"--calib {self.calib!r}: real or synthetic") from None
        if self.bias_correction not in BIAS_CORRECTIONS:
            raise EdgeemoError(f"--bias-correction {self.bias_correction!r}: {' or '.join(BIAS_CORRECTIONS)}")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise EdgeemoError(f"--to {','.join(self.formats)!r}: choose from {', '.join(FORMATS)}")
        if self.calib is Calibration.REAL and not self.data:
            raise EdgeemoError("real-data calibration needs --data DIR; without face images use --calib synthetic")
        if self.max_drop is not None and not self.data:
            raise EdgeemoError("--max-drop needs --data DIR to measure accuracy on the validation split")
        if self.data:  # unusable data fails before any artifact is written
            from edgeemo.data import load_dataset

            load_dataset(self.data)
        return self


def quantize(ref: str, out: str | Path, config: QuantizeConfig | None = None, on_step: Callable[[str], None] = lambda s: None,
             artifacts: dict[str, Path] | None = None, source=None) -> QuantizeResult:
    """INT8 for ``ref`` (an FP32 artifact, or a source model converted first) or for the given FP32 ``artifacts``
    (format -> path), all calibrated on the same inputs. ``source``: the SourceModel the artifacts came from (data-free
    calibration reads its BatchNorm statistics)."""
    start = time.perf_counter()
    cfg = (config or QuantizeConfig()).check()
    from edgeemo.fsutil import check_out_dir, made_dir, removed_on_failure

    with made_dir(check_out_dir(out)) as out_dir, removed_on_failure(out_dir, _OUTPUT_NAMES):
        result = _quantize(ref, out_dir, cfg, on_step, artifacts, start, source)
        if artifacts is None and result.artifacts and all(a.error for a in result.artifacts):  # nothing made: leave nothing
            raise EdgeemoError("no INT8 artifact made: " + "; ".join(_with_format(a) for a in result.artifacts))
        return result


# what a quantize run may write in its folder: the FP32 conversion of a source model, the INT8 artifacts, the reports
_OUTPUT_NAMES = [*folder_entries(), "model.json", "convert.json", "quantize.json"]


def _with_format(item: Quantized) -> str:
    return item.error if item.error.startswith(item.format) else f"{item.format}: {item.error}"


def _fractions(plan) -> str:
    return f"val {plan.val_fraction:g}, test {plan.test_fraction:g}, seed {plan.seed}"


def _quantize(ref, out: Path, cfg: QuantizeConfig, on_step, artifacts, start, source=None) -> QuantizeResult:
    data, calib, subset, formats = cfg.data, cfg.calib.value, cfg.subset, cfg.formats
    preset, ignored_scope, max_drop, classes = cfg.preset, cfg.ignored_scope, cfg.max_drop, cfg.classes
    from edgeemo.evaluate import evaluate, plan_split, prepare
    from edgeemo.evaluate.metrics import classification_metrics
    from edgeemo.predictor import find_card, load_predictor, spec_from_card
    from edgeemo.quantize import backends
    from edgeemo.quantize.calibration import real_inputs, synthetic_inputs

    fp32, src = (artifacts, source) if artifacts else _fp32_artifacts(ref, out, formats, on_step)
    first = next(iter(fp32.values()))
    card = find_card(first) or {}
    spec = spec_from_card(card, first.stem)
    warnings: list[str] = []

    on_step(f"calibration inputs ({calib})")
    if calib == "real":
        own = plan_split(str(first), data, "train")  # the model's own train split when it was trained on ``data``
        calib_x, _, warnings_ = real_inputs(spec, data, subset, own.seed, own.val_fraction, own.test_fraction)
        warnings += warnings_
        if len(calib_x) == 0:
            raise EdgeemoError(f"{data}: no usable calibration images")
        calib_desc = f"real: {len(calib_x)} images from the train split of {data} ({_fractions(own)})"
    else:
        module = _torch_source(src, card)
        calib_x = synthetic_inputs(module, spec, n=min(subset, 32))
        calib_desc = f"synthetic: {len(calib_x)} inputs optimised to match the model's BatchNorm statistics (no data)"

    validation = None
    metric = None
    if data:
        plan = plan_split(str(first), data, "val")  # the model's own validation split: its test split stays unseen
        val = prepare(data, spec.labels, plan, classes)
        validation = f"val split of {data} ({_fractions(plan)}): {len(val.samples)} images"
        if max_drop is not None:
            from edgeemo.evaluate import labeled_batches

            xs, ys = [], []
            wanted = list(classes) if classes else list(spec.labels)
            probe = load_predictor(str(first))
            for x, labels in labeled_batches(val, probe, None, {}):
                xs.append(x)
                ys += [wanted.index(y) for y in labels]
            val_x, val_y = np.concatenate(xs), np.array(ys)
            columns = [list(spec.labels).index(c) for c in wanted]

            def metric(truth, scores):  # macro recall in [0, 1] over the evaluated classes
                return classification_metrics(truth, scores[:, columns].argmax(1), wanted)["macro_recall"]

    from edgeemo.resolve import ResolvedModel, RUNTIME_FOR_SUFFIX

    resolved = ResolvedModel(str(ref), RUNTIME_FOR_SUFFIX[first.suffix.lower()], str(first), card.get("source_sha256"),
                             converted=src is not None)
    result = QuantizeResult(str(ref), str(out), calib_desc, len(calib_x), validation, warnings=warnings,
                            resolved=resolved.to_dict(), bias_correction=cfg.bias_correction)
    for fmt, fp32_path in fp32.items():
        target = out / INT8_NAMES[fmt]
        item = Quantized(fmt, None, str(fp32_path), fp32_bytes=artifact_bytes(fp32_path))
        on_step(f"{fmt} INT8")
        try:
            row = FORMATS[fmt]
            control = max_drop is not None and row.accuracy_control
            options = backends.QuantizeOptions(preset, ignored_scope, max_drop / 100 if control else None,
                                               (val_x, val_y) if control else None, metric, cfg.bias_correction)
            row.quantizer()(fp32_path, target, calib_x, options)
            if options.notes:
                item.warning = "; ".join(options.notes)
                warnings.append(item.warning)
            item.accuracy_control = control
            _copy_card(target, card)
            load_predictor(str(target)).predict(calib_x[:1])  # the INT8 artifact must run in its runtime
        except EdgeemoError as exc:
            item.error = str(exc)
            result.artifacts.append(item)
            continue
        except Exception as exc:  # NNCF / quantizer / runtime internals: report, keep going with the other formats
            item.error = f"{fmt} INT8 failed: {first_line(exc)}"
            remove_artifact(target)
            result.artifacts.append(item)
            continue
        item.path, item.bytes = str(target), artifact_bytes(target)
        item.size_ratio = item.bytes / item.fp32_bytes
        on_step(f"{fmt} INT8: accuracy and latency")
        p32, p8 = load_predictor(str(fp32_path)), load_predictor(str(target))
        if data:
            e32 = evaluate(p32, data, "val", classes)
            e8 = evaluate(p8, data, "val", classes)
            item.fp32 = {"accuracy": e32.accuracy, "macro_recall": e32.macro_recall}
            item.int8 = {"accuracy": e8.accuracy, "macro_recall": e8.macro_recall}
            item.macro_recall_drop = 100 * (e32.macro_recall - e8.macro_recall)
            if max_drop is not None and item.macro_recall_drop > max_drop:
                over = (f"{fmt} INT8 macro recall dropped {item.macro_recall_drop:.2f} points, over --max-drop {max_drop}"
                        + (f" (NNCF has no accuracy control for {fmt})" if not FORMATS[fmt].accuracy_control else ""))
                item.warning = f"{item.warning}; {over}" if item.warning else over
                warnings.append(over)
        item.latency_fp32_ms = _latency(fp32_path, spec)
        item.latency_int8_ms = _latency(target, spec)
        item.latency_ratio = item.latency_int8_ms / item.latency_fp32_ms
        result.artifacts.append(item)

    _update_card(out, card, result)
    result.seconds = time.perf_counter() - start
    with atomic_path(out / "quantize.json") as tmp:
        tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _torch_source(src, card: dict):
    """The PyTorch module whose BatchNorm statistics drive data-free calibration."""
    if src is not None and getattr(src, "framework", None) == "torch":
        return src.module
    from edgeemo.models import create_model, list_models

    name = card.get("source")
    if name in list_models():
        return create_model(name)
    raise EdgeemoError("data-free calibration (--calib synthetic) needs the PyTorch source model (a zoo name or a "
                       "PyTorch file) to read its BatchNorm statistics; give that instead of the artifact, or use --data")


def _latency(path: Path, spec) -> float:
    """Median ms at 1 thread in the device's own compute precision (what a deployment gets), on the input range the
    card's mean/scale give."""
    from edgeemo.runtime import load
    from edgeemo.runtime.measure import quick_latency

    return quick_latency(load(path, threads=1), mean=spec.mean, scale=spec.scale).median


def _copy_card(target: Path, card: dict) -> None:
    """Every INT8 artifact has the model card beside it, so it can be evaluated and benchmarked alone."""
    path = target.parent / "model.json"
    if card and not path.exists():
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(card, indent=2) + "\n")


def _update_card(out: Path, card: dict, result: QuantizeResult) -> None:
    if not card:
        return
    card = dict(card)
    existing = [a for a in card.get("artifacts", []) if a.get("precision") != "int8"]
    for item in result.artifacts:
        if item.path:
            existing.append({"format": item.format, "precision": "int8", "path": str(Path(item.path).relative_to(out)),
                             "calibration": result.calibration})
    card["artifacts"] = existing
    with atomic_path(out / "model.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")
