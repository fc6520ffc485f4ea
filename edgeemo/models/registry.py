"""The model zoo: the catalog's specs (factories imported when a model is built), ``@register_model`` factories of
other code, and attached weights."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import replace
from pathlib import Path
from typing import Callable

from edgeemo.errors import ModelLoadError, UnknownModelError
from edgeemo.models.catalog import ZOO
from edgeemo.models.spec import ModelSpec

_REGISTRY: dict[str, ModelSpec] = {spec.name: spec for spec in ZOO}


def zoo_dir() -> Path:
    """Folder that holds the zoo's weights (``<name>.pt``) and model cards (``<name>.json``): $EDGEEMO_ZOO_DIR, the
    package data of an installed wheel (edgeemo/_zoo), or models/ of a checkout."""
    from edgeemo.fsutil import package_data

    env = os.environ.get("EDGEEMO_ZOO_DIR")
    return Path(env) if env else package_data("_zoo", "models")


def register_model(spec: ModelSpec) -> Callable[[Callable], Callable]:
    """Register a factory ``fn(num_classes, in_channels) -> nn.Module`` under ``spec.name``."""

    def wrap(fn: Callable) -> Callable:
        if spec.name in _REGISTRY:
            raise ValueError(f"model {spec.name!r} registered twice")
        _REGISTRY[spec.name] = replace(spec, factory=fn)
        return fn

    return wrap


def list_models(pattern: str = "*") -> list[str]:
    """Zoo names matching a glob pattern, in registration order."""
    return [n for n in _REGISTRY if fnmatch.fnmatch(n, pattern)]


def get_spec(name: str) -> ModelSpec:
    """The spec of a zoo model; UnknownModelError names the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}: not a file and not in the zoo ({', '.join(_REGISTRY)})"
        ) from None


def weights_path(name: str) -> Path | None:
    """The trained weights attached to a zoo model, or None while it has none."""
    path = zoo_dir() / f"{name}.pt"
    return path if path.is_file() else None


def zoo_card(name: str | None) -> dict:
    """The model card shipped with a zoo model (``models/<name>.json``); {} for a name outside the zoo or without one."""
    import json

    if name not in list_models():
        return {}
    path = zoo_dir() / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def create_model(name: str, pretrained: bool = True):
    """Build a zoo model in eval mode, with its attached weights when it has them."""

    spec = get_spec(name)
    model = _factory(spec)(num_classes=spec.num_classes, in_channels=spec.channels)
    path = weights_path(name) if pretrained else None
    if path is not None:
        from edgeemo.safeload import torch_load

        state = torch_load(path)
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelLoadError(f"{path}: weights do not fit {name}: {exc}".splitlines()[0]) from exc
    return model.eval()


def _factory(spec: ModelSpec) -> Callable:
    """The spec's factory; a ``module:function`` name is imported now (the zoo's architectures need torch)."""
    if not isinstance(spec.factory, str):
        return spec.factory
    import importlib

    module, _, function = spec.factory.partition(":")
    return getattr(importlib.import_module(module), function)
