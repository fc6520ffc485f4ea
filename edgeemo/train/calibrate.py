"""Temperature scaling (Guo et al., 2017): one scalar T, fitted on the validation split by negative log-likelihood and
folded into the last layer, so that a model's probabilities mean what they say. Balanced sampling, logit adjustment,
label smoothing and soft teachers leave a model under-confident; the kiosk's --threshold reads these probabilities.
Dividing the logits by T changes no arg-max: every accuracy figure stays as it was."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeemo.errors import EdgeemoError

UNCERTAIN_BELOW = 0.5  # the kiosk's default --threshold (edgeemo.kiosk.pipeline.DEFAULTS)
MIN_IMAGES = 100  # fewer validation faces than this fit a temperature too noisy to fold into a model


@dataclass
class Calibration:
    """What temperature scaling did, on the faces it was fitted on (before -> after)."""

    temperature: float  # the logits were divided by it (< 1: the model was under-confident)
    fitted_on: str
    images: int
    nll: list[float]  # mean negative log-likelihood of the true label
    ece: list[float]  # expected calibration error, 15 equal-width confidence bins
    top_below_half: list[float]  # share of faces whose top probability is under 0.5 (the kiosk calls them uncertain)
    method: str = "temperature scaling: the last layer's weights and bias divided by T, T fitted by NLL"


def softmax_of(log_p: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = log_p / temperature
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(1, keepdims=True)


def nll(log_p: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    p = softmax_of(log_p, temperature)
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())


def calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error: |accuracy - mean confidence| over equal-width confidence bins, weighted by size."""
    top, correct = p.max(1), p.argmax(1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (top > lo) & (top <= hi)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - top[inside].mean())
    return float(error)


def fit_temperature(log_p: np.ndarray, y: np.ndarray, low: float = 0.2, high: float = 5.0) -> float:
    """The T in [low, high] that minimises the NLL of softmax(log_p / T) (convex in 1/T): golden-section search on
    log T. The bounds keep a model that is right on every face, or on none, from being made certain or uniform."""
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(log_p, y, np.exp(c)), nll(log_p, y, np.exp(d))
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(log_p, y, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(log_p, y, np.exp(d))
    return float(np.exp((a + b) / 2))


def log_probabilities(model, x, output: str, batch: int = 256) -> np.ndarray:
    """Log-probabilities of a PyTorch classifier (``output``: softmax or logits, as its spec says) on normalised inputs."""
    import torch

    model.eval()
    with torch.no_grad():
        out = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)]).double()
    return (torch.log(out.clamp_min(1e-12)) if output == "softmax" else torch.log_softmax(out, 1)).numpy()


def last_layer(model):
    """The layer that makes the logits: the model's last Linear or Conv2d."""
    import torch

    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    if not layers or layers[-1].bias is None:
        raise EdgeemoError("temperature scaling needs a last Linear or Conv2d layer with a bias")
    return layers[-1]


def calibrate(model, x, y: np.ndarray, output: str, fitted_on: str) -> Calibration:
    """Fit T on (x, y) and fold it into ``model``'s last layer, in place; checked: the model's new log-probabilities
    must be softmax(old / T), so no layer after it may be nonlinear."""
    import torch

    before = log_probabilities(model, x, output)
    temperature = fit_temperature(before, y)
    layer = last_layer(model)
    with torch.no_grad():
        saved = layer.weight.clone(), layer.bias.clone()
        layer.weight.div_(temperature)
        layer.bias.div_(temperature)
    after = log_probabilities(model, x, output)
    expected = np.log(softmax_of(before, temperature))
    if not np.allclose(after, expected, atol=1e-3):
        with torch.no_grad():
            layer.weight.copy_(saved[0])
            layer.bias.copy_(saved[1])
        raise EdgeemoError("temperature scaling: the model's output is not a softmax of its last layer's; left as it was")
    p_before, p_after = softmax_of(before), softmax_of(after)
    return Calibration(
        round(temperature, 4), fitted_on, len(y),
        [round(nll(before, y), 4), round(nll(after, y), 4)],
        [round(calibration_error(p_before, y), 4), round(calibration_error(p_after, y), 4)],
        [round(float((p_before.max(1) < UNCERTAIN_BELOW).mean()), 4), round(float((p_after.max(1) < UNCERTAIN_BELOW).mean()), 4)],
    )
