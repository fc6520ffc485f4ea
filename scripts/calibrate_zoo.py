"""Temperature-scale a zoo model's committed weights on its own validation split, as `edgeemo train` now does at the
end of training (edgeemo.train.calibrate), and record it in models/NAME.json.

The zoo's weights were trained before training calibrated them: balanced sampling, logit adjustment, label smoothing
and soft teachers left them under-confident (a third of emofast-pruned's validation faces under probability 0.5,
which the kiosk counts as "uncertain"). The temperature is fitted only on the validation split of the dataset the card
says the model was trained on (the split its epoch was chosen on; any other folder is refused), so no held-out face
plays a part. No predicted class changes, so the card's figures stand (the script re-measures the validation split
and says so).

    .venv/bin/python scripts/calibrate_zoo.py emofast-pruned mini-xception --data ../shared/data/facial_expressions
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--data", required=True, help="the dataset the models were trained on (their cards' split)")
    args = parser.parse_args()

    import torch

    from edgeemo.data.preprocess import normalize
    from edgeemo.evaluate import plan_split, prepare
    from edgeemo.models import create_model, get_spec, weights_path, zoo_dir
    from edgeemo.train.trainer import _load_pixels, _validate, calibrate_weights

    for name in args.names:
        card_path = zoo_dir() / f"{name}.json"
        card = json.loads(card_path.read_text())
        if "calibration" in card:
            print(f"{name}: already calibrated (temperature {card['calibration']['temperature']}); skipped")
            continue
        spec = get_spec(name)
        labels = list(spec.labels)
        plan = plan_split(name, args.data, "val")
        if not plan.own:
            raise SystemExit(f"{name}: its card does not say it was trained on {args.data}")
        x, y, _ = _load_pixels(prepare(args.data, spec.labels, plan, None), spec, labels)
        x = torch.from_numpy(normalize(x, spec))
        model = create_model(name, pretrained=True)
        before = _validate(model, x, y, labels)
        model, calibration = calibrate_weights(model, weights_path(name), x, y, spec.output,
                                               f"the validation split ({len(y)} images)")
        after = _validate(model, x, y, labels)
        card["calibration"] = {**asdict(calibration), "script": "scripts/calibrate_zoo.py (after training)"}
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        print(f"{name}: T {calibration.temperature:.3f}; NLL {calibration.nll}, ECE {calibration.ece}, top < 0.5 "
              f"{calibration.top_below_half}; val macro recall {before['macro_recall']:.4f} -> {after['macro_recall']:.4f}, "
              f"accuracy {before['accuracy']:.4f} -> {after['accuracy']:.4f} (card: {card['validation']['macro_recall']:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
