"""The typed model card round-trips through model.json, ONNX metadata_props and OpenVINO rt_info with one key list
(fast tier)."""

import json

import pytest

from edgeemo.card import EMBEDDED, ModelCard
from edgeemo.errors import ModelLoadError

from test_runtime_units import tiny_onnx

CARD = {"name": "tiny", "input_size": [8, 8], "channel_order": "bgr", "labels": ["neutral", "happy", "sad", "surprise", "anger"],
        "mean": [127.5, 127.5, 127.5], "scale": [64.0, 64.0, 64.0], "layout": "NCHW", "resize": "letterbox",
        "output": "softmax", "source": "2024-tiny.pt", "input_shape": [1, 3, 8, 8], "macc": 1234, "metrics": {"accuracy": 0.5}}


def test_json_round_trip_keeps_every_fact_and_the_extras(tmp_path):
    card = ModelCard.from_dict(CARD)
    assert card.extra == {"macc": 1234, "metrics": {"accuracy": 0.5}}
    assert card.to_dict() == CARD
    (tmp_path / "model.json").write_text(json.dumps(card.to_dict()))
    again = ModelCard.read(tmp_path / "model.json")
    assert again == card and again.spec().input_size == (8, 8) and again.spec().resize == "letterbox"


def test_onnx_and_ir_carry_the_same_facts(tmp_path):
    import onnx
    import openvino as ov

    card = ModelCard.from_dict(CARD)
    path = tiny_onnx(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    card.write_onnx(model)
    onnx.save(model, str(path))
    from_onnx = ModelCard.from_onnx(path)
    ir = ov.convert_model(str(path))
    card.write_rt_info(ir)
    ov.save_model(ir, str(tmp_path / "m.xml"))
    from_ir = ModelCard.from_ir(tmp_path / "m.xml")
    for got in (from_onnx, from_ir):
        facts = got.to_dict()
        assert {k: facts[k] for k in EMBEDDED} == {k: CARD[k] for k in EMBEDDED}
        assert got.input_size == (8, 8) and got.extra == {}


def test_irs_written_before_json_facts_still_read():
    old = {"labels": "neutral,happy", "channel_order": "gray", "mean": "0.0", "scale": "255", "input_shape": "1,1,64,64",
           "source": "mini-xception"}
    card = ModelCard.from_embedded(old, "old")
    assert card.labels == ("neutral", "happy") and card.scale == (255,) and card.input_size == (64, 64)
    assert ModelCard.from_embedded({"labels": "[]"}, "none") is None  # no facts embedded


@pytest.mark.parametrize("broken, words", [({"input_size": [8]}, "input size"), ({"channel_order": "cmyk"}, "channel order"),
                                           ({"mean": ["x"]}, "mean"), ({"input_size": None, "input_shape": None}, "garbles")])
def test_broken_cards_are_one_line(broken, words):
    with pytest.raises(ModelLoadError, match=words):
        ModelCard.from_dict({**CARD, **broken}).spec()
