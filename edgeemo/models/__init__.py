"""Model zoo: specs, registry and architectures (the architecture modules, which import torch, load on first use)."""

from edgeemo.models.registry import create_model, get_spec, list_models, register_model, weights_path, zoo_card, zoo_dir
from edgeemo.models.spec import FER2013_LABELS, RETAIL_LABELS, ModelSpec

__all__ = [
    "FER2013_LABELS",
    "RETAIL_LABELS",
    "ModelSpec",
    "create_model",
    "get_spec",
    "list_models",
    "register_model",
    "weights_path",
    "zoo_card",
    "zoo_dir",
]
