"""emofast-shaped designs timed as INT8 artifacts (an OpenVINO IR and a LiteRT model) before any training, in one run
beside emonet-resnet10's and emofast's own: which plain-conv shape could reach the speed goal of issue #14 (>= 6x
emonet's best artifact at 1 thread) before a training run is spent on it. Which INT8 runtime is faster depends on the
CPU, so both are timed and each model's best is compared.

Every artifact goes through edgeemo's own path (convert, then INT8 with real calibration on the faces' train split:
NNCF for the IR, LiteRT's full-integer path for the .tflite) and is timed with `edgeemo bench`'s protocol (latency
mode, batch 1, 1 thread) in ``--rounds`` round-robin rounds, each keeping its lowest median. The shapes carry random
weights: INT8 speed does not depend on them, accuracy does (train a shape with a temporary catalog entry to learn
that). One machine, one run: the CPU and its ISA are printed with the figures.

    .venv/bin/python benchmarks/emofast_shapes.py --data ../shared/data/facial_expressions [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

SHAPES: dict[str, dict] = {  # EmoFast keyword arguments; emofast itself is stem 16, widths 32-64-128, depths 2-2-2
    "depths 1-2-2": {"depths": [1, 2, 2]},
    "depths 2-2-1": {"depths": [2, 2, 1]},
    "depths 1-2-2, stem 8": {"depths": [1, 2, 2], "stem": 8},
    "depths 1-2-1": {"depths": [1, 2, 1]},
    "depths 1-1-2": {"depths": [1, 1, 2]},
    "depths 1-2-1, widths 32-64-192": {"depths": [1, 2, 1], "widths": [32, 64, 192]},
    "depths 1-1-1, widths 48-96-192": {"depths": [1, 1, 1], "widths": [48, 96, 192]},
    "stem 8": {"stem": 8},
    "widths 24-48-96, stem 12": {"widths": [24, 48, 96], "stem": 12},  # emofast-pruned until 2026-12-06
    "widths 32-48-96": {"widths": [32, 48, 96]},  # emofast-pruned since 2026-12-06 (stem 16)
    "widths 16-48-128": {"widths": [16, 48, 128]},
    "widths 24-48-96, stem 12 2x2/2": {"widths": [24, 48, 96], "stem": 12, "stem_kernel": 2},  # cheaper 64x64 stem
    "widths 16-32-64, stem 8": {"widths": [16, 32, 64], "stem": 8},
}
REFERENCE, BASELINE = "emonet-resnet10", "emofast"


def shape_int8(name: str, kwargs: dict, data: str, work: Path, subset: int) -> tuple[dict[str, Path], int]:
    """A randomly initialised EmoFast of this shape as INT8 artifacts (OpenVINO IR, LiteRT), and its MACC."""
    import torch

    from edgeemo.models.emofast import EmoFast
    from edgeemo.models.spec import RETAIL_LABELS
    from edgeemo.sources import Overrides, load_source

    folder = work / name.replace(" ", "").replace(",", "_")
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(EmoFast(**kwargs).state_dict(), folder / "weights.pt")
    overrides = Overrides(input_shape=[1, 1, 64, 64], channel_order="gray", mean=[127.5], scale=[127.5],
                          labels=list(RETAIL_LABELS), resize="crop")
    src = load_source(str(folder / "weights.pt"), overrides, arch="edgeemo.models.emofast:EmoFast", arch_kwargs=kwargs)
    return _int8(src, str(folder / "openvino" / "model.xml"), folder, data, subset)


def zoo_int8(name: str, data: str, work: Path, subset: int) -> tuple[dict[str, Path], int]:
    """A trained zoo model's INT8 artifacts (as zoo_compare.py builds them), and its MACC."""
    from edgeemo.sources import Overrides, load_source

    return _int8(load_source(name, Overrides()), name, work / name, data, subset)


def _int8(src, ref: str, folder: Path, data: str, subset: int) -> tuple[dict[str, Path], int]:
    """``src`` converted to an IR and a .tflite in ``folder`` and both quantized (``ref``: the model as quantize names
    it); the INT8 artifacts that came out, and the MACC."""
    from edgeemo.export.convert import convert
    from edgeemo.quantize import QuantizeConfig, quantize

    result = convert(src, folder, ("openvino", "tflite"))
    quantize(ref, folder, QuantizeConfig(data=data, subset=subset),
             artifacts={"openvino": folder / "openvino" / "model.xml", "tflite": folder / "model.tflite"})
    paths = {"OpenVINO INT8": folder / "openvino-int8" / "model.xml", "LiteRT INT8": folder / "model_int8.tflite"}
    return {label: path for label, path in paths.items() if path.is_file()}, result.macc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="faces for INT8 calibration (the train split)")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--subset", type=int, default=100, help="calibration images per IR")
    parser.add_argument("--only", action="append", metavar="SHAPE", choices=list(SHAPES),
                        help="time only this shape (repeatable; emonet-resnet10 and emofast are always timed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    shapes = {name: SHAPES[name] for name in args.only} if args.only else SHAPES

    from zoo_compare import latencies  # the same round-robin timing as the zoo's table

    from edgeemo.bench import environment

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        built = {name: zoo_int8(name, args.data, work, args.subset) for name in (REFERENCE, BASELINE)}
        built |= {name: shape_int8(name, kwargs, args.data, work, args.subset) for name, kwargs in shapes.items()}
        times, _ = latencies({name: paths for name, (paths, _) in built.items()}, args.iterations, args.rounds)
    reference = min(times[REFERENCE].values())
    rows = [{"model": name, "macc": macc, "int8_ms": {label: round(ms, 4) for label, ms in times[name].items()},
             "best": min(times[name], key=times[name].get),
             "speedup_vs_emonet_best_int8": round(reference / min(times[name].values()), 2)} for name, (_, macc) in built.items()]
    env = environment()
    if args.json:
        print(json.dumps({"environment": env, "rows": rows}, indent=2))
        return
    print(f"CPU: {env['cpu']} ({env['isa']}), {env['cores']} cores; INT8, 1 thread, batch 1, lowest of {args.rounds} "
          f"medians of {args.iterations}; openvino {env['versions'].get('openvino')}, ai-edge-litert "
          f"{env['versions'].get('ai-edge-litert')}")
    print("| model / emofast shape | MACC | OpenVINO INT8 ms | LiteRT INT8 ms | best vs emonet-resnet10's best INT8 |")
    print("|---|---|---|---|---|")
    for r in rows:
        ms = lambda label: f"{r['int8_ms'][label]:.3f}" if label in r["int8_ms"] else "-"  # noqa: E731
        print(f"| {r['model']} | {r['macc'] / 1e6:.2f}M | {ms('OpenVINO INT8')} | {ms('LiteRT INT8')} | "
              f"{r['speedup_vs_emonet_best_int8']:.2f}x |")


if __name__ == "__main__":
    main()
