"""MACC, parameters and activations counted on an OpenVINO graph (any format reads into one).

Convention (docs/profile.md): MACC = multiply-accumulates of convolutions and fully-connected layers,
plus one per output element for a bias add, plus one per element for a per-channel scale-shift
(BatchNormalization at inference, or a Multiply followed by an Add of constants). Parameters are
the constants those ops consume; a BatchNormalization counts 2 per channel (scale and shift), also
when a converter dropped its all-zero shift and left only the per-channel Multiply.
"""

from __future__ import annotations

import math

import openvino as ov

from edgeemo.profile.result import LayerCost, Profile

_SKIP = {"Parameter", "Constant", "Result"}
_SCALE_OPS = {"Multiply", "Divide"}
_SHIFT_OPS = {"Add", "Subtract"}
_LINEAR_OPS = {"Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData", "MatMul"}
_VIEW_OPS = {"Reshape", "Squeeze", "Unsqueeze", "Convert", "Transpose"}  # move no arithmetic, make no new layer
_FLOAT_TYPES = {"f32", "f16", "bf16", "f64", "i8", "u8", "i4", "u4", "nf4"}


def _numel(shape) -> int:
    return math.prod(int(d) for d in shape)


class _ConstTracker:
    """Tells whether an op's output is computable without the model's inputs."""

    def __init__(self) -> None:
        self._memo: dict[int, bool] = {}

    def is_const(self, node: ov.Node) -> bool:
        key = node.get_name()  # unique per node; Python wrappers are not
        if key not in self._memo:
            kind = node.get_type_name()
            if kind == "Constant":
                self._memo[key] = True
            elif kind == "Parameter":
                self._memo[key] = False
            elif kind == "ShapeOf":
                self._memo[key] = node.input(0).get_partial_shape().is_static
            else:
                self._memo[key] = all(self.is_const(i.get_source_output().get_node()) for i in node.inputs())
        return self._memo[key]


def _cost(op: ov.Node, consts: _ConstTracker, scales: set[str], shifts: set[str]) -> tuple[int, int, str]:
    """(macc, params, role) of one data-path op.

    role is "scale" / "shift" for a constant per-channel scale / shift that may pair with the
    next op into one scale-shift, "merged" for the op completing such a pair or a bias add
    (its output is no new activation), else "".
    """
    kind = op.get_type_name()
    out_elems = _numel(op.output(0).get_shape())
    ins = [i.get_source_output() for i in op.inputs()]
    const_in = [o for o in ins if consts.is_const(o.get_node())]
    if kind == "Convolution":
        w = list(ins[1].get_shape())  # [O, I, kh, kw]
        return out_elems * _numel(w[1:]), _numel(w), ""
    if kind == "GroupConvolution":
        w = list(ins[1].get_shape())  # [G, O/G, I/G, kh, kw]
        return out_elems * _numel(w[2:]), _numel(w), ""
    if kind in ("ConvolutionBackpropData", "GroupConvolutionBackpropData"):
        w = list(ins[1].get_shape())  # [I, O, kh, kw] / [G, I/G, O/G, kh, kw]
        per_input = _numel(w[1:] if kind == "ConvolutionBackpropData" else w[2:])
        return _numel(ins[0].get_shape()) * per_input, _numel(w), ""
    if kind == "MatMul":
        a = list(ins[0].get_shape())
        k = a[-2] if op.get_attributes().get("transpose_a") and len(a) > 1 else a[-1]
        return out_elems * k, sum(_numel(o.get_shape()) for o in const_in), ""
    if kind == "BatchNormInference":
        channels = _numel(ins[1].get_shape())
        producer = ins[0].get_node()
        if producer.get_type_name() in _LINEAR_OPS:
            return out_elems, channels, "merged"  # folds into the layer as its bias, as the IR and TFLite have it
        if producer.get_type_name() in _SHIFT_OPS and _is_bias_add(producer, consts):
            return 0, 0, "merged"  # folds into the layer's weights and existing bias
        return out_elems, 2 * channels, ""
    if kind in _SCALE_OPS | _SHIFT_OPS and len(const_in) == 1 and len(ins) == 2:
        params = _numel(const_in[0].get_shape())
        params = params if params > 1 else 0  # a scalar is a fixed constant, not a learned one
        producer = (ins[0] if consts.is_const(ins[1].get_node()) else ins[1]).get_node()
        if kind in _SCALE_OPS:
            if producer.get_name() in shifts:
                return 0, params, "merged"  # (x - mean) * scale: one scale-shift, counted at the shift
            if params and not _feeds_const_shift(op, consts):
                params *= 2  # a folded BatchNorm whose zero shift the converter removed
            return out_elems, params, "scale"
        if producer.get_name() in scales:
            return 0, params, "merged"  # the shift half of a scale-shift, counted at its Multiply
        if _is_bias_add(op, consts):
            if _all_zero(const_in[0].get_node()):
                return 0, 0, "merged"  # TFLite gives every convolution a bias, zeros where the source had none
            return out_elems, params, "merged"  # a bias add
        return out_elems, params, "shift"
    return 0, 0, ""


def _is_bias_add(op: ov.Node, consts: _ConstTracker) -> bool:
    """Whether an Add/Subtract adds a constant to the output of a linear layer (the layer's bias)."""
    ins = [i.get_source_output().get_node() for i in op.inputs()]
    return (len(ins) == 2 and any(consts.is_const(n) for n in ins)
            and any(n.get_type_name() in _LINEAR_OPS for n in ins))


def _all_zero(node: ov.Node) -> bool:
    """A Constant holding only zeros (other constant subgraphs are not evaluated)."""
    if node.get_type_name() != "Constant":
        return False
    data = node.get_data()
    return data.size > 0 and not data.any()


def _feeds_const_shift(op: ov.Node, consts: _ConstTracker) -> bool:
    """Whether a scale op's output goes on to an Add/Subtract of a constant (its shift)."""
    for target in op.output(0).get_target_inputs():
        consumer = target.get_node()
        if consumer.get_type_name() in _SHIFT_OPS and any(
            consts.is_const(i.get_source_output().get_node()) for i in consumer.inputs()
        ):
            return True
    return False


def profile_model(model: ov.Model, source: str = "") -> Profile:
    """Per-layer and total cost of a model whose input shapes are static."""
    consts = _ConstTracker()
    scales: set[str] = set()
    shifts: set[str] = set()
    layers: list[LayerCost] = []
    activations = 0
    for op in model.get_ordered_ops():
        if op.get_type_name() in _SKIP or consts.is_const(op):
            continue
        macc, params, role = _cost(op, consts, scales, shifts)
        if role == "scale":
            scales.add(op.get_name())
        elif role == "shift":
            shifts.add(op.get_name())
        if role != "merged" and op.get_type_name() not in _VIEW_OPS:
            activations += _numel(op.output(0).get_shape())
        layers.append(
            LayerCost(
                name=op.get_friendly_name(),
                op=op.get_type_name(),
                output_shape=[int(d) for d in op.output(0).get_shape()],
                macc=int(macc),
                params=int(params),
            )
        )
    weight_bytes = sum(
        op.get_byte_size()
        for op in model.get_ordered_ops()
        if op.get_type_name() == "Constant"
        and op.get_element_type().get_type_name() in _FLOAT_TYPES
        and _numel(op.get_output_shape(0)) > 1
    )
    return Profile(
        source=source,
        input_shape=[int(d) for d in model.inputs[0].get_shape()],
        macc=sum(layer.macc for layer in layers),
        params=sum(layer.params for layer in layers),
        activations=activations,
        weight_bytes=int(weight_bytes),
        layers=layers,
    )
