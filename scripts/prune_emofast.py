"""Narrow a trained emofast by channel pruning: an ``--init`` for fine-tuning a faster EmoFast shape (issue #14).

Every convolution keeps the output channels whose BatchNorm scale |gamma| is largest (per layer), with their
BatchNorm statistics; the next convolution and the classifier keep the matching input channels. Nothing is
retrained here: fine-tune the result with ``edgeemo train ARCH --init OUT`` under an architecture of the same
shape (``EmoFast(widths=..., stem=...)`` registered in the catalog for the run).

    .venv/bin/python scripts/prune_emofast.py models/emofast.pt runs/prune/p3248.pt --stem 16 --widths 32 48 96
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def prune(state: dict, stem: int, widths: tuple[int, ...]) -> dict:
    """The state dict of ``EmoFast(stem=stem, widths=widths)`` cut from a trained emofast's ``state``."""
    import torch

    from edgeemo.models.emofast import EmoFast

    old, new = EmoFast(), EmoFast(widths=widths, stem=stem)
    old.load_state_dict({k: v.float() for k, v in state.items()})
    pairs = zip([m for m in old.features if isinstance(m, torch.nn.Conv2d)], [m for m in old.features if isinstance(m, torch.nn.BatchNorm2d)],
                [m for m in new.features if isinstance(m, torch.nn.Conv2d)], [m for m in new.features if isinstance(m, torch.nn.BatchNorm2d)])
    kept_in = torch.arange(old.features[0].in_channels)
    with torch.no_grad():
        for conv, bn, narrow_conv, narrow_bn in pairs:
            if narrow_conv.out_channels > conv.out_channels:
                raise ValueError(f"cannot widen {conv.out_channels} channels to {narrow_conv.out_channels}")
            kept = bn.weight.abs().argsort(descending=True)[: narrow_conv.out_channels].sort().values
            narrow_conv.weight.copy_(conv.weight[kept][:, kept_in])
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(narrow_bn, name).copy_(getattr(bn, name)[kept])
            narrow_bn.num_batches_tracked.copy_(bn.num_batches_tracked)
            kept_in = kept
        new.fc.weight.copy_(old.fc.weight[:, kept_in])
        new.fc.bias.copy_(old.fc.bias)
    return new.state_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", help="a trained emofast state dict (models/emofast.pt or train's weights.pt)")
    parser.add_argument("out", help="where to write the narrowed state dict")
    parser.add_argument("--stem", type=int, default=16, help="stem channels (emofast-pruned: 16)")
    parser.add_argument("--widths", type=int, nargs=3, default=[32, 48, 96], help="channels per stage (emofast-pruned: 32 48 96)")
    args = parser.parse_args()
    import torch

    from edgeemo.errors import EdgeemoError
    from edgeemo.safeload import torch_load

    try:
        state = prune(torch_load(args.weights), args.stem, tuple(args.widths))
    except (EdgeemoError, OSError, RuntimeError, ValueError) as exc:
        print(f"prune_emofast: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, out)
    print(f"{args.out}: stem {args.stem}, widths {'-'.join(map(str, args.widths))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
