"""Data-free calibration inputs: synthesised once per model and settings, then read back from edgeemo's cache."""

import dataclasses

import numpy as np
import torch

from edgeemo.models import get_spec
from edgeemo.quantize import calibration


def _net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    net[1].running_mean.uniform_(-0.5, 0.5)
    return net.eval()


def test_synthetic_inputs_are_cached_per_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEEMO_CACHE", str(tmp_path))
    spec = dataclasses.replace(get_spec("emolite"), input_size=(12, 12))
    steps: list[int] = []
    first = calibration.synthetic_inputs(_net(0), spec, n=4, steps=3, on_step=lambda done, total: steps.append(done))
    assert steps == [1, 2, 3] and first.shape == (4, 1, 12, 12)
    entries = list((tmp_path / "calibration").iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".npy"  # no partial file left beside it

    again = calibration.synthetic_inputs(_net(0), spec, n=4, steps=3, on_step=lambda done, total: steps.append(done))
    assert steps == [1, 2, 3]  # not optimised again
    np.testing.assert_array_equal(again, first)

    other = calibration.synthetic_inputs(_net(1), spec, n=4, steps=3)  # other weights: another entry
    assert len(list((tmp_path / "calibration").iterdir())) == 2 and not np.array_equal(other, first)
    calibration.synthetic_inputs(_net(0), spec, n=4, steps=2)  # other settings: another entry
    assert len(list((tmp_path / "calibration").iterdir())) == 3


def test_a_damaged_cache_entry_is_synthesised_again(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEEMO_CACHE", str(tmp_path))
    spec = dataclasses.replace(get_spec("emolite"), input_size=(12, 12))
    first = calibration.synthetic_inputs(_net(0), spec, n=4, steps=3)
    (entry,) = (tmp_path / "calibration").iterdir()
    entry.write_bytes(b"\x93NUMPY truncated")
    steps: list[int] = []
    again = calibration.synthetic_inputs(_net(0), spec, n=4, steps=3, on_step=lambda done, total: steps.append(done))
    assert steps == [1, 2, 3]
    np.testing.assert_array_equal(again, first)
    np.save(entry, np.zeros((2, 12, 12, 1), np.uint8))  # a readable array of the wrong shape
    assert calibration.synthetic_inputs(_net(0), spec, n=4, steps=3).shape == (4, 1, 12, 12)
    assert np.load(entry).shape == (4, 12, 12, 1)  # rewritten whole


def test_same_weights_in_another_architecture_is_another_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEEMO_CACHE", str(tmp_path))
    spec = dataclasses.replace(get_spec("emolite"), input_size=(12, 12))
    strided = _net(0)
    strided[0].stride = (2, 2)  # same state dict, other forward
    calibration.synthetic_inputs(_net(0), spec, n=4, steps=3)
    calibration.synthetic_inputs(strided, spec, n=4, steps=3)
    assert len(list((tmp_path / "calibration").iterdir())) == 2
