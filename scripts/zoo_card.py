"""Measure a zoo model's card figures and write them into models/NAME.json.

- ``validation``: the model's own validation split of the training data (what training chose the epoch on);
- ``test``: its held-out test split (never trained on, never used for a choice), when it was trained with one;
- ``cross_domain``: ``ckplus48_dev`` (posed, lab-lit, grayscale CK+ faces: validation only, never trained on).

Each figure comes from ``edgeemo.evaluate`` through the model's PyTorch weights, as `edgeemo eval` computes it, so
`tests/test_train.py` can check the card against a fresh evaluation.

    .venv/bin/python scripts/zoo_card.py mini-xception --data ../shared/data/facial_expressions \\
        --cross-domain ../shared/data/ckplus48_dev [--weights runs/train/weights.pt --trained-card runs/train/model.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def figures(result) -> dict:
    return {"images": result.n, "accuracy": round(result.accuracy, 4), "macro_recall": round(result.macro_recall, 4),
            "macro_f1": round(result.macro_f1, 4),
            "per_class_recall": {k: round(v.recall, 4) for k, v in result.per_class.items()},
            "confusion": result.confusion}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--data", required=True)
    parser.add_argument("--cross-domain", required=True)
    parser.add_argument("--weights", help="install these trained weights (and their training card) as the zoo's first")
    parser.add_argument("--trained-card", help="model.json written by `edgeemo train` for --weights")
    parser.add_argument("--teachers", default="", help="JSON list of {name, package, licence, role}")
    args = parser.parse_args()

    from edgeemo.evaluate import evaluate
    from edgeemo.models import zoo_dir
    from edgeemo.predictor import load_predictor

    card_path = zoo_dir() / f"{args.name}.json"
    if args.weights:
        shutil.copyfile(args.weights, zoo_dir() / f"{args.name}.pt")
        card = json.loads(Path(args.trained_card).read_text())
        card["weights"] = f"{args.name}.pt (state dict, FP16 storage)"
        card.pop("comparison", None)
        card.pop("goal", None)
    else:
        card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps(card, indent=2) + "\n")  # the split facts must be in place before evaluating
    predictor = load_predictor(args.name)
    card["validation"] = {**card.get("validation", {}), **figures(evaluate(predictor, args.data, "val"))}
    split = card["data"].get("split_fractions", {})
    if split.get("test"):
        card["test"] = {**figures(evaluate(predictor, args.data, "test")),
                        "note": "held-out split: never trained on, never used to stop or choose"}
    else:
        card["test"] = None
        card.setdefault("notes", []).append("trained on a two-way split: no held-out test split of this dataset")
    card["cross_domain"] = {**figures(evaluate(predictor, args.cross_domain, "all")),
                            "data": "ckplus48_dev (CK+ dev half: posed, lab-lit, grayscale; validation only, never trained on)"}
    if args.teachers:
        card["teachers"] = json.loads(args.teachers)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps({k: card[k] and {m: card[k][m] for m in ("accuracy", "macro_recall", "per_class_recall")}
                      for k in ("validation", "test", "cross_domain")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
