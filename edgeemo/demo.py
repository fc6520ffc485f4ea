"""demo: profile -> convert (verified) -> INT8 -> bench every artifact -> eval (with data) -> report, per model."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from edgeemo.fsutil import atomic_path

DEFAULT_MODELS = ("emonet-resnet10", "mini-xception", "emofast-pruned")


@dataclass
class ModelSummary:
    name: str
    macc: int
    params: int
    fastest: str
    fastest_ms: float
    best_macro_recall: float | None
    int8_macro_recall: float | None
    failed: list[str] = field(default_factory=list)
    noise: str = ""  # other artifacts within noise of the fastest


@dataclass
class DemoResult:
    out: str
    data: str | None
    seconds: float
    report: str
    models: list[ModelSummary]
    steps: list[dict]


RUNS = Path("runs/demo")


def new_run_dir(base: Path = RUNS) -> str:
    """A fresh timestamped run folder under ``base`` (runs are kept apart; ``base/latest`` names the newest)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = base / stamp, 1
    while folder.exists():
        n += 1
        folder = base / f"{stamp}-{n}"
    return str(folder)


def _point_latest(out: Path) -> None:
    """``runs/demo/latest`` -> the newest run, when the run lies under the default base."""
    import os

    if out.parent.resolve() != RUNS.resolve():
        return
    link = out.parent / "latest"
    try:
        if link.is_symlink() or not link.exists():
            tmp = out.parent / f".latest.{os.getpid()}"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(out.name)
            os.replace(tmp, link)
    except OSError:
        pass  # a filesystem without symlinks: the run folder is printed anyway


def run_demo(models: tuple[str, ...] = DEFAULT_MODELS, data: str | None = None, out: str | Path = "runs/demo",
             iterations: int = 100, on_step: Callable[[str], None] = lambda s: None) -> DemoResult:
    from edgeemo.bench import environment
    from edgeemo.bench.matrix import run_matrix, save_matrix
    from edgeemo.export.convert import convert
    from edgeemo.sources import Overrides, load_source
    from edgeemo.profile import profile
    from edgeemo.quantize import QuantizeConfig, quantize
    from edgeemo.report import build_report
    from edgeemo.report.figures import model_figures

    from edgeemo.errors import EdgeemoError

    start = time.perf_counter()
    out = Path(out)
    if (out / "summary.json").exists():
        raise EdgeemoError(f"--out {out}: already holds a demo run; give a new folder, or leave --out out for a "
                           "timestamped one under runs/demo/")
    out.mkdir(parents=True, exist_ok=True)
    steps: list[dict] = []
    summaries: list[ModelSummary] = []

    def step(name: str, fn):
        on_step(name)
        t0 = time.perf_counter()
        value = fn()
        steps.append({"step": name, "seconds": round(time.perf_counter() - t0, 2)})
        return value

    for name in models:
        folder = out / Path(name).stem
        folder.mkdir(parents=True, exist_ok=True)
        cost = step(f"{name}: profile", lambda: profile(name))
        with atomic_path(folder / "profile.json") as tmp:
            tmp.write_text(json.dumps(cost.to_dict(), indent=2) + "\n")
        src = load_source(name, Overrides())
        converted = step(f"{name}: convert to ONNX, OpenVINO IR, TFLite (verified)", lambda: convert(src, folder, data=data))
        fp32 = {a.format: Path(a.path) for a in converted.artifacts if a.passed and a.format in ("openvino", "tflite")}
        calib = "real" if data else "synthetic"
        quantized = step(f"{name}: INT8 ({'real' if data else 'data-free'} calibration)",
                         lambda: quantize(name, folder, QuantizeConfig(data, calib), artifacts=fp32))
        rows = step(f"{name}: bench every artifact" + (" + accuracy" if data else ""),
                    lambda: run_matrix(folder, threads=1, iterations=iterations, data=data))
        save_matrix(rows, folder)
        figures = model_figures(name, [asdict(r) for r in rows])
        failed = [f"{a.format} {a.precision}: {a.error}" for a in converted.artifacts if not a.passed]
        failed += [f"{a.format} int8: {a.error}" for a in quantized.artifacts if a.error]
        if figures.fastest is None:
            raise EdgeemoError(f"{name}: no artifact could be timed: {'; '.join(failed) or 'see bench_matrix.json'}")
        summaries.append(ModelSummary(name, cost.macc, cost.params, figures.fastest_label, figures.fastest["median_ms"],
                                      figures.best_macro_recall, figures.int8_macro_recall, failed, figures.noise_note))
    seconds = time.perf_counter() - start
    summary = {"models": [asdict(s) for s in summaries], "data": data, "seconds": seconds, "steps": steps,
               "environment": environment()}
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    report = step("report", lambda: build_report(out))
    seconds = time.perf_counter() - start
    summary["seconds"] = seconds
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    _point_latest(out)
    return DemoResult(str(out), data, seconds, report["report"], summaries, steps)
