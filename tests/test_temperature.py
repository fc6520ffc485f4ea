"""Temperature scaling (edgeemo.train.calibrate): the fit, the fold into the last layer, and its guard."""

import numpy as np
import pytest
import torch
from torch import nn

from edgeemo.errors import EdgeemoError
from edgeemo.train.calibrate import UNCERTAIN_BELOW, calibrate, calibration_error, fit_temperature, softmax_of


def _sampled(temperature: float, n: int = 20_000, classes: int = 5, seed: int = 0):
    """Logits, and labels drawn from softmax(logits / temperature): the true temperature is known."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.0, (n, classes))
    p = softmax_of(logits, temperature)
    y = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
    return logits, y


@pytest.mark.parametrize("truth", [0.5, 1.0, 2.0])
def test_fit_finds_the_temperature_the_labels_were_drawn_at(truth):
    logits, y = _sampled(truth)
    log_p = np.log(softmax_of(logits))
    assert fit_temperature(log_p, y) == pytest.approx(truth, rel=0.06)
    # fitted at the truth, confidence matches accuracy; at T = 1 an under-confident model (truth 0.5) does not
    assert calibration_error(softmax_of(log_p, truth), y) < 0.02
    if truth == 0.5:
        assert calibration_error(softmax_of(log_p), y) > 0.05


class _Net(nn.Module):
    def __init__(self, after=None, softmax: bool = True):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4, 5)
        self.after = after or nn.Identity()
        self.softmax = softmax

    def forward(self, x):
        z = self.after(self.fc(self.features(x)))
        return torch.softmax(z, 1) if self.softmax else z


def _data(n: int = 400):
    torch.manual_seed(0)
    x = torch.randn(n, 1, 8, 8)
    y = np.random.default_rng(1).integers(0, 5, n)
    return x, y


@pytest.mark.parametrize("softmax", [True, False])
def test_calibration_folds_into_the_last_layer_and_keeps_every_prediction(softmax):
    x, y = _data()
    net = _Net(softmax=softmax)
    with torch.no_grad():
        net.fc.weight.mul_(8)  # an over-confident model of random labels: T must come out above 1
        before = net(x)
    result = calibrate(net, x, y, "softmax" if softmax else "logits", "test data")
    with torch.no_grad():
        after = net(x)
    assert result.temperature > 1.5 and result.images == len(y)
    assert torch.equal(before.argmax(1), after.argmax(1))
    assert result.nll[1] < result.nll[0] and result.ece[1] < result.ece[0]
    top = (after if softmax else torch.softmax(after, 1)).max(1).values.numpy()
    assert result.top_below_half[1] == pytest.approx(float((top < UNCERTAIN_BELOW).mean()), abs=1e-4)


def test_a_nonlinear_layer_after_the_last_one_is_refused_and_the_model_left_alone():
    x, y = _data()
    net = _Net(after=nn.Tanh())  # not positively homogeneous (a ReLU would pass the scaling through exactly)
    with torch.no_grad():
        net.fc.weight.mul_(8)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(EdgeemoError, match="not a softmax of its last layer"):
        calibrate(net, x, y, "softmax", "test data")
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())


def test_threshold_it_serves_is_the_kiosks_default():
    from edgeemo.kiosk.pipeline import DEFAULTS

    assert DEFAULTS["threshold"] == UNCERTAIN_BELOW
