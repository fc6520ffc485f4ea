"""Opening a source model (step 2 of resolve -> load -> graph): PyTorch (zoo, TorchScript, .pt2, checkpoint + --arch),
Keras or ONNX, as a SourceModel with its preprocessing facts settled."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.errors import EdgeemoError, ModelLoadError, ShapeError, first_line
from edgeemo.models import create_model
from edgeemo.models.spec import ModelSpec
from edgeemo.sources.reference import Source, resolve

STATE_KEYS = ("state_dict", "model_state_dict", "model", "network", "net", "weights", "params", "ema")


@dataclass
class Overrides:
    """Preprocessing facts given on the command line (None = not given)."""

    input_shape: list[int] | None = None
    channel_order: str | None = None
    mean: list[float] | None = None
    scale: list[float] | None = None
    labels: list[str] | None = None
    resize: str | None = None


@dataclass
class SourceModel:
    """A loaded source model, its facts, and how to run it in its own framework."""

    framework: str  # "torch", "keras" or "onnx"
    ref: str
    spec: ModelSpec
    module: Any = None  # torch.nn.Module / keras.Model
    path: Path | None = None  # ONNX or Keras file
    extra: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> list[int]:
        return list(self.spec.input_shape())

    def reference(self, batch: np.ndarray) -> np.ndarray:
        """Outputs of the source framework on a batch in the source's layout."""
        try:
            return self._reference(batch)
        except EdgeemoError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"{self.ref}: the source model fails on inputs of shape "
                                 f"{list(batch.shape[1:])}: {str(exc).strip().splitlines()[0][:200]}") from exc

    def _reference(self, batch: np.ndarray) -> np.ndarray:
        if self.framework == "torch":
            import torch

            step = self.extra.get("fixed_batch") or len(batch)  # an ExportedProgram guards its batch size
            with torch.no_grad():
                return np.concatenate([
                    self.module(torch.from_numpy(np.ascontiguousarray(batch[i : i + step], np.float32))).numpy()
                    for i in range(0, len(batch), step)
                ])
        if self.framework == "keras":
            from edgeemo.quiet import quiet_native

            with quiet_native():
                return np.asarray(self.module(batch.astype(np.float32), training=False))
        from edgeemo.runtime.onnxruntime import OnnxRuntimeSession

        runner = self.extra.setdefault("ort", OnnxRuntimeSession(self.path))
        return runner.infer(batch)


def load_source(
    ref: str,
    overrides: Overrides,
    arch: str | None = None,
    arch_kwargs: dict | None = None,
    state_key: str | None = None,
) -> SourceModel:
    """Open SRC as the framework it belongs to and settle its preprocessing facts."""
    from edgeemo.models import get_spec, list_models

    arch = arch or trained_arch(ref)
    if arch in list_models():  # weights trained by `edgeemo train` for a zoo architecture: the zoo's facts apply
        if not Path(ref).is_file():
            raise ModelLoadError(f"no such checkpoint: {ref}")
        module = create_model(arch, pretrained=False)
        load_checkpoint_into(module, Path(ref), state_key, ref, arch)
        return SourceModel("torch", ref, _spec_from_zoo(get_spec(arch), overrides), module.eval())
    if arch:
        module = build_from_checkpoint(ref, arch, arch_kwargs or {}, state_key)
        shape = _require_shape(overrides.input_shape, ref)
        return SourceModel("torch", ref, _spec(Path(ref).stem, shape, "NCHW", overrides), module)
    source = resolve(ref)
    if source.kind == "zoo":
        return SourceModel("torch", ref, _spec_from_zoo(source.spec, overrides), load_torch(source))
    if source.kind in ("torchscript", "exported_program"):
        if source.kind == "torchscript" and not _is_torchscript(source):
            module = _load_pickled_module(source)
        else:
            module = load_torch(source)
        shape = overrides.input_shape or (exported_program_shape(source.path) if source.kind == "exported_program" else None)
        spec = _spec(source.path.stem, _require_shape(shape, ref), "NCHW", overrides)
        # torch.export (and so litert-torch) cannot trace a ScriptModule: TFLite goes through ONNX
        extra = {"tflite_via_onnx": source.kind == "torchscript"}
        if source.kind == "exported_program":
            extra["fixed_batch"] = spec.input_shape()[0] if shape is None else shape[0]
        return SourceModel("torch", ref, spec, module, extra=extra)
    if source.kind in ("keras", "saved_model"):
        from edgeemo.keras_io import load_keras

        model = load_keras(source.path) if source.kind == "keras" else _load_saved_model(source.path)
        shape = overrides.input_shape or _keras_shape(model)
        return SourceModel("keras", ref, _spec(source.path.stem, _require_shape(shape, ref), "NHWC", overrides), model, source.path)
    if source.kind == "onnx":
        return SourceModel("onnx", ref, _spec(source.path.stem, _onnx_shape(source, overrides), "NCHW", overrides), path=source.path)
    raise ModelLoadError(f"{ref}: a {source.kind} file is already a deployment artifact; convert its source model instead")


def trained_arch(ref: str) -> str | None:
    """The zoo architecture of trained weights (their card beside them: train's model.json, the zoo's own), else None."""
    from edgeemo.models import list_models
    from edgeemo.predictor import weights_card

    path = Path(ref)
    if path.suffix.lower() not in (".pt", ".pth") or not path.is_file():
        return None
    card = weights_card(path) or {}
    arch = card.get("architecture") if "training" in card else None
    return arch if arch in list_models() else None


def _spec_from_zoo(spec: ModelSpec, o: Overrides) -> ModelSpec:
    from dataclasses import replace

    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in
               dict(channel_order=o.channel_order, mean=o.mean, scale=o.scale, labels=o.labels, resize=o.resize).items() if v}
    if o.input_shape:
        changes["input_size"] = tuple(o.input_shape[2:4])
    return replace(spec, **changes)


def _spec(name: str, shape: list[int], layout: str, o: Overrides) -> ModelSpec:
    if len(shape) != 4:
        raise ShapeError(f"{name}: edgeemo converts image models with a 4-D input; got {shape}")
    channels = shape[3] if layout == "NHWC" else shape[1]
    hw = (shape[1], shape[2]) if layout == "NHWC" else (shape[2], shape[3])
    order = o.channel_order or ("gray" if channels == 1 else "bgr")
    if (order == "gray") != (channels == 1):
        raise ShapeError(f"{name}: channel order {order!r} does not fit an input with {channels} channel(s)")
    n = 1 if order == "gray" else 3
    mean, scale = tuple(o.mean or [0.0] * n), tuple(o.scale or [1.0] * n)
    mean, scale = (mean * n if len(mean) == 1 else mean), (scale * n if len(scale) == 1 else scale)
    labels = tuple(o.labels) if o.labels else ()
    return ModelSpec(name=name, input_size=hw, channel_order=order, labels=labels, mean=mean, scale=scale,
                     layout=layout, resize=o.resize or "crop", output="softmax")


def _require_shape(shape, ref: str) -> list[int]:
    if not shape:
        raise ShapeError(f"{ref}: the input shape is not recorded in the model; give it with --input-shape, e.g. 1,3,64,64")
    return list(shape)


def _onnx_shape(source: Source, o: Overrides) -> list[int]:
    import onnx

    try:
        model = onnx.load(str(source.path), load_external_data=False)
    except Exception as exc:
        raise ModelLoadError(f"{source.ref}: not a readable ONNX file: {str(exc).splitlines()[0][:200]}") from exc
    if o.input_shape:
        return o.input_shape
    from edgeemo.runtime import check_input

    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    shapes = [[d.dim_value if d.HasField("dim_value") else None for d in i.type.tensor_type.shape.dim] for i in inputs]
    return check_input(source.ref, shapes)


def _keras_shape(model) -> list[int] | None:
    shape = list(model.inputs[0].shape) if getattr(model, "inputs", None) else None
    if not shape:
        return None
    shape[0] = shape[0] or 1
    return shape if all(shape) else None


def _load_saved_model(path: Path):
    raise ModelLoadError(f"{path}: SavedModel folders convert through their Keras file (.keras/.h5); pass that instead")


def _is_torchscript(source: Source) -> bool:
    """True for a TorchScript archive; a pickled model needs --trust-checkpoint, a checkpoint needs --arch."""
    import zipfile

    if zipfile.is_zipfile(source.path):
        names = zipfile.ZipFile(source.path).namelist()
        if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
            return True
    from edgeemo.safeload import pickles_trusted

    if not pickles_trusted():
        raise ModelLoadError(
            f"{source.ref}: not TorchScript; a checkpoint needs its architecture: the model.json that `edgeemo train` "
            "writes beside its weights, or --arch (convert, optimize); or --trust-checkpoint to unpickle a whole "
            "saved model (runs code from the file)"
        )
    return False


def _load_pickled_module(source: Source):
    import torch

    from edgeemo.safeload import torch_load

    obj = torch_load(source.path)
    if not isinstance(obj, torch.nn.Module):
        raise ModelLoadError(f"{source.ref}: holds a {type(obj).__name__}, not a model; give its class with --arch")
    return obj.eval()


def import_arch(arch: str):
    """'package.module:Class' or 'path/to/file.py:Class' -> the class (or factory)."""
    target, sep, name = arch.rpartition(":")
    if not sep or not target or not name:
        raise ModelLoadError(f"--arch {arch!r}: expected package.module:ClassName or path/to/file.py:ClassName")
    try:
        if target.endswith(".py") or "/" in target:
            path = Path(target)
            if not path.is_file():
                raise ModelLoadError(f"--arch {arch!r}: no such file {target}")
            spec = importlib.util.spec_from_file_location(f"edgeemo_arch_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except EdgeemoError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"--arch {arch!r} does not import: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
    try:
        return getattr(module, name)
    except AttributeError:
        raise ModelLoadError(f"--arch {arch!r}: {target} has no {name}") from None


def parse_kwargs(text: str | None) -> dict:
    """Constructor arguments: ``key=literal,...`` (Python literals: numbers, strings, lists, nested lists, dicts;
    read with ``ast``, never evaluated), a bare word is a string; or ``@file.json`` holding one JSON object."""
    import ast
    import json

    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            value = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"--arch-kwargs {text}: not a readable JSON file ({exc})") from exc
        if not isinstance(value, dict):
            raise ModelLoadError(f"--arch-kwargs {text}: the file must hold a JSON object of argument names to values")
        return value
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        raise ModelLoadError(f"--arch-kwargs {text!r}: expected key=value pairs separated by commas") from None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        raise ModelLoadError(f"--arch-kwargs {text!r}: expected key=value pairs separated by commas")
    out = {}
    for keyword in call.keywords:
        node = keyword.value
        if isinstance(node, ast.Name):  # name=x: a bare word is a string
            out[keyword.arg] = node.id
            continue
        try:
            out[keyword.arg] = ast.literal_eval(node)
        except ValueError:
            raise ModelLoadError(f"--arch-kwargs: {keyword.arg}= is not a Python literal (numbers, strings, lists, dicts)") from None
    return out


def find_state_dict(obj: Any, state_key: str | None, ref: str) -> dict:
    """The state dict inside a checkpoint: named by ``state_key``, under a usual key, or the object itself."""
    import torch

    def is_state(d: Any) -> bool:
        return isinstance(d, dict) and all(isinstance(v, torch.Tensor) for v in d.values())  # {} for parameterless models

    if state_key:
        if not isinstance(obj, dict) or state_key not in obj:
            keys = ", ".join(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
            raise ModelLoadError(f"{ref}: no key {state_key!r} in the checkpoint (it has: {keys})")
        obj = obj[state_key]
    if is_state(obj):
        return obj
    if isinstance(obj, dict):
        for key in STATE_KEYS:
            if is_state(obj.get(key)):
                return obj[key]
        nested = [k for k, v in obj.items() if is_state(v)]
        if len(nested) == 1:
            return obj[nested[0]]
        raise ModelLoadError(f"{ref}: cannot tell which entry is the state dict (keys: {', '.join(map(str, obj))}); name it with --state-key")
    raise ModelLoadError(f"{ref}: the checkpoint holds a {type(obj).__name__}, not a state dict")


def build_from_checkpoint(weights: str, arch: str, kwargs: dict, state_key: str | None):
    """Instantiate ``arch(**kwargs)`` and load the checkpoint's state dict into it (CPU, weights-only unless trusted)."""
    path = Path(weights)
    if not path.is_file():
        raise ModelLoadError(f"no such checkpoint: {weights}")
    cls = import_arch(arch)
    try:
        model = cls(**kwargs)
    except TypeError as exc:
        raise ModelLoadError(f"--arch {arch}: cannot build it with {kwargs or 'no arguments'}: {exc}") from exc
    load_checkpoint_into(model, path, state_key, weights, arch)
    return model.eval()


def load_checkpoint_into(model, path: Path, state_key: str | None, label: str, arch: str) -> None:
    """The state dict of a checkpoint file (weights-only unless trusted) loaded into ``model``, exactly: a missing,
    unexpected or wrongly shaped tensor is one line that starts with ``label`` and names ``arch``."""
    from edgeemo.safeload import torch_load

    state = find_state_dict(torch_load(path), state_key, label)
    if any("__nncf_hooks" in k for k in state):
        raise ModelLoadError(f"{label}: a quantization-aware (train --qat) state dict with NNCF quantizers; its model is "
                             f"the INT8 IR train wrote beside it (openvino-int8/model.xml)")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}  # saved from DataParallel
    try:
        result = model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=False)
    except RuntimeError as exc:  # shape mismatches
        detail = next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), str(exc).splitlines()[0])
        raise ModelLoadError(f"{label}: state dict does not match {arch}: {detail[:300]}") from exc
    if result.missing_keys or result.unexpected_keys:
        def few(keys):
            return ", ".join(keys[:5]) + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")
        parts = []
        if result.missing_keys:
            parts.append(f"missing {few(result.missing_keys)}")
        if result.unexpected_keys:
            parts.append(f"unexpected {few(result.unexpected_keys)}")
        raise ModelLoadError(f"{label}: state dict does not match {arch}: {'; '.join(parts)}")


def load_torch(source: Source):
    """A PyTorch module from a zoo name, TorchScript file or ExportedProgram."""
    import torch

    if source.kind == "zoo":
        return create_model(source.ref)
    if source.kind == "torchscript":
        if not zipfile.is_zipfile(source.path):
            raise ModelLoadError(f"{source.ref}: not a TorchScript archive (truncated, or a checkpoint that needs --arch)")
        try:
            return torch.jit.load(str(source.path), map_location="cpu").eval()
        except Exception as exc:
            raise ModelLoadError(f"{source.ref}: not a TorchScript model ({first_line(exc)}); a checkpoint needs --arch") from exc
    if source.kind == "exported_program":
        from edgeemo.safeload import load_exported_program

        return load_exported_program(source.path).module()
    raise ModelLoadError(f"{source.ref}: a {source.kind} model is not a PyTorch model")


def exported_program_shape(path: Path) -> list[int] | None:
    """Static input shape recorded in an ExportedProgram, if any."""
    from edgeemo.safeload import load_exported_program

    program = load_exported_program(path)
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name in program.graph_signature.user_inputs:
            val = node.meta.get("val")
            if val is not None and all(isinstance(d, int) for d in val.shape):
                return list(val.shape)
    return None
