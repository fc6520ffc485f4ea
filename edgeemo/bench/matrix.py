"""Every artifact of a convert/quantize folder x the runtimes that can run it -> one comparison table."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from edgeemo.formats import folder_artifacts, format_of
from edgeemo.fsutil import artifact_bytes, atomic_path

ARTIFACTS = folder_artifacts()  # (relative path, format, precision, runtimes that read it): edgeemo.formats


@dataclass
class MatrixRow:
    format: str
    precision: str
    runtime: str
    device: str
    path: str
    macc: int | None
    params: int | None
    bytes: int
    median_ms: float | None
    p99_ms: float | None
    fps: float | None  # 1000 / median: the FPS of the median beside it
    compute_precision: str | None
    accuracy: float | None = None
    macro_recall: float | None = None
    confusion: list[list[int]] | None = None
    labels: list[str] | None = None
    error: str | None = None
    p90_ms: float | None = None


def _folder_of(artifact: Path) -> Path:
    """The convert/quantize folder an artifact sits in (openvino/model.xml: two levels up)."""
    rel = next((Path(r) for r, *_ in ARTIFACTS if artifact.as_posix().endswith("/" + r)), Path(artifact.name))
    return artifact.parents[len(rel.parts) - 1]


def run_matrix(folder: str | Path, threads: int | None = 1, iterations: int = 200, data: str | None = None,
               device: str = "CPU", classes: list[str] | None = None, precision: str | None = None,
               on_step: Callable[[str], None] = lambda s: None) -> list[MatrixRow]:
    """Latency and (with ``data``) accuracy of every artifact in every runtime that reads it; both figures of a row come
    from the same runtime, device and compute precision (``precision``: OpenVINO's hint; None: the device's own)."""
    from edgeemo.bench import benchmark
    from edgeemo.errors import EdgeemoError

    folder = Path(folder)
    card_path = folder / "model.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    found = [(folder / rel, fmt, prec, rts) for rel, fmt, prec, rts in ARTIFACTS if (folder / rel).is_file()]
    if not found:
        if folder.is_file() and format_of(folder) is not None:
            raise EdgeemoError(f"--matrix takes the folder of artifacts, not one of them: bench --matrix {_folder_of(folder)}")
        if not folder.is_dir():  # a zoo name or a model file: --matrix reads a convert/quantize folder
            raise EdgeemoError(f"--matrix takes a folder of artifacts, not {folder}: make one with `edgeemo convert {folder} "
                               f"--out DIR` (and `edgeemo quantize {folder} --out DIR` for INT8), or let `edgeemo optimize "
                               f"{folder}` convert, quantize and time every candidate for a target")
        raise EdgeemoError(f"{folder}: no artifacts (model.onnx, openvino/model.xml, model.tflite, ...); run `edgeemo convert` first")
    rows: list[MatrixRow] = []
    accuracy_cache: dict[tuple, tuple] = {}
    for path, fmt, prec, runtimes in found:
        size = artifact_bytes(path)
        for runtime in runtimes:
            on_step(f"{path.relative_to(folder)} on {runtime}")
            on = device if runtime == "openvino" else "CPU"
            hint = precision if runtime == "openvino" else None
            row = MatrixRow(fmt, prec, runtime, on, str(path.relative_to(folder)),
                            card.get("macc"), card.get("params"), size, None, None, None, None)
            try:
                r = benchmark(str(path), runtime, on, threads=threads, iterations=iterations, precision=hint)
                row.median_ms, row.p90_ms, row.p99_ms = r.latency_ms.median, r.latency_ms.p90, r.latency_ms.p99
                row.fps = 1000.0 / r.latency_ms.median
                row.compute_precision = r.precision
                if data:
                    key = (str(path), runtime, on, hint)
                    if key not in accuracy_cache:
                        from edgeemo.evaluate import evaluate
                        from edgeemo.predictor import load_predictor

                        predictor = load_predictor(str(path), device=on, runtime=runtime, precision=hint)
                        e = evaluate(predictor, data, "val", classes)
                        accuracy_cache[key] = (e.accuracy, e.macro_recall, e.confusion, e.labels)
                    row.accuracy, row.macro_recall, row.confusion, row.labels = accuracy_cache[key]
            except EdgeemoError as exc:
                row.error = str(exc)
            rows.append(row)
    return rows


def save_matrix(rows: list[MatrixRow], folder: str | Path) -> tuple[Path, Path]:
    folder = Path(folder)
    data = [asdict(r) for r in rows]
    with atomic_path(folder / "bench_matrix.json") as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(data[0]))
    writer.writeheader()
    writer.writerows(data)
    with atomic_path(folder / "bench_matrix.csv") as tmp:
        tmp.write_text(buf.getvalue())
    return folder / "bench_matrix.json", folder / "bench_matrix.csv"
