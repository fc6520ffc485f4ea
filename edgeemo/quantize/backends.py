"""INT8 per format: NNCF for OpenVINO IR and ONNX (QDQ), ai-edge-quantizer for TFLite."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgeemo.errors import EdgeemoError, MissingDependencyError
from edgeemo.card import ModelCard
from edgeemo.fsutil import atomic_path, save_ir
from edgeemo.quiet import quiet_native
from edgeemo.runtime import adapt_layout, layout_of


@dataclass
class QuantizeOptions:
    """What every format's quantizer is given besides the files and the calibration batch."""

    preset: str | None = None  # NNCF preset: performance or mixed
    ignored_scope: list[str] | None = None  # node names left FP32
    max_drop: float | None = None  # accuracy control (fraction, absolute); formats with accuracy_control only
    validation: tuple[np.ndarray, np.ndarray] | None = None  # (inputs, class indices) for accuracy control
    metric: Callable[[np.ndarray, np.ndarray], float] | None = None  # (truth, scores) -> macro recall
    bias_correction: str = "full"  # NNCF: full BiasCorrection (slower, measured better) or fast (FastBiasCorrection)
    notes: list[str] = field(default_factory=list)  # what a quantizer did other than asked (filled by it)

    @property
    def fast_bias_correction(self) -> bool:
        return self.bias_correction == "fast"


def _ignored(names: list[str] | None):
    import nncf

    return nncf.IgnoredScope(names=names, validate=False) if names else None


def _check_names(wanted: list[str] | None, present: dict[str, str], artifact: str) -> None:
    """Every --ignored-scope name must be a node of this artifact: NNCF would quantize the node anyway and say
    nothing. ``present`` maps node names to op types; the error lists the artifact's own layer names (they differ
    between formats: the IR's converter renames the convolutions it fuses)."""
    missing = [name for name in wanted or [] if name not in present]
    if missing:
        layers = [n for n, op in present.items() if op in ("Convolution", "GroupConvolution", "MatMul", "Conv", "Gemm")]
        shown = ", ".join(layers[:6]) + (f" ... ({len(layers)} in all)" if len(layers) > 6 else "")
        raise EdgeemoError(f"--ignored-scope: no node {missing[0]!r} in {artifact}; its layers: {shown or 'none'} "
                           "(node names differ between formats: quantize one with --to)")


def _preset(preset: str | None):
    import nncf

    if not preset:
        return None
    try:
        return nncf.QuantizationPreset(preset.lower())
    except ValueError:
        raise EdgeemoError(f"--preset {preset!r}: performance or mixed") from None


def quantize_openvino(xml: Path, out_xml: Path, calib: np.ndarray, options: QuantizeOptions = QuantizeOptions()) -> Path:
    """nncf.quantize (or quantize_with_accuracy_control when ``max_drop`` is given) on an FP32 IR."""
    preset, ignored_scope, max_drop = options.preset, options.ignored_scope, options.max_drop
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    _check_names(ignored_scope, {op.get_friendly_name(): op.get_type_name() for op in model.get_ordered_ops()}, xml.name)
    shape = [int(d) for d in model.inputs[0].get_shape()]
    layout = model.get_rt_info(["edgeemo", "layout"]).astype(str) if model.has_rt_info(["edgeemo", "layout"]) else layout_of(shape)
    items = [adapt_layout(calib[i:i + shape[0]], shape, layout) for i in range(0, len(calib) - shape[0] + 1, shape[0])]
    calibration = nncf.Dataset(items)
    with quiet_native():
        if max_drop is None:
            quantized = nncf.quantize(model, calibration, preset=_preset(preset), subset_size=len(items),
                                      fast_bias_correction=options.fast_bias_correction, ignored_scope=_ignored(ignored_scope))
        else:
            xs, ys = options.validation
            metric = options.metric
            val_items = [(adapt_layout(xs[i:i + shape[0]], shape, layout), ys[i:i + shape[0]])
                         for i in range(0, len(xs) - shape[0] + 1, shape[0])]

            def validate(compiled, data) -> float:
                scores, truth = [], []
                for x, y in data:
                    scores.append(np.asarray(compiled(x)[0]).reshape(len(y), -1))
                    truth.append(y)
                return metric(np.concatenate(truth), np.concatenate(scores))

            quantized = nncf.quantize_with_accuracy_control(
                model, calibration, nncf.Dataset(val_items), validation_fn=validate, max_drop=max_drop,
                drop_type=nncf.DropType.ABSOLUTE, preset=_preset(preset), subset_size=len(items),
                fast_bias_correction=options.fast_bias_correction,
                ignored_scope=_ignored(ignored_scope))
    ModelCard.copy_rt_info(model, quantized)
    return save_ir(quantized, out_xml, compress_to_fp16=True)


def depthwise_convs(model) -> list[str]:
    """Names of the grouped (depthwise) Conv nodes of an ONNX model."""
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t).shape for t in model.graph.initializer}
    names = []
    for node in model.graph.node:
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if node.op_type == "Conv" and group > 1 and len(node.input) > 1 and node.input[1] in weights:
            names.append(node.name)
    return names


def quantize_onnx(path: Path, out: Path, calib: np.ndarray, options: QuantizeOptions = QuantizeOptions()) -> Path:
    """nncf.quantize on an ONNX model: a QDQ model ONNX Runtime runs in INT8."""
    preset, ignored_scope = options.preset, options.ignored_scope
    import nncf
    import onnx

    model = onnx.load(str(path))
    _check_names(ignored_scope, {node.name: node.op_type for node in model.graph.node}, path.name)
    inp = model.graph.input[0]
    shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
    layout = layout_of(shape)
    items = [{inp.name: adapt_layout(calib[i:i + shape[0]], shape, layout)} for i in range(0, len(calib) - shape[0] + 1, shape[0])]
    # ONNX Runtime's QLinearConv rejects NNCF's depthwise INT8 pattern (zero point on a grouped input): depthwise
    # convolutions stay FP32 between INT8 layers (they are a small share of the MACC in the models that have them)
    ignored = list(ignored_scope or []) + depthwise_convs(model)
    def run(fast: bool):
        with quiet_native():
            return nncf.quantize(model, nncf.Dataset(items), preset=_preset(preset), subset_size=len(items),
                                 fast_bias_correction=fast, ignored_scope=_ignored(ignored))

    try:
        quantized = run(options.fast_bias_correction)
    except KeyError as exc:  # NNCF 3.4's ONNX BiasCorrection fails on some graphs (emonet-resnet10: KeyError '/conv1/Conv')
        if options.fast_bias_correction:
            raise
        quantized = run(True)
        options.notes.append(f"onnx: NNCF's full bias correction failed on this graph ({exc}); the fast one was used")
    quantized.ClearField("metadata_props")
    quantized.metadata_props.extend(model.metadata_props)
    with atomic_path(out) as tmp:
        onnx.save(quantized, str(tmp))
    return out


def quantize_tflite(path: Path, out: Path, calib: np.ndarray, options: QuantizeOptions = QuantizeOptions()) -> Path:
    """Full-integer (INT8 weights and activations) TFLite with ai-edge-quantizer's static recipe, calibrated
    on the same preprocessed inputs. Input/output stay float32 (quantize/dequantize at the edges)."""
    try:
        with quiet_native():
            from ai_edge_quantizer import quantizer, recipe
            from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise MissingDependencyError("TFLite INT8 needs ai-edge-quantizer (installed with litert-torch)") from None
    if options.ignored_scope:
        options.notes.append("tflite: --ignored-scope not applied (ai-edge-quantizer's static recipe quantizes every "
                             "layer); it applies to the OpenVINO and ONNX INT8 artifacts")
    detail = Interpreter(model_path=str(path)).get_input_details()[0]
    shape = [int(d) for d in detail["shape"]]
    signature = Interpreter(model_path=str(path)).get_signature_list()
    sig_name = next(iter(signature))
    input_name = signature[sig_name]["inputs"][0]
    samples = [{input_name: adapt_layout(calib[i:i + shape[0]], shape, layout_of(shape))}
               for i in range(0, len(calib) - shape[0] + 1, shape[0])]
    with quiet_native():
        q = quantizer.Quantizer(str(path), recipe.static_wi8_ai8())
        calibration = q.calibrate({sig_name: samples})
        result = q.quantize(calibration)
    with atomic_path(out) as tmp:
        tmp.write_bytes(bytes(result.quantized_model))
    return out
