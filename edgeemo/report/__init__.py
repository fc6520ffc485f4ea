"""report: one self-contained HTML page (PNGs embedded) from a demo/run folder, plus the PNGs and a combined JSON."""

from __future__ import annotations

import json
from pathlib import Path

from edgeemo.errors import EdgeemoError
from edgeemo.fsutil import atomic_path


def collect(run_dir: str | Path) -> dict:
    """Everything the run wrote: per model its profile, card, convert/quantize reports and bench matrix."""
    run = Path(run_dir)
    if not run.is_dir():
        raise EdgeemoError(f"no such run folder: {run}")
    models = []
    for folder in sorted(p for p in run.iterdir() if p.is_dir() and (p / "model.json").is_file()):
        entry = {"name": folder.name, "dir": str(folder)}
        for key, name in (("card", "model.json"), ("profile", "profile.json"), ("convert", "convert.json"),
                          ("quantize", "quantize.json"), ("matrix", "bench_matrix.json")):
            path = folder / name
            entry[key] = _read_json(path, list if key == "matrix" else dict) if path.is_file() else None
        models.append(entry)
    if not models:
        raise EdgeemoError(f"{run}: no model folders with a model.json (run `edgeemo demo` or `edgeemo convert --out {run}/NAME`)")
    summary_path = run / "summary.json"
    summary = _read_json(summary_path, dict) if summary_path.is_file() else {}
    from edgeemo.bench import environment

    optimized = [_read_json(p, dict) for p in sorted(run.glob("optimize.json")) + sorted(run.glob("*/optimize.json"))]
    return {"run": str(run), "summary": summary, "environment": summary.get("environment") or environment(), "models": models,
            "optimize": optimized}


def _read_json(path: Path, kind: type):
    """A result file of the run folder; truncated, malformed or of the wrong shape is one line."""
    try:
        value = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EdgeemoError(f"{path}: not valid JSON (truncated or edited?): {exc}") from exc
    if not isinstance(value, kind) or (kind is list and not all(isinstance(v, dict) for v in value)):
        raise EdgeemoError(f"{path}: not an edgeemo result file (expected a JSON {'list of objects' if kind is list else 'object'})")
    return value


def build_report(run_dir: str | Path) -> dict:
    """Write report.html, the PNGs and report.json into the run folder; return the combined results."""
    from edgeemo.report.html import render
    from edgeemo.report.plots import FIGURE_TEXT, make_plots

    results = collect(run_dir)
    run = Path(run_dir)
    try:
        FIGURE_TEXT.clear()
        pngs = make_plots(results, run)
        results["figure_text"] = {name: FIGURE_TEXT.get(path.name, []) for name, path in pngs.items()}
        html = render(results, pngs)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise EdgeemoError(f"{run}: its result files do not hold what edgeemo wrote ({type(exc).__name__}: {exc})") from exc
    with atomic_path(run / "report.html") as tmp:
        tmp.write_text(html)
    with atomic_path(run / "report.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2) + "\n")
    results["report"] = str(run / "report.html")
    results["pngs"] = [str(p) for p in pngs.values()]
    return results
