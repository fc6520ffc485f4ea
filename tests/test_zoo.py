"""The zoo: every entry builds, runs, and carries its preprocessing facts."""

import json

import numpy as np
import pytest
import torch

from edgeemo.models import RETAIL_LABELS, create_model, get_spec, list_models, zoo_card
from edgeemo.profile import profile

from conftest import assert_one_line_error

ZOO = list_models()


def test_zoo_has_the_required_entries():
    for name in ("emonet-resnet10", "mini-xception", "resnet18", "se-resnet18", "mobilenetv2", "emolite"):
        assert name in ZOO


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_runs_and_outputs_probabilities(name):
    spec = get_spec(name)
    model = create_model(name)
    x = torch.rand(spec.input_shape(2)) * 255
    x = (x - torch.tensor(spec.mean).view(1, -1, 1, 1)) / torch.tensor(spec.scale).view(1, -1, 1, 1)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, spec.num_classes)
    np.testing.assert_allclose(y.sum(1).numpy(), 1.0, rtol=1e-5)
    assert len(spec.mean) == len(spec.scale) == spec.channels


def test_emonet_matches_retail_0003_facts():
    spec = get_spec("emonet-resnet10")
    assert spec.input_shape() == (1, 3, 64, 64)
    assert spec.channel_order == "bgr" and spec.labels == RETAIL_LABELS
    model = create_model("emonet-resnet10")
    assert sum(p.numel() for p in model.parameters()) == 2_482_507


def test_compact_model_is_within_a_quarter_of_the_budget():
    assert profile("emolite").macc <= 16_000_000


def test_models_json_lists_every_entry_with_cost(cli):
    result = cli("models", "--json")
    assert result.code == 0, result.stderr
    entries = {e["name"]: e for e in result.json()}
    assert set(entries) == set(ZOO)
    for entry in entries.values():
        assert {"name", "input_shape", "labels", "macc", "params", "weights"} <= set(entry)
        assert entry["macc"] > 0 and entry["params"] > 0
    assert entries["emonet-resnet10"]["params"] == 2_482_507


@pytest.mark.parametrize("name", [n for n in ZOO if zoo_card(n)])
def test_card_cost_is_the_profiled_cost(name):
    """`edgeemo models` shows the cards' MACC and params: they must be what the architecture costs today."""
    card, cost = zoo_card(name), profile(name)
    assert (card["macc"], card["params"]) == (cost.macc, cost.params)


def test_models_table_lists_every_entry(cli):
    result = cli("models")
    assert result.code == 0
    for name in ZOO:
        assert name in result.stdout


def test_models_pattern_without_match_is_an_error(cli):
    assert_one_line_error(cli("models", "nomatch*"), "no zoo model matches 'nomatch*'", "emofast")
    assert_one_line_error(cli("models", "nomatch*", "--json"), "no zoo model matches")


def test_registry_attaches_weights_from_the_zoo_dir(tmp_path, monkeypatch):
    model = create_model("emolite", pretrained=False)
    state = {k: (v + 0.5).half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(state, tmp_path / "emolite.pt")
    (tmp_path / "emolite.json").write_text(json.dumps({"validation": {"macro_recall": 0.5}}))
    monkeypatch.setenv("EDGEEMO_ZOO_DIR", str(tmp_path))
    loaded = create_model("emolite")
    first = next(iter(state))
    torch.testing.assert_close(loaded.state_dict()[first], state[first].float())
    from edgeemo.zoo import zoo_entries

    entry = zoo_entries("emolite")[0]
    assert entry.weights == str(tmp_path / "emolite.pt") and entry.metrics == {"macro_recall": 0.5}


def test_a_bare_checkpoint_says_what_it_needs_in_eval(tmp_path, cli):
    """eval has no --arch: its error for a state dict without train's card must not send the user to one."""
    torch.save(create_model("emolite", pretrained=False).state_dict(), tmp_path / "weights.pt")
    result = cli("eval", str(tmp_path / "weights.pt"), "--data", str(tmp_path))
    assert_one_line_error(result, "model.json")
    assert "--arch (convert, optimize)" in result.stderr


def test_weights_from_edgeemo_train_open_without_arch(tmp_path):
    """`edgeemo eval runs/train/weights.pt`: the architecture comes from train's model.json beside the weights."""
    from edgeemo.sources import Overrides
    from edgeemo.sources.load import load_source, trained_arch

    model = create_model("emolite", pretrained=False).eval()
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    assert trained_arch(str(tmp_path / "weights.pt")) is None  # no card: a plain checkpoint still needs --arch
    (tmp_path / "model.json").write_text(json.dumps({"architecture": "emolite", "training": {}}))
    assert trained_arch(str(tmp_path / "weights.pt")) == "emolite"
    source = load_source(str(tmp_path / "weights.pt"), Overrides())
    x = np.random.default_rng(0).standard_normal((1, 1, 64, 64)).astype(np.float32)
    assert source.spec.name == "emolite" and np.allclose(source.reference(x), model(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    (tmp_path / "model.json").write_text(json.dumps({"architecture": "no-such-net", "training": {}}))
    assert trained_arch(str(tmp_path / "weights.pt")) is None


def test_zoo_weights_file_opens_with_its_own_card(shared_data, tmp_path):
    """`edgeemo eval models/emofast-pruned.pt` (or a copy of the .pt/.json pair): the zoo card beside the weights gives
    the architecture and the training record, so eval picks the model's own validation split instead of every image
    (the training images included), whatever the conversion cache holds."""
    import shutil

    from edgeemo.evaluate import plan_split
    from edgeemo.models import zoo_dir
    from edgeemo.sources.load import trained_arch

    for suffix in (".pt", ".json"):
        shutil.copyfile(zoo_dir() / f"emofast-pruned{suffix}", tmp_path / f"emofast-pruned{suffix}")
    copy = str(tmp_path / "emofast-pruned.pt")
    assert trained_arch(copy) == "emofast-pruned"
    assert plan_split(copy, str(shared_data)) == plan_split("emofast-pruned", str(shared_data))
    assert plan_split(copy, str(shared_data)).part == "val"
    shutil.copyfile(tmp_path / "emofast-pruned.pt", tmp_path / "other.pt")
    shutil.copyfile(tmp_path / "emofast-pruned.json", tmp_path / "other.json")  # its weights field names another file
    assert trained_arch(str(tmp_path / "other.pt")) is None
    assert plan_split(str(tmp_path / "other.pt"), str(shared_data)).part == "all"
    (tmp_path / "other.json").write_text("[1, 2")  # an unrelated, broken JSON of the same name does not block the file
    assert trained_arch(str(tmp_path / "other.pt")) is None


def test_cli_and_zoo_specs_load_without_torch():
    """Commands on artifacts and --help start without importing torch; only building a zoo model loads it."""
    import subprocess
    import sys

    probe = ("import sys; import edgeemo.cli, edgeemo.runtime; "
             "import edgeemo.cli.bench, edgeemo.cli.evaluate, edgeemo.cli.deploy, edgeemo.cli.run, edgeemo.cli.quantize, edgeemo.cli.convert; "
             "from edgeemo.models import get_spec, list_models; [get_spec(n) for n in list_models()]; "
             "assert 'torch' not in sys.modules, 'torch imported'; "
             "from edgeemo.models import create_model; create_model('emofast', pretrained=False); "
             "assert 'torch' in sys.modules")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
