"""Every trained zoo model side by side, in one run: held-out and cross-domain accuracy (from the model cards, which
tests/test_train.py re-measures), anger/sad recall, MACC, and the best artifact's 1-thread latency on this CPU with
its ratio to emonet-resnet10's best (the retail-0003 architecture).

Candidates per model: OpenVINO IR FP32 and INT8, ONNX Runtime FP32, LiteRT FP32 and INT8 (INT8 calibrated on the
model's own training split), each timed with `edgeemo bench`'s protocol (latency mode, batch 1, 1 thread) in
``--rounds`` round-robin rounds over every artifact, keeping each one's lowest median. The
accuracy columns are the cards' FP32 PyTorch figures; every artifact's macro-recall drop under them on the model's
val split, run as it is timed (same runtime, the device's own compute precision: bf16 for OpenVINO's FP32 IR on a CPU
with AMX, as benchmark_app), is printed beside them, so a fast artifact cannot hide what it costs.
Figures from one run on one machine only; the CPU and its ISA are printed with them.

    .venv/bin/python benchmarks/zoo_compare.py --data ../shared/data/facial_expressions [--iterations 300] [--rounds 3] [--json]
        [--models mini-xception,...]   (emonet-resnet10, the reference, is always measured)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from edgeemo.bench import benchmark, environment
from edgeemo.evaluate import evaluate
from edgeemo.export.convert import convert
from edgeemo.predictor import load_predictor
from edgeemo.sources import Overrides, load_source
from edgeemo.models import list_models, weights_path, zoo_dir
from edgeemo.quantize import QuantizeConfig, quantize

REFERENCE = "emonet-resnet10"


def artifacts(name: str, data: str, work: Path, subset: int) -> tuple[dict[str, Path], dict[str, float]]:
    """The five candidate artifacts of a zoo model, and each one's val macro-recall drop (points) under the card's
    FP32 PyTorch figure, measured in the runtime and compute precision it is timed in."""
    folder = work / name
    convert(load_source(name, Overrides()), folder, ("onnx", "openvino", "tflite"))
    quantize(name, folder, QuantizeConfig(data=data, subset=subset),
             artifacts={"openvino": folder / "openvino" / "model.xml", "tflite": folder / "model.tflite"})
    candidates = {"OpenVINO FP32": folder / "openvino" / "model.xml", "OpenVINO INT8": folder / "openvino-int8" / "model.xml",
                  "ONNX Runtime FP32": folder / "model.onnx", "LiteRT FP32": folder / "model.tflite",
                  "LiteRT INT8": folder / "model_int8.tflite"}
    candidates = {label: path for label, path in candidates.items() if path.is_file()}
    card_val = json.loads((zoo_dir() / f"{name}.json").read_text())["validation"]["macro_recall"]
    drops = {label: round(100 * (card_val - evaluate(load_predictor(str(path)), data, "val").macro_recall), 2)
             for label, path in candidates.items()}
    return candidates, drops


def latencies(candidates: dict[str, dict[str, Path]], iterations: int,
              rounds: int) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
    """Per model and artifact, the lowest of ``rounds`` medians (1 thread, batch 1), the rounds taken round-robin over
    every artifact of every model: a burst of load on a shared machine then hits all of them alike, not one; and the
    compute precision each ran in."""
    best: dict[str, dict[str, float]] = {name: {} for name in candidates}
    computes: dict[str, dict[str, str]] = {name: {} for name in candidates}
    for _ in range(rounds):
        for name, paths in candidates.items():
            for label, path in paths.items():
                result = benchmark(str(path), threads=1, iterations=iterations)
                ms = result.latency_ms.median
                best[name][label] = round(min(ms, best[name].get(label, ms)), 4)
                computes[name][label] = result.precision
    return best, computes


def row(name: str, times: dict[str, float], drops: dict[str, float], computes: dict[str, str]) -> dict:
    card = json.loads((zoo_dir() / f"{name}.json").read_text())
    test, cross, val = card.get("test"), card.get("cross_domain") or {}, card.get("validation") or {}
    best = min(times, key=times.get)
    return {"model": name, "macc": card["macc"],
            "held_out": {"split": "test" if test else "val (selected on: no held-out split)",
                         "accuracy": (test or val).get("accuracy"), "macro_recall": (test or val).get("macro_recall"),
                         "anger": (test or val).get("per_class_recall", {}).get("anger") if test else
                         val.get("per_class", {}).get("anger", {}).get("recall"),
                         "sad": (test or val).get("per_class_recall", {}).get("sad") if test else
                         val.get("per_class", {}).get("sad", {}).get("recall")},
            "cross_domain": {"accuracy": cross.get("accuracy"), "macro_recall": cross.get("macro_recall"),
                             "anger": cross.get("per_class_recall", {}).get("anger"), "sad": cross.get("per_class_recall", {}).get("sad")},
            "latency_ms": times, "computes": computes, "val_drop_pt": drops, "best": best, "best_ms": times[best],
            "best_computes": computes.get(best), "best_val_drop_pt": drops.get(best)}


def fmt(v, f="{:.3f}") -> str:
    return f.format(v + 0.0) if isinstance(v, (int, float)) else "-"  # + 0.0 turns -0.0 into 0.0


def points(v: float) -> str:
    return f"{round(v, 1) + 0.0:.1f}"  # -0.01 as 0.0, not -0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the training dataset (INT8 calibration on each model's own train split)")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds over all artifacts; each keeps its lowest median")
    parser.add_argument("--subset", type=int, default=300, help="INT8 calibration images per model")
    parser.add_argument("--models", help="comma-separated trained zoo models (default: all of them)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trained = [n for n in list_models() if weights_path(n)]
    if args.models:
        wanted = [m.strip() for m in args.models.split(",")]
        if unknown := [m for m in wanted if m not in trained]:
            parser.error(f"--models: {', '.join(unknown)} not a trained zoo model ({', '.join(trained)})")
        trained = [n for n in trained if n in wanted or n == REFERENCE]
    with tempfile.TemporaryDirectory() as tmp:
        built = {name: artifacts(name, args.data, Path(tmp), args.subset) for name in trained}
        times, computes = latencies({name: paths for name, (paths, _) in built.items()}, args.iterations, args.rounds)
        rows = [row(name, times[name], drops, computes[name]) for name, (_, drops) in built.items()]
    reference = next(r["best_ms"] for r in rows if r["model"] == REFERENCE)
    for r in rows:
        r["speedup_vs_emonet_best"] = round(reference / r["best_ms"], 2)
    env = environment()
    if args.json:
        print(json.dumps({"environment": env, "rows": rows}, indent=2))
        return
    print(f"CPU: {env['cpu']} ({env['isa']}), {env['cores']} cores; 1 thread, batch 1, best of {args.rounds} rounds of "
          f"{args.iterations}; "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print("| model | MACC | held-out split | acc / macro recall | anger / sad recall | cross-domain (CK+ dev) acc / macro recall "
          "| anger / sad recall | best artifact (computes in) | ms | speed-up vs emonet's best | its val macro-recall drop |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        h, c = r["held_out"], r["cross_domain"]
        print(f"| {r['model']} | {r['macc'] / 1e6:.1f}M | {h['split']} | {fmt(h['accuracy'])} / {fmt(h['macro_recall'])} | "
              f"{fmt(h['anger'], '{:.2f}')} / {fmt(h['sad'], '{:.2f}')} | {fmt(c['accuracy'])} / {fmt(c['macro_recall'])} | "
              f"{fmt(c['anger'], '{:.2f}')} / {fmt(c['sad'], '{:.2f}')} | {r['best']} ({r['best_computes']}) | "
              f"{r['best_ms']:.3f} | {r['speedup_vs_emonet_best']:.2f}x | {points(r['best_val_drop_pt'])} pt |")
    print()
    print("all candidates (ms, lowest median of the rounds; what it computes in): "
          + "; ".join(f"{r['model']}: " + ", ".join(f"{k} {v:.3f} ({r['computes'][k]})" for k, v in r["latency_ms"].items())
                      for r in rows))
    print("val macro-recall drop under the card's FP32 PyTorch figure, each artifact run as timed (points): "
          + "; ".join(f"{r['model']}: " + ", ".join(f"{k} {points(v)}" for k, v in r["val_drop_pt"].items()) for r in rows))


if __name__ == "__main__":
    main()
