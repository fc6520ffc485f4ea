"""Compare trained zoo models (MACC, params, validation accuracy / macro recall, 1-thread latency FP32 and INT8)
and write the comparison into the compact model's card.

Run: .venv/bin/python benchmarks/zoo_compare.py --data ../shared/data/facial_expressions [--write mini-xception,emolite]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from edgeemo.bench import benchmark
from edgeemo.export.convert import convert
from edgeemo.export.sources import Overrides, load_source
from edgeemo.models import list_models, weights_path, zoo_dir
from edgeemo.quantize import quantize


def measure(name: str, data: str, work: Path) -> dict:
    card = json.loads((zoo_dir() / f"{name}.json").read_text())
    folder = work / name
    convert(load_source(name, Overrides()), folder, ("openvino", "tflite"))
    q = quantize(name, folder, data, "real", artifacts={"openvino": folder / "openvino" / "model.xml",
                                                        "tflite": folder / "model.tflite"})
    row = {"macc": card["macc"], "params": card["params"], "val_accuracy": card["validation"]["accuracy"],
           "val_macro_recall": card["validation"]["macro_recall"],
           "per_class_recall": {k: round(v["recall"], 3) for k, v in card["validation"]["per_class"].items()}}
    for label, path in (("openvino_fp32", folder / "openvino" / "model.xml"), ("openvino_int8", folder / "openvino-int8" / "model.xml"),
                        ("litert_fp32", folder / "model.tflite"), ("litert_int8", folder / "model_int8.tflite")):
        row[f"latency_ms_{label}"] = round(benchmark(str(path), threads=1, iterations=300).latency_ms.median, 4)
    for a in q.artifacts:
        row[f"int8_macro_recall_{a.format}"] = a.int8["macro_recall"] if a.int8 else None
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--write", default="mini-xception,emolite", help="zoo models whose cards get the comparison")
    args = parser.parse_args()
    trained = [n for n in list_models() if weights_path(n)]
    with tempfile.TemporaryDirectory() as tmp:
        rows = {name: measure(name, args.data, Path(tmp)) for name in trained}
    print(json.dumps(rows, indent=2))
    for name in args.write.split(","):
        card_path = zoo_dir() / f"{name}.json"
        card = json.loads(card_path.read_text())
        card["comparison"] = {"measured_on": "1 thread, batch 1, this host's CPU (benchmarks/zoo_compare.py)", "models": rows}
        card_path.write_text(json.dumps(card, indent=2) + "\n")


if __name__ == "__main__":
    main()
