"""scripts/prune_emofast.py: channel pruning of the trained emofast keeps the strongest channels, consistently."""

import importlib.util

import pytest
import torch

from conftest import ROOT
from edgeemo.models import create_model
from edgeemo.models.emofast import EmoFast

spec = importlib.util.spec_from_file_location("prune_emofast", ROOT / "scripts" / "prune_emofast.py")
prune_emofast = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prune_emofast)


def test_pruning_to_the_full_widths_is_the_identity():
    state = create_model("emofast").state_dict()
    same = prune_emofast.prune(state, 16, (32, 64, 128))
    assert same.keys() == state.keys() and all(torch.equal(same[k], state[k].to(same[k].dtype)) for k in state)


def test_pruned_net_keeps_the_largest_scales_and_matching_inputs():
    state = create_model("emofast").state_dict()
    narrow = EmoFast(widths=(24, 48, 96), stem=12)
    narrow.load_state_dict(prune_emofast.prune(state, 12, (24, 48, 96)))  # every shape fits
    stem_gamma = state["features.1.weight"].float()
    kept = stem_gamma.abs().argsort(descending=True)[:12].sort().values
    assert torch.equal(narrow.features[1].weight.data, stem_gamma[kept])
    assert torch.equal(narrow.features[3].weight.data[:, :, 0, 0], state["features.3.weight"].float()[:, kept, 0, 0][
        state["features.4.weight"].float().abs().argsort(descending=True)[:24].sort().values])
    with pytest.raises(ValueError, match="cannot widen"):
        prune_emofast.prune(state, 12, (48, 64, 128))
