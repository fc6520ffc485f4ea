"""Model zoo: specs, registry and architectures."""

from edgeemo.models.registry import create_model, get_spec, list_models, register_model, weights_path, zoo_card, zoo_dir
from edgeemo.models.spec import FER2013_LABELS, RETAIL_LABELS, ModelSpec

# Importing the architecture modules registers them (in this order in `edgeemo models`).
from edgeemo.models import emonet, mini_xception, resnet, mobilenet, emolite, emofast  # noqa: E402,F401

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
