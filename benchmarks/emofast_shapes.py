"""emofast-shaped designs timed as OpenVINO INT8 IRs before any training, in one run beside emonet-resnet10's and
emofast's own INT8 IRs: which plain-conv shape could reach the speed goal of issue #14 (>= 6x emonet's best artifact
at 1 thread) before a 20-minute training run is spent on it.

Every IR goes through edgeemo's own path (convert, then NNCF INT8 with real calibration on the faces' train split)
and is timed with `edgeemo bench`'s protocol (latency mode, batch 1, 1 thread, InferRequest latency) in ``--rounds``
round-robin rounds, each keeping its lowest median. The shapes carry random weights: INT8 speed does not depend on
them, accuracy does (train a shape with a temporary catalog entry to learn that). One machine, one run: the CPU and
its ISA are printed with the figures.

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
    "widths 24-48-96, stem 12": {"widths": [24, 48, 96], "stem": 12},  # scripts/prune_emofast.py's default
    "widths 16-48-128": {"widths": [16, 48, 128]},
}
REFERENCE, BASELINE = "emonet-resnet10", "emofast"


def shape_ir(name: str, kwargs: dict, data: str, work: Path, subset: int) -> tuple[Path, int]:
    """A randomly initialised EmoFast of this shape as an OpenVINO INT8 IR, and its MACC."""
    import torch

    from edgeemo.export.convert import convert
    from edgeemo.models.emofast import EmoFast
    from edgeemo.models.spec import RETAIL_LABELS
    from edgeemo.quantize import QuantizeConfig, quantize
    from edgeemo.sources import Overrides, load_source

    folder = work / name.replace(" ", "").replace(",", "_")
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(EmoFast(**kwargs).state_dict(), folder / "weights.pt")
    overrides = Overrides(input_shape=[1, 1, 64, 64], channel_order="gray", mean=[127.5], scale=[127.5],
                          labels=list(RETAIL_LABELS), resize="crop")
    src = load_source(str(folder / "weights.pt"), overrides, arch="edgeemo.models.emofast:EmoFast", arch_kwargs=kwargs)
    result = convert(src, folder / "fp32", ("openvino",))
    quantize(str(folder / "fp32" / "openvino" / "model.xml"), folder / "int8",
             QuantizeConfig(data=data, subset=subset, formats=("openvino",)))
    return folder / "int8" / "openvino-int8" / "model.xml", result.macc


def zoo_ir(name: str, data: str, work: Path, subset: int) -> tuple[Path, int]:
    """A trained zoo model's OpenVINO INT8 IR (as zoo_compare.py builds it), and its MACC."""
    from edgeemo.quantize import QuantizeConfig, quantize

    quantize(name, work / name, QuantizeConfig(data=data, subset=subset, formats=("openvino",)))
    return work / name / "openvino-int8" / "model.xml", json.loads((work / name / "model.json").read_text())["macc"]


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
        irs = {name: zoo_ir(name, args.data, work, args.subset) for name in (REFERENCE, BASELINE)}
        irs |= {name: shape_ir(name, kwargs, args.data, work, args.subset) for name, kwargs in shapes.items()}
        times = latencies({name: {"int8": xml} for name, (xml, _) in irs.items()}, args.iterations, args.rounds)
    best = {name: t["int8"] for name, t in times.items()}
    reference = best[REFERENCE]
    rows = [{"model": name, "macc": macc, "int8_ms": round(best[name], 4), "speedup_vs_emonet_int8": round(reference / best[name], 2)}
            for name, (_, macc) in irs.items()]
    env = environment()
    if args.json:
        print(json.dumps({"environment": env, "rows": rows}, indent=2))
        return
    print(f"CPU: {env['cpu']} ({env['isa']}), {env['cores']} cores; OpenVINO INT8 IR, 1 thread, batch 1, lowest of "
          f"{args.rounds} medians of {args.iterations}; openvino {env['versions'].get('openvino')}")
    print("| model / emofast shape | MACC | INT8 ms | vs emonet-resnet10 INT8 |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['macc'] / 1e6:.2f}M | {r['int8_ms']:.3f} | {r['speedup_vs_emonet_int8']:.2f}x |")


if __name__ == "__main__":
    main()
