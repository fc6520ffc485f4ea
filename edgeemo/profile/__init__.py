"""Compute cost of a model: MACC, parameters, activations, per layer and in total."""

from __future__ import annotations


from edgeemo.profile.counting import profile_model
from edgeemo.profile.result import LayerCost, Profile


def profile(ref: str, input_shape: list[int] | None = None) -> Profile:
    """Profile a zoo name or a model file (ONNX, OpenVINO IR, TFLite, TorchScript, .pt2, Keras)."""
    from edgeemo.source import resolve, to_openvino

    source = resolve(ref)
    model = to_openvino(source, input_shape)
    return profile_model(model, source=ref)


__all__ = ["LayerCost", "Profile", "profile", "profile_model"]
