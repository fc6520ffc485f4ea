"""Calibration inputs: real faces from the training split, or synthesised from the model itself (data-free)."""

from __future__ import annotations

import numpy as np

from edgeemo.data.preprocess import normalize, preprocess
from edgeemo.models.spec import ModelSpec


def real_inputs(spec: ModelSpec, data: str, subset: int, seed: int = 0, val_fraction: float = 0.2,
                test_fraction: float = 0.0) -> tuple[np.ndarray, list[str], list[str]]:
    """Up to ``subset`` preprocessed faces from the *train* split (validation and test never calibrate; pass the
    model's own split fractions and seed), with labels; plus warnings (fewer than asked, unreadable files)."""
    from edgeemo.data import load_dataset
    from edgeemo.data.datasets import readable

    dataset = load_dataset(data)
    if spec.labels and any(s.label in spec.labels for s in dataset.samples):
        dataset = dataset.restrict(spec.labels)
    train = dataset.split("train", val_fraction, seed, test_fraction)
    xs, ys, skipped = [], [], {}
    for sample, image in readable(train.take(subset, seed), skipped):
        xs.append(preprocess(image, spec))
        ys.append(sample.label)
    warnings = []
    if skipped:
        warnings.append(f"{skipped['unreadable']} unreadable image(s) skipped")
    if len(xs) < subset:
        warnings.append(f"only {len(xs)} calibration images available (asked for {subset}); using what there is")
    return np.stack(xs) if xs else np.zeros((0,)), ys, warnings


def synthetic_inputs(module, spec: ModelSpec, n: int = 32, steps: int = 30, seed: int = 0,
                     on_step=lambda done, total: None) -> np.ndarray:
    """Data-free calibration: optimise random images until the batch statistics they produce at every
    BatchNorm match the running statistics stored in the model (DeepInversion without the teacher loss).
    Returns normalised inputs in the spec's layout; no face image is involved. The images are a deterministic
    function of the weights and these settings, so they are kept in edgeemo's cache and reused."""
    from edgeemo.resolve import cache_dir

    path = cache_dir() / "calibration" / f"synthetic-{_synthetic_key(module, spec, n, steps, seed)}.npy"
    h, w = spec.input_size
    try:
        images = np.load(path, allow_pickle=False)
        if images.dtype != np.uint8 or images.shape != (n, h, w, spec.channels):
            raise ValueError(f"{path}: not a synthetic calibration batch")
    except (OSError, ValueError):
        images = _synthesise(module, spec, n, steps, seed, on_step)
        _save_atomically(path, images)
    return normalize(images, spec)


def _synthetic_key(module, spec: ModelSpec, n: int, steps: int, seed: int) -> str:
    """Digest of what the synthetic images depend on: architecture, weights and buffers, input facts, settings, versions."""
    import hashlib
    import json

    import torch

    import edgeemo

    digest = hashlib.sha256()
    facts = {"input_size": list(spec.input_size), "channels": spec.channels, "mean": list(spec.mean),
             "scale": list(spec.scale), "n": n, "steps": steps, "seed": seed, "edgeemo": edgeemo.__version__,
             "torch": torch.__version__, "class": f"{type(module).__module__}.{type(module).__qualname__}",
             "layers": repr(module)}  # strides, pads and the like are not in the weights
    digest.update(json.dumps(facts, sort_keys=True).encode())
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu()
        digest.update(f"{name}:{tensor.dtype}".encode())
        digest.update((tensor.float() if tensor.dtype == torch.bfloat16 else tensor).contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def _save_atomically(path, images: np.ndarray) -> None:
    """Write the cache entry whole or not at all; a cache that cannot be written only costs the next run time."""
    from edgeemo.fsutil import atomic_path

    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, images, allow_pickle=False)
    except OSError:
        pass


def _synthesise(module, spec: ModelSpec, n: int, steps: int, seed: int, on_step) -> np.ndarray:
    """The optimisation itself: uint8 images, N,H,W,C."""
    import torch

    torch.manual_seed(seed)
    bns = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    h, w = spec.input_size
    c = spec.channels
    pixels = torch.nn.Parameter(torch.rand(n, c, h, w) * 255)
    mean = torch.tensor(spec.mean, dtype=torch.float32).view(1, -1, 1, 1)
    scale = torch.tensor(spec.scale, dtype=torch.float32).view(1, -1, 1, 1)
    losses: list[torch.Tensor] = []

    def hook(bn, inputs, _output):
        x = inputs[0]
        mu = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        losses.append(((mu - bn.running_mean) ** 2).sum() / (bn.running_var.sum() + 1e-6)
                      + ((var - bn.running_var) ** 2).sum() / ((bn.running_var ** 2).sum() + 1e-6))

    handles = [bn.register_forward_hook(hook) for bn in bns]
    was_training = module.training
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam([pixels], lr=8.0)
    try:
        for step in range(steps if bns else 0):
            losses.clear()
            x = (pixels.clamp(0, 255) - mean) / scale
            module(x)
            tv = (x[:, :, 1:] - x[:, :, :-1]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()
            loss = torch.stack(losses).sum() + 0.05 * tv
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            on_step(step + 1, steps)
    finally:
        for handle in handles:
            handle.remove()
        for p in module.parameters():
            p.requires_grad_(True)
        module.train(was_training)
    return pixels.detach().clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # N,H,W,C
