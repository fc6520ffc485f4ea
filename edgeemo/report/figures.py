"""The derived figures of a run, computed once from the bench matrix and read by the report's tables, text and plots
and by the demo summary: fastest artifact (and those within noise of it), FPS, INT8-vs-FP32 latency ratios."""

from __future__ import annotations

from dataclasses import dataclass, field

NOISE = 0.05  # two medians closer than 5% (or than the faster one's p90 spread) are not told apart


@dataclass
class Int8Ratio:
    format: str
    runtime: str
    fp32_ms: float
    int8_ms: float

    @property
    def ratio(self) -> float:
        """INT8 median / FP32 median on the same runtime: < 1 means INT8 is faster."""
        return self.int8_ms / self.fp32_ms


@dataclass
class ModelFigures:
    name: str
    fastest: dict | None  # the matrix row with the lowest median
    ties: list[dict] = field(default_factory=list)  # other rows within noise of the fastest
    int8: list[Int8Ratio] = field(default_factory=list)
    best_macro_recall: float | None = None
    int8_macro_recall: float | None = None

    @property
    def fastest_label(self) -> str:
        return row_label(self.fastest) if self.fastest else "-"

    @property
    def fastest_fps(self) -> float | None:
        return fps(self.fastest) if self.fastest else None

    @property
    def noise_note(self) -> str:
        """'' or 'within noise of: ...': the pick is not settled by this run's timings."""
        return f"within noise of: {', '.join(row_label(r) for r in self.ties)}" if self.ties else ""


NATIVE_RUNTIME = {"onnx": "onnxruntime", "openvino": "openvino", "tflite": "litert"}


def row_label(row: dict) -> str:
    """'openvino int8', or 'onnx fp32 via openvino' when a runtime other than the format's own ran it."""
    via = "" if NATIVE_RUNTIME.get(row["format"]) == row["runtime"] else f" via {row['runtime']}"
    return f"{row['format']} {row['precision']}{via}"


def fps(row: dict) -> float | None:
    """Frames per second from the row's median (the figure beside it in every table), batch 1."""
    return 1000.0 / row["median_ms"] if row.get("median_ms") else None


def within_noise(fastest: dict, other: dict) -> bool:
    spread = max(NOISE * fastest["median_ms"], (fastest.get("p90_ms") or fastest["median_ms"]) - fastest["median_ms"])
    return other["median_ms"] - fastest["median_ms"] <= spread


def model_figures(name: str, matrix: list[dict] | None) -> ModelFigures:
    rows = [r for r in (matrix or []) if r.get("median_ms")]
    figures = ModelFigures(name, None)
    if not rows:
        return figures
    ordered = sorted(rows, key=lambda r: r["median_ms"])
    figures.fastest = ordered[0]
    figures.ties = [r for r in ordered[1:] if within_noise(ordered[0], r)]
    by_key = {(r["format"], r["runtime"], r["precision"]): r for r in rows}
    for (fmt, runtime, precision), r in by_key.items():
        base = by_key.get((fmt, runtime, "fp32"))
        if precision == "int8" and base is not None:
            figures.int8.append(Int8Ratio(fmt, runtime, base["median_ms"], r["median_ms"]))
    recalls = [r["macro_recall"] for r in rows if r.get("macro_recall") is not None]
    int8 = [r["macro_recall"] for r in rows if r["precision"] == "int8" and r.get("macro_recall") is not None]
    figures.best_macro_recall = max(recalls) if recalls else None
    figures.int8_macro_recall = max(int8) if int8 else None
    return figures
