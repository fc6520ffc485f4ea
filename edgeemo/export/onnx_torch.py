"""An ONNX graph as a torch.nn.Module, so ONNX and TorchScript sources reach TFLite through litert-torch.

Covers the operators of image classifiers (convolutions, normalisation, pooling, activations,
elementwise math, FC, reshapes). An operator outside that set is reported by name.
"""

from __future__ import annotations

import math
import re
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgeemo.errors import ModelLoadError

Handler = Callable[[list, dict], list]
_OPS: dict[str, Handler] = {}


def _op(*names: str):
    def wrap(fn: Handler) -> Handler:
        for name in names:
            _OPS[name] = fn
        return fn

    return wrap


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ints(t) -> list[int]:
    return [int(v) for v in (t.tolist() if isinstance(t, torch.Tensor) else t)]


def _split_pads(pads: list[int], spatial: int) -> tuple[list[int] | None, list[int] | None]:
    """ONNX pads (begins..., ends...) -> (symmetric padding, or F.pad list for asymmetric)."""
    begins, ends = pads[:spatial], pads[spatial:]
    if begins == ends:
        return begins, None
    torch_pad: list[int] = []
    for b, e in zip(reversed(begins), reversed(ends)):
        torch_pad += [b, e]
    return [0] * spatial, torch_pad


@_op("Conv")
def _conv(x, a):
    inp, w, b = x[0], x[1], x[2] if len(x) > 2 else None
    spatial = w.dim() - 2
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ModelLoadError("tflite: ONNX Conv with auto_pad is not supported; export with explicit pads")
    pad, asym = _split_pads(list(a.get("pads", [0] * 2 * spatial)), spatial)
    if asym:
        inp = F.pad(inp, asym)
    conv = F.conv2d if spatial == 2 else F.conv1d
    return [conv(inp, w, b, a.get("strides", [1] * spatial), pad, a.get("dilations", [1] * spatial), a.get("group", 1))]


@_op("BatchNormalization")
def _bn(x, a):
    return [F.batch_norm(x[0], x[3], x[4], x[1], x[2], False, 0.0, a.get("epsilon", 1e-5))]


def _pool_impl(kind: str):
    def run(x, a):
        k = list(a["kernel_shape"])
        spatial = len(k)
        pad, asym = _split_pads(list(a.get("pads", [0] * 2 * spatial)), spatial)
        inp = x[0]
        if asym:
            inp = F.pad(inp, asym, value=-math.inf if kind == "max" else 0.0)
        strides = a.get("strides", [1] * spatial)
        ceil = bool(a.get("ceil_mode", 0))
        if kind == "max":
            return [F.max_pool2d(inp, k, strides, pad, a.get("dilations", [1] * spatial), ceil)]
        return [F.avg_pool2d(inp, k, strides, pad, ceil, bool(a.get("count_include_pad", 0)))]

    return run


_OPS["MaxPool"] = _pool_impl("max")
_OPS["AveragePool"] = _pool_impl("avg")
_OPS["GlobalAveragePool"] = lambda x, a: [x[0].mean(dim=tuple(range(2, x[0].dim())), keepdim=True)]
_OPS["GlobalMaxPool"] = lambda x, a: [x[0].amax(dim=tuple(range(2, x[0].dim())), keepdim=True)]
_OPS["Relu"] = lambda x, a: [F.relu(x[0])]
_OPS["Sigmoid"] = lambda x, a: [torch.sigmoid(x[0])]
_OPS["Tanh"] = lambda x, a: [torch.tanh(x[0])]
_OPS["LeakyRelu"] = lambda x, a: [F.leaky_relu(x[0], a.get("alpha", 0.01))]
_OPS["Elu"] = lambda x, a: [F.elu(x[0], a.get("alpha", 1.0))]
_OPS["PRelu"] = lambda x, a: [torch.where(x[0] >= 0, x[0], x[0] * x[1])]
_OPS["HardSigmoid"] = lambda x, a: [torch.clamp(x[0] * a.get("alpha", 0.2) + a.get("beta", 0.5), 0, 1)]
_OPS["HardSwish"] = lambda x, a: [F.hardswish(x[0])]
_OPS["Softmax"] = lambda x, a: [torch.softmax(x[0], dim=a.get("axis", -1))]
_OPS["Add"] = lambda x, a: [x[0] + x[1]]
_OPS["Sub"] = lambda x, a: [x[0] - x[1]]
_OPS["Mul"] = lambda x, a: [x[0] * x[1]]
_OPS["Div"] = lambda x, a: [x[0] / x[1]]
_OPS["Sqrt"] = lambda x, a: [torch.sqrt(x[0])]
_OPS["Neg"] = lambda x, a: [-x[0]]
_OPS["Identity"] = lambda x, a: [x[0]]
_OPS["Dropout"] = lambda x, a: [x[0]]
_OPS["Flatten"] = lambda x, a: [torch.flatten(x[0], a.get("axis", 1)) if a.get("axis", 1) > 0 else x[0].reshape(1, -1)]
_OPS["Transpose"] = lambda x, a: [x[0].permute(*a["perm"]) if "perm" in a else x[0].permute(*reversed(range(x[0].dim())))]
_OPS["Concat"] = lambda x, a: [torch.cat(x, dim=a["axis"])]
_OPS["MatMul"] = lambda x, a: [torch.matmul(x[0], x[1])]


@_op("Clip")
def _clip(x, a):
    low = x[1] if len(x) > 1 and x[1] is not None else a.get("min")
    high = x[2] if len(x) > 2 and x[2] is not None else a.get("max")
    low = float(low) if low is not None else None
    high = float(high) if high is not None else None
    return [torch.clamp(x[0], low, high)]


@_op("Gemm")
def _gemm(x, a):
    m, w = x[0], x[1]
    if a.get("transA", 0):
        m = m.t()
    w = w.t() if a.get("transB", 0) else w
    y = a.get("alpha", 1.0) * (m @ w)
    if len(x) > 2 and x[2] is not None:
        y = y + a.get("beta", 1.0) * x[2]
    return [y]


@_op("Reshape")
def _reshape(x, a):
    shape = _ints(x[1])
    shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return [x[0].reshape(shape)]


@_op("Squeeze")
def _squeeze(x, a):
    axes = _ints(x[1]) if len(x) > 1 else a.get("axes")
    if axes is None:
        return [x[0].squeeze()]
    y = x[0]
    for ax in sorted((ax % y.dim() for ax in axes), reverse=True):
        y = y.squeeze(ax)
    return [y]


@_op("Unsqueeze")
def _unsqueeze(x, a):
    axes = _ints(x[1]) if len(x) > 1 else a["axes"]
    y = x[0]
    for ax in sorted(ax % (y.dim() + len(axes)) for ax in axes):
        y = y.unsqueeze(ax)
    return [y]


@_op("ReduceMean")
def _reduce_mean(x, a):
    axes = _ints(x[1]) if len(x) > 1 else a.get("axes", list(range(x[0].dim())))
    return [x[0].mean(dim=tuple(axes), keepdim=bool(a.get("keepdims", 1)))]


@_op("Pad")
def _pad(x, a):
    pads = _ints(x[1]) if len(x) > 1 else a["pads"]
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    value = float(x[2]) if len(x) > 2 and x[2] is not None else 0.0
    half = len(pads) // 2
    torch_pad: list[int] = []
    for b, e in zip(reversed(pads[:half]), reversed(pads[half:])):
        torch_pad += [b, e]
    return [F.pad(x[0], torch_pad, mode=mode, value=value) if mode == "constant" else F.pad(x[0], torch_pad, mode=mode)]


class OnnxGraphModule(nn.Module):
    """Runs an ONNX graph with torch ops; initializers become buffers."""

    def __init__(self, model) -> None:
        super().__init__()
        from onnx import numpy_helper

        graph = model.graph
        unsupported = sorted({n.op_type for n in graph.node if n.op_type not in _OPS and n.op_type != "Constant"})
        if unsupported:
            raise ModelLoadError(f"tflite: ONNX op(s) {', '.join(unsupported)} not supported on the ONNX -> TFLite route")
        self._names: dict[str, str] = {}
        for i, init in enumerate(graph.initializer):
            self._register(init.name, torch.from_numpy(np.array(numpy_helper.to_array(init))), i)
        self._nodes = []
        for j, node in enumerate(graph.node):
            if node.op_type == "Constant":
                value = _attrs(node)["value"]
                self._register(node.output[0], torch.from_numpy(np.array(numpy_helper.to_array(value))), f"c{j}")
                continue
            self._nodes.append((node.op_type, list(node.input), list(node.output), _attrs(node)))
        inits = {init.name for init in graph.initializer}
        self._inputs = [i.name for i in graph.input if i.name not in inits]
        self._outputs = [o.name for o in graph.output]

    def _register(self, name: str, tensor: torch.Tensor, key) -> None:
        attr = f"t_{key}_{re.sub(r'[^0-9a-zA-Z_]', '_', name)}"[:60]
        self.register_buffer(attr, tensor, persistent=False)
        self._names[name] = attr

    def forward(self, *args: torch.Tensor):
        env: dict[str, torch.Tensor | None] = dict(zip(self._inputs, args))
        env[""] = None
        for op, inputs, outputs, attrs in self._nodes:
            values = [env[n] if n in env else getattr(self, self._names[n]) for n in inputs]
            for name, value in zip(outputs, _OPS[op](values, attrs)):
                env[name] = value
        results = [env[o] for o in self._outputs]
        return results[0] if len(results) == 1 else tuple(results)


def onnx_to_module(path) -> nn.Module:
    import onnx

    return OnnxGraphModule(onnx.load(str(path))).eval()
