"""Compute cost of a model: MACC, parameters, activations, per layer and in total."""

from __future__ import annotations


from edgeemo.profile.counting import profile_model
from edgeemo.profile.result import LayerCost, Profile


def profile(ref: str, input_shape: list[int] | None = None) -> Profile:
    """Profile a zoo name or a model file (ONNX, OpenVINO IR, TFLite, TorchScript, .pt2, Keras), read directly."""
    from edgeemo.sources import openvino_graph, resolve

    source = resolve(ref)
    model = openvino_graph(source, input_shape)
    return profile_model(model, source=ref)


def profile_resolved(ref: str, input_shape: list[int] | None = None, on_step=lambda step: None) -> Profile:
    """Profile what MODEL resolves to by the rule every command follows (``edgeemo.resolve``): an artifact as it
    is, a zoo name or source model as its cached OpenVINO IR; the result says which."""
    from edgeemo.sources import Overrides
    from edgeemo.resolve import is_artifact, resolve_model

    artifact = is_artifact(ref)
    resolved = resolve_model(ref, None, None if artifact else Overrides(input_shape=input_shape), on_step)
    result = profile(resolved.artifact, input_shape if artifact else None)
    result.source = ref
    result.resolved = resolved.to_dict()
    return result


__all__ = ["LayerCost", "Profile", "profile", "profile_model", "profile_resolved"]
