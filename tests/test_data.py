"""Datasets and the one preprocessing path."""

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeemo.data import load_dataset, normalize_label, preprocess
from edgeemo.data.preprocess import resize
from edgeemo.models import RETAIL_LABELS, get_spec

from conftest import assert_one_line_error


def test_shared_dataset_loads_with_normalised_labels(shared_data):
    ds = load_dataset(shared_data)
    assert len(ds.samples) == 10_943  # unique images; legend.csv lists 6 of them twice
    counts = ds.counts()
    # the README's counts, less the duplicate rows (first row wins)
    assert counts == {"neutral": 5490, "happy": 4554, "surprise": 294, "sad": 213, "anger": 202, "disgust": 166,
                      "fear": 17, "contempt": 7}
    retail = ds.restrict(RETAIL_LABELS)
    assert retail.skipped == {"disgust": 166, "fear": 17, "contempt": 7}


def test_splits_are_deterministic_stratified_and_disjoint(shared_data):
    ds = load_dataset(shared_data).restrict(RETAIL_LABELS)
    val, train = ds.split("val"), ds.split("train")
    assert not {s.key for s in val.samples} & {s.key for s in train.samples}
    assert len(val.samples) + len(train.samples) == len(ds.samples)
    assert [s.key for s in ds.split("val").samples] == [s.key for s in val.samples]
    for label, n in ds.counts().items():
        assert abs(val.counts()[label] - 0.2 * n) <= 1


def _faces(tmp_path, n=3):
    rng = np.random.default_rng(0)
    images = {}
    for label in ("happy", "sad"):
        for i in range(n):
            images[(label, i)] = rng.integers(0, 255, (48, 48), dtype=np.uint8)
    return images


def test_three_layouts_give_the_same_stream(tmp_path):
    images = _faces(tmp_path)
    folders = tmp_path / "folders"
    legend = tmp_path / "legend"
    (legend / "images").mkdir(parents=True)
    rows = []
    for (label, i), im in images.items():
        (folders / label.upper()).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folders / label.upper() / f"{i}.png"), im)
        cv2.imwrite(str(legend / "images" / f"{label}{i}.png"), im)
        rows.append(("u", f"{label}{i}.png", "HAPPINESS" if label == "happy" else "sadness"))
    with open(legend / "legend.csv", "w", newline="") as f:
        csv.writer(f).writerows([("user.id", "image", "emotion"), *rows])
    fer = tmp_path / "fer2013.csv"
    with open(fer, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("emotion", "pixels", "Usage"))
        for (label, i), im in images.items():
            w.writerow((3 if label == "happy" else 4, " ".join(map(str, im.flatten())), "Training"))
    spec = get_spec("emolite")
    streams = []
    for root in (folders, legend, fer):
        ds = load_dataset(root)
        assert ds.counts() == {"happy": 3, "sad": 3}
        streams.append(sorted((s.label, preprocess(s.load(), spec).tobytes()) for s in ds.samples))
    assert streams[0] == streams[1] == streams[2]


def test_label_aliases():
    assert normalize_label("HAPPINESS") == "happy" and normalize_label("Angry") == "anger"
    assert normalize_label("sadness") == "sad" and normalize_label(" Surprise ") == "surprise"


@pytest.mark.parametrize("policy", ["squash", "letterbox", "crop"])
def test_resize_policies_keep_the_output_size(policy):
    image = np.zeros((100, 60, 3), np.uint8)
    image[:, :, 2] = 200
    out = resize(image, (64, 64), policy)
    assert out.shape == (64, 64, 3)
    if policy == "letterbox":
        assert out[:, 0].max() == 0 and out[32, 32, 2] == 200  # padded sides, content in the middle
    else:
        assert out[:, :, 2].min() == 200


def test_channel_swap_canary():
    """emonet-resnet10 is BGR: a pure-red OpenCV pixel (B=0, G=0, R=255) must reach channel 2, not 0."""
    spec = get_spec("emonet-resnet10")
    assert spec.channel_order == "bgr"
    red = np.zeros((64, 64, 3), np.uint8)
    red[:, :, 2] = 255  # OpenCV images are BGR
    x = preprocess(red, spec)
    assert x.shape == (3, 64, 64)
    assert x[2].mean() == 255 and x[0].mean() == 0, "channel order swapped: the model would see red as blue"
    gray = preprocess(cv2.cvtColor(red, cv2.COLOR_BGR2GRAY), spec)
    assert np.allclose(gray[0], gray[2])  # gray input is replicated to 3 channels


def test_bad_datasets_are_one_line(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n")
    wrong = tmp_path / "wrong"
    (wrong / "contempt").mkdir(parents=True)
    cv2.imwrite(str(wrong / "contempt" / "x.png"), np.zeros((8, 8), np.uint8))
    assert_one_line_error(cli("eval", "emolite", "--data", str(tmp_path / "empty")), "no images")
    assert_one_line_error(cli("eval", "emolite", "--data", str(bad_csv)), "missing column")
    assert_one_line_error(cli("eval", "emolite", "--data", str(wrong)), "none of the labels")
    assert_one_line_error(cli("eval", "emolite", "--data", str(tmp_path / "nope")), "no such dataset")
    # a video or a binary file given as --data: one line, not "internal error: UnicodeDecodeError"
    (tmp_path / "clip.mp4").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "binary.csv").write_bytes(bytes(range(128, 256)) * 4)
    assert_one_line_error(cli("eval", "emolite", "--data", str(tmp_path / "clip.mp4")), "a file, not a dataset")
    assert_one_line_error(cli("eval", "emolite", "--data", str(tmp_path / "binary.csv")), "not a text CSV")
    photos = tmp_path / "photos"  # loose photos beside a CSV: says why the CSV was read
    photos.mkdir()
    cv2.imwrite(str(photos / "a.jpg"), np.zeros((8, 8), np.uint8))
    (photos / "ranking.csv").write_text("rank,image\n1,a.jpg\n")
    assert_one_line_error(cli("eval", "emolite", "--data", str(photos)), "missing column", "read as a FER2013 export")


def test_corrupt_images_are_skipped_and_counted(tmp_path, cli):
    root = tmp_path / "faces"
    for label in ("happy", "sad"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(root / label / f"{i}.png"), np.full((40, 40), 40 * i, np.uint8))
    (root / "happy" / "zero.png").write_bytes(b"")
    (root / "sad" / "broken.jpg").write_bytes(b"\xff\xd8garbage")
    result = cli("eval", "emolite", "--data", str(root), "--split", "all", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["n"] == 6 and report["skipped"]["unreadable"] == 2


def test_fold_labels_add_training_images_and_leave_val_and_test_alone():
    from edgeemo.data.datasets import Dataset, Sample
    from edgeemo.train.trainer import _folded

    pixels = np.zeros((4, 4), np.uint8)
    samples = [Sample(label, Path(f"{label}{i}.png"), pixels) for label in ("anger", "happy", "disgust") for i in range(10)]
    data = Dataset(Path("."), "class-folders", samples)
    labels = ["happy", "anger"]
    folded = _folded(data, {"disgust": "anger"}, labels)
    assert [s.label for s in folded] == ["anger"] * 10 and {s.path.name for s in folded} == {f"disgust{i}.png" for i in range(10)}
    restricted = data.restrict(labels)
    for part in ("val", "test"):  # the split is made before folding, on the model's own labels only
        assert all(s.label in labels and not s.path.name.startswith("disgust")
                   for s in restricted.split(part, 0.2, 0, 0.2).samples)
    assert _folded(data, {}, labels) == []


def test_fer2013_csv_splits_are_the_same_in_every_process(tmp_path):
    """A FER2013 CSV has no file names: its samples were keyed by Python's hash() of the pixels, which changes with
    every process, so `train` and a later `eval` drew different validation splits (training faces among them)."""
    import json
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    fer = tmp_path / "fer2013.csv"
    with open(fer, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("emotion", "pixels", "Usage"))
        for i in range(60):
            w.writerow((i % 7, " ".join(map(str, rng.integers(0, 256, 48 * 48))), "Training"))
    probe = ("import hashlib, json; from edgeemo.data import load_dataset; "
             f"v = load_dataset({str(fer)!r}).split('val', 0.2, 0, 0.1); "
             "print(json.dumps(sorted(hashlib.sha256(s.pixels.tobytes()).hexdigest() for s in v.samples)))")
    runs = [json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                      env={**os.environ, "PYTHONHASHSEED": seed}).stdout) for seed in ("1", "2")]
    assert runs[0] == runs[1] and len(runs[0]) >= 7


def test_eval_knows_a_copy_of_the_training_data_by_its_fingerprint(tmp_path):
    """A model's card names the folder it was trained on; a copy of that folder elsewhere (same images, same labels)
    is still its training data, so eval's default is the model's own validation split, not every image (training
    faces included). A copy with one label changed is other data."""
    import json
    import shutil

    from edgeemo.evaluate import plan_split

    original = tmp_path / "original"
    (original / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = [("user.id", "image", "emotion")]
    for i in range(24):
        cv2.imwrite(str(original / "images" / f"{i}.png"), rng.integers(0, 255, (48, 48), dtype=np.uint8))
        rows.append(("u", f"{i}.png", ("HAPPINESS", "sadness", "neutral")[i % 3]))
    with open(original / "legend.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    labels = ["neutral", "happy", "sad", "surprise", "anger"]
    dataset = load_dataset(original).restrict(tuple(labels))
    card = {**get_spec("emolite").to_dict(), "architecture": "emolite", "training": {},
            "data": {"source": str(original), "fingerprint": dataset.fingerprint(),
                     "split_fractions": {"val": 0.25, "test": 0.25, "seed": 7}}}
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "weights.pt").write_bytes(b"")
    (tmp_path / "run" / "model.json").write_text(json.dumps(card))
    weights = str(tmp_path / "run" / "weights.pt")
    copy = shutil.copytree(original, tmp_path / "elsewhere" / "copy")
    assert load_dataset(copy).restrict(tuple(labels)).fingerprint() == dataset.fingerprint()
    plan = plan_split(weights, str(copy))
    assert (plan.part, plan.val_fraction, plan.test_fraction, plan.seed, plan.own) == ("val", 0.25, 0.25, 7, True)
    assert plan_split(weights, str(original)) == plan
    legend = (copy / "legend.csv").read_text().replace("u,0.png,HAPPINESS", "u,0.png,neutral")
    (copy / "legend.csv").write_text(legend)
    assert plan_split(weights, str(copy)).part == "all"


def test_a_model_without_labels_is_told_to_name_them(tmp_path):
    """An artifact converted without --labels has outputs no data label can be matched to: eval and quantize's
    calibration said "none of the labels [...] is one the model knows ()"; now they say what is missing."""
    from edgeemo.data.datasets import DatasetError

    (tmp_path / "happy").mkdir()
    cv2.imwrite(str(tmp_path / "happy" / "a.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match=r"class labels are unknown.*\(happy\).*--labels"):
        load_dataset(tmp_path).restrict(())


def test_a_test_split_is_only_the_models_own(shared_data):
    """`eval --split test` on a folder the model never trained on read an always-empty split ("the test split is
    empty"); it now says why and points at --split all. On its own dataset the split is the card's."""
    from edgeemo.data.datasets import DatasetError
    from edgeemo.evaluate import plan_split

    own = plan_split("emofast-pruned", str(shared_data), "test")
    assert own.part == "test" and own.test_fraction > 0 and own.own
    ckplus = shared_data.parent / "ckplus48_dev"
    with pytest.raises(DatasetError, match="no test split for emofast-pruned .*--split all"):
        plan_split("emofast-pruned", str(ckplus), "test")
    with pytest.raises(DatasetError, match="two-way split .* no held-out test split"):
        plan_split("emonet-resnet10", str(shared_data), "test")
    assert plan_split("emofast-pruned", str(ckplus), "auto").part == "all"
