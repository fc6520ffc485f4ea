"""``edgeemo optimize``: the fastest artifact that keeps its accuracy on a target, found by measuring.

Candidates are the target's format at each precision it allows (FP32, FP16, INT8 post-training; INT8 with NNCF
accuracy control when asked), each measured with the one bench protocol at the target's thread count (capped at this
host's cores) and for accuracy on the validation split of ``data`` in the same runtime and compute precision. The
choice is the fastest candidate whose macro-recall drop against the FP32 artifact is within ``max_drop`` points (and
within ``budget_ms``); every faster one is listed with why it was rejected. Results are cached by artifact hash in the
output folder, so a second run measures nothing twice. Without data, top-1 agreement with the FP32 artifact on
synthetic inputs stands in for accuracy, and says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from edgeemo.errors import EdgeemoError
from edgeemo.fsutil import atomic_path

CACHE = "optimize-cache.json"


@dataclass
class Candidate:
    name: str  # e.g. "openvino int8 (PTQ)"
    format: str
    precision: str
    method: str  # convert, ptq, accuracy-control
    path: str
    sha256: str
    runtime: str
    device: str
    threads: int | None
    median_ms: float | None = None
    p90_ms: float | None = None
    computes: str | None = None  # the compute precision the runtime reported
    accuracy: float | None = None
    macro_recall: float | None = None
    agreement: float | None = None  # top-1 agreement with the FP32 artifact (the no-data proxy)
    drop: float | None = None  # points of the accuracy measure below the FP32 artifact
    verdict: str = ""  # chosen / rejected: why / slower
    cached: bool = False
    error: str | None = None


@dataclass
class OptimizeResult:
    model: str
    target: str
    out: str
    measure: str  # what "accuracy" means in this run
    max_drop: float
    budget_ms: float | None
    host: str
    provisional: str | None  # why the latencies are not the target's own
    candidates: list[Candidate]
    chosen: str | None
    chosen_path: str | None
    bundle: str | None
    seconds: float
    environment: dict = field(default_factory=dict)
    measured_on: str = "this host"  # or the device reached with --remote

    def to_dict(self) -> dict:
        return asdict(self)


def file_digest(path: Path) -> str:
    """SHA-256 of an artifact with its weights (.xml + .bin)."""
    h = hashlib.sha256()
    for p in [path] + ([path.with_suffix(".bin")] if path.suffix == ".xml" else []):
        h.update(p.read_bytes())
    return h.hexdigest()


def optimize(ref: str, target_name: str, out: str | Path, data: str | None = None, max_drop: float = 1.0,
             budget_ms: float | None = None, accuracy_control: bool = False, iterations: int = 200,
             limit: int | None = None, sign_key: str | None = None, source=None, remote=None,
             on_step: Callable[[str], None] = lambda s: None) -> OptimizeResult:
    """Search the target's candidates for ``ref`` (a zoo name or any model ``convert`` takes; ``source``: an already
    opened SourceModel for models that need flags; ``remote``: a RemoteHost — each candidate is bundled for the target
    and timed there by the bundle's runner.py bench, accuracy stays measured here). Writes optimize.json/.csv/.png, the
    chosen artifact with its card and a deploy bundle for the target into ``out``."""
    from edgeemo.bench import environment
    from edgeemo.resolve import FORMAT_FOR_RUNTIME
    from edgeemo.runtime.openvino import devices
    from edgeemo.targets import load_target

    start = time.perf_counter()
    target = load_target(target_name)
    if max_drop < 0:
        raise EdgeemoError(f"--max-drop {max_drop}: points of macro recall, 0 or more")
    if data:
        from edgeemo.data import load_dataset

        load_dataset(data)  # unusable data fails before any work
    fmt = FORMAT_FOR_RUNTIME[target.runtime]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache = _read_cache(out / CACHE)
    threads = min(target.threads or 1, os.cpu_count() or 1)
    present = devices() if target.runtime == "openvino" else ["CPU"]
    device = target.device if target.device in present else "CPU"
    provisional = None if remote is not None else target.host_note(present)
    where = f"remote:{remote.destination}" if remote is not None else "local"

    artifacts = _artifacts(ref, source, target, fmt, out / "artifacts", data, accuracy_control, max_drop, cache, on_step)
    measure = (f"macro recall on the validation split of {data}" + (f" (at most {limit} images)" if limit else "") if data
               else "top-1 agreement with the FP32 artifact on 64 synthetic inputs (a proxy: no --data given)")
    candidates = []
    for name, (precision, method, path) in artifacts.items():
        c = Candidate(name, fmt, precision, method, str(path), file_digest(path), target.runtime,
                      device if target.runtime == "openvino" else "CPU", threads)
        key = f"{c.sha256}:{c.runtime}:{c.device}:{threads}:{iterations}:{data}:{limit}:{where}"
        if key in cache.get("measurements", {}):
            for k, v in cache["measurements"][key].items():
                setattr(c, k, v)
            c.cached = True
        else:
            on_step(f"measuring {name}")
            _measure(c, iterations, data, limit, remote, target.name)
            cache.setdefault("measurements", {})[key] = {k: getattr(c, k) for k in (
                "median_ms", "p90_ms", "computes", "accuracy", "macro_recall", "error")}
            _write_cache(out / CACHE, cache)
        candidates.append(c)
    if not data:
        _agreement(candidates)
    chosen = _choose(candidates, max_drop, budget_ms, bool(data))
    bundle = None
    chosen_path = None
    if chosen is not None:
        on_step(f"bundle for {target.name}")
        chosen_path, bundle = _ship(chosen, out, target.name, data, sign_key)
    env = environment()
    result = OptimizeResult(ref, target.name, str(out), measure, max_drop, budget_ms, f"{env['cpu']} ({env['isa']})",
                            provisional, candidates, chosen.name if chosen else None, chosen_path, bundle,
                            time.perf_counter() - start, env,
                            measured_on=f"{remote.destination} (--remote; accuracy measured here)" if remote else "this host")
    _write_outputs(result, out)
    return result


def _artifacts(ref, source, target, fmt: str, folder: Path, data, accuracy_control: bool, max_drop: float, cache: dict,
               on_step) -> dict[str, tuple[str, str, Path]]:
    """name -> (precision, method, path) for every candidate the target can run; reused from the cache when the
    source's weights are unchanged (the source hash is recorded)."""
    from edgeemo.formats import FORMATS
    from edgeemo.resolve import source_sha256

    digest = source_sha256(ref) if source is None else None
    names = FORMATS[fmt].files
    wanted = {"fp32": ("convert", names["fp32"])}
    if "fp16" in target.precisions and "fp16" in names:
        wanted["fp16"] = ("convert", names["fp16"])
    if "int8" in target.precisions:
        wanted["int8"] = ("ptq", names["int8"])
    made = cache.get("artifacts", {})
    if digest and made.get("source_sha256") == digest and made.get("data") == data and all(
            (folder / rel).is_file() for _, rel in wanted.values()) and (not accuracy_control or made.get("ac")):
        found = {f"{fmt} {p} ({m})": (p, m, folder / rel) for p, (m, rel) in wanted.items()}
        if accuracy_control:
            found[f"{fmt} int8 (accuracy control)"] = ("int8", "accuracy-control", folder / "ac" / names["int8"])
        return found
    from edgeemo.export.convert import convert
    from edgeemo.sources import Overrides, load_source
    from edgeemo.quantize import QuantizeConfig, quantize

    if folder.exists():
        shutil.rmtree(folder)
    on_step(f"convert to {fmt}" + (" fp32 + fp16" if "fp16" in wanted else ""))
    src = source or load_source(ref, Overrides())
    result = convert(src, folder, (fmt,), fp16="fp16" in wanted)
    if result.failed:
        raise EdgeemoError(result.failed[0].error or "conversion failed")
    fp32 = folder / names["fp32"]
    found = {f"{fmt} {p} (convert)": (p, "convert", folder / names[p]) for p in ("fp32", "fp16") if p in wanted}
    if "int8" in wanted:
        on_step(f"{fmt} INT8 post-training quantization")
        q = quantize(str(fp32), folder, QuantizeConfig(data, "real" if data else "synthetic", formats=(fmt,)), artifacts={fmt: fp32},
                     source=src, on_step=lambda s: on_step(f"INT8: {s}"))
        item = q.artifacts[0]
        if item.error:
            raise EdgeemoError(f"{fmt} INT8: {item.error}")
        found[f"{fmt} int8 (ptq)"] = ("int8", "ptq", folder / names["int8"])
        if accuracy_control:
            if not data or fmt != "openvino":
                raise EdgeemoError("--accuracy-control needs --data and an OpenVINO target (NNCF's accuracy control)")
            on_step("INT8 with accuracy control")
            ac = folder / "ac"
            ac.mkdir()
            shutil.copyfile(folder / "model.json", ac / "model.json")
            quantize(str(fp32), ac, QuantizeConfig(data, "real", formats=(fmt,), max_drop=max_drop), artifacts={fmt: fp32}, source=src,
                     on_step=lambda s: on_step(f"INT8 (accuracy control): {s}"))
            found[f"{fmt} int8 (accuracy control)"] = ("int8", "accuracy-control", ac / names["int8"])
    cache["artifacts"] = {"source_sha256": digest, "data": data, "ac": accuracy_control}
    return found


def _measure(c: Candidate, iterations: int, data: str | None, limit: int | None, remote=None, target: str = "") -> None:
    from edgeemo.bench import benchmark

    try:
        if remote is not None:  # the device's own figure, from the bundle's runner.py bench
            from edgeemo.deploy.remote import bench_on_device

            b = bench_on_device(c.path, target, remote, threads=c.threads, iterations=iterations)["bench"]
            c.median_ms, c.p90_ms, c.computes = b["latency_ms"]["median"], b["latency_ms"]["p90"], b.get("precision")
        else:
            r = benchmark(c.path, c.runtime, c.device, threads=c.threads, iterations=iterations)
            c.median_ms, c.p90_ms, c.computes = r.latency_ms.median, r.latency_ms.p90, r.precision
        if data:
            from edgeemo.evaluate import evaluate
            from edgeemo.predictor import load_predictor

            e = evaluate(load_predictor(c.path, device=c.device, runtime=c.runtime, threads=c.threads), data, "val", limit=limit)
            c.accuracy, c.macro_recall = e.accuracy, e.macro_recall
    except EdgeemoError as exc:
        c.error = str(exc)


def _agreement(candidates: list[Candidate]) -> None:
    """Top-1 agreement of each candidate with the FP32 one on synthetic inputs (when there is no data)."""
    from edgeemo.data.preprocess import synthetic_batch
    from edgeemo.predictor import load_predictor

    base = next((c for c in candidates if c.precision == "fp32" and not c.error), None)
    if base is None:
        return
    reference = load_predictor(base.path, device=base.device, runtime=base.runtime)
    x = synthetic_batch(reference.spec, 64)
    top = reference.predict(x).argmax(1)
    for c in candidates:
        if not c.error:
            c.agreement = float((load_predictor(c.path, device=c.device, runtime=c.runtime).predict(x).argmax(1) == top).mean())


def _choose(candidates: list[Candidate], max_drop: float, budget_ms: float | None, with_data: bool) -> Candidate | None:
    """The fastest candidate within the drop (and budget); every faster one says why it lost."""
    base = next((c for c in candidates if c.precision == "fp32" and not c.error), None)
    for c in candidates:
        if c.error or base is None:
            continue
        c.drop = (100 * (base.macro_recall - c.macro_recall) if with_data and c.macro_recall is not None
                  else 100 * (1 - (c.agreement if c.agreement is not None else 1.0)))
    ok = [c for c in candidates if not c.error and c.median_ms is not None and c.drop is not None
          and c.drop <= max_drop + 1e-9 and (budget_ms is None or c.median_ms <= budget_ms)]
    chosen = min(ok, key=lambda c: c.median_ms) if ok else None
    for c in sorted(candidates, key=lambda c: c.median_ms if c.median_ms is not None else float("inf")):
        if c.error:
            c.verdict = f"failed: {c.error}"
        elif c is chosen:
            c.verdict = "chosen: fastest within the drop" + (" and the budget" if budget_ms else "")
        elif c.drop is not None and c.drop > max_drop + 1e-9:
            c.verdict = f"rejected: {'macro recall' if with_data else 'agreement'} drop {c.drop:.2f} pt > {max_drop:g}"
        elif budget_ms is not None and c.median_ms > budget_ms:
            c.verdict = f"rejected: {c.median_ms:.3f} ms over the {budget_ms:g} ms budget"
        else:
            c.verdict = "slower than the chosen one"
    return chosen


def _ship(chosen: Candidate, out: Path, target: str, data: str | None, sign_key: str | None) -> tuple[str, str]:
    """The chosen artifact (with its card) under out/chosen/, and a deploy bundle for the target."""
    from edgeemo.deploy import build_bundle
    from edgeemo.predictor import find_card

    folder = out / "chosen"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    src = Path(chosen.path)
    for p in [src] + ([src.with_suffix(".bin")] if src.suffix == ".xml" else []):
        shutil.copyfile(p, folder / p.name)
    card = find_card(src)
    if card is not None:
        (folder / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    bundle = out / f"{target}.tar.gz"
    build_bundle(str(folder / src.name), target, bundle, sign_key=sign_key, data=data)
    return str(folder / src.name), str(bundle)


def _read_cache(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, cache: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(cache, indent=1) + "\n")


def _write_outputs(result: OptimizeResult, out: Path) -> None:
    with atomic_path(out / "optimize.json") as tmp:
        tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    rows = [asdict(c) for c in result.candidates]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["name"])
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(out / "optimize.csv") as tmp:
        tmp.write_text(buf.getvalue())
    _plot(result, out / "optimize.png")


def _plot(result: OptimizeResult, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    points = [c for c in result.candidates if c.median_ms is not None and not c.error]
    if not points:
        return
    y = [(c.macro_recall if c.macro_recall is not None else c.agreement) or 0.0 for c in points]
    fig, ax = plt.subplots(figsize=(6, 4))
    for c, v in zip(points, y):
        chosen = c.name == result.chosen
        ax.scatter(c.median_ms, v, s=80 if chosen else 40, marker="*" if chosen else "o", zorder=3)
        ax.annotate(c.name + (" (chosen)" if chosen else ""), (c.median_ms, v), textcoords="offset points", xytext=(5, 4), fontsize=8)
    if result.budget_ms:
        ax.axvline(result.budget_ms, color="grey", ls="--", lw=0.8, label=f"budget {result.budget_ms:g} ms")
        ax.legend(fontsize=8)
    ax.set_xlabel(f"median latency, ms ({result.target}, {points[0].threads} thread(s)" + (", host figure" if result.provisional else "") + ")")
    ax.set_ylabel("macro recall" if "macro recall" in result.measure else "top-1 agreement with FP32")
    ax.set_title(f"{result.model} on {result.target}: latency vs accuracy", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
