"""-> TFLite. PyTorch via litert-torch with channel-last I/O (NHWC, no transposes around convolutions);
ONNX (and TorchScript, through its ONNX export) via edgeemo.export.onnx_torch then the same route; Keras/TensorFlow via TFLiteConverter.from_saved_model.
The choice and the evidence for it: docs/tflite-route.md."""

from __future__ import annotations

from pathlib import Path

from edgeemo.errors import MissingDependencyError, ModelLoadError
from edgeemo.export._torch_util import eval_mode
from edgeemo.fsutil import atomic_path
from edgeemo.quiet import quiet_native


def torch_to_tflite(module, example, out: str | Path) -> Path:
    """Convert an eval-mode module; a 4-D NCHW input becomes the TFLite model's NHWC input."""
    try:
        with quiet_native():
            import litert_torch
    except ImportError:
        raise MissingDependencyError("PyTorch -> TFLite needs litert-torch: pip install 'edgeemo[tf]'") from None
    module = eval_mode(module)
    args = (example,)
    if example.dim() == 4:
        module = litert_torch.to_channel_last_io(module, args=[0])
        args = (example.permute(0, 2, 3, 1).contiguous(),)
    with atomic_path(out) as tmp:
        try:
            with quiet_native():
                litert_torch.convert(module, args).export(str(tmp))
        except Exception as exc:
            raise ModelLoadError(f"TFLite conversion (litert-torch) failed: {_unsupported(exc)}") from exc
    return Path(out)


def onnx_to_tflite(onnx_path: str | Path, example, out: str | Path) -> Path:
    """ONNX -> a torch module that runs the graph (edgeemo.export.onnx_torch) -> litert-torch."""
    from edgeemo.export.onnx_torch import onnx_to_module

    return torch_to_tflite(onnx_to_module(onnx_path), example, out)


def saved_model_to_tflite(saved_model: str | Path, out: str | Path, fp16: bool = False, representative=None, int8_io: bool = False) -> Path:
    """TensorFlow SavedModel -> TFLite (FP32, FP16 weights, or full-integer with a representative dataset)."""
    with quiet_native():
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
        if fp16:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        if representative is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if int8_io:
                converter.inference_input_type = tf.int8
                converter.inference_output_type = tf.int8
        try:
            data = converter.convert()
        except Exception as exc:
            raise ModelLoadError(f"TFLite conversion failed: {_unsupported(exc)}") from exc
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return Path(out)


def _unsupported(exc: BaseException) -> str:
    text = str(exc)
    for line in text.splitlines():
        if "not supported" in line.lower() or "unsupported" in line.lower() or "no lowering" in line.lower():
            return line.strip()[:300]
    return (text.strip().splitlines() or [type(exc).__name__])[0][:300]


def tflite_to_fp16(fp32_model: str | Path, out: str | Path) -> Path:
    """FP16 weights (dequantized to FP32 at load time) with ai-edge-quantizer's float casting."""
    try:
        with quiet_native():
            from ai_edge_quantizer import quantizer
            from ai_edge_quantizer.recipe import AlgorithmName, TFLOperationName
    except ImportError:
        raise MissingDependencyError("TFLite FP16 needs ai-edge-quantizer (installed with litert-torch)") from None
    with quiet_native():
        q = quantizer.Quantizer(str(fp32_model))
        q.add_weight_only_config(regex=".*", operation_name=TFLOperationName.ALL_SUPPORTED, num_bits=16,
                                 algorithm_key=AlgorithmName.FLOAT_CASTING)
        result = q.quantize()
    with atomic_path(out) as tmp:
        tmp.write_bytes(bytes(result.quantized_model))
    return Path(out)


def export(job, precision: str) -> Path:
    """The TFLite flatbuffer (``edgeemo.formats`` row "tflite"): litert-torch from PyTorch, onnx2tf from ONNX (or
    TorchScript), the TFLite converter from Keras; FP16 halves the FP32 file."""
    from dataclasses import replace

    from edgeemo.formats import artifact_path

    src = job.src
    path = job.out / artifact_path("tflite", precision)
    if src.framework == "keras":
        return saved_model_to_tflite(job.saved_model(), path, fp16=precision == "fp16")
    if precision == "fp16":
        fp32 = job.out / artifact_path("tflite", "fp32")
        if not fp32.exists():
            fp32 = export(replace(job, out=job.tmp), "fp32")
        return tflite_to_fp16(fp32, path)
    import torch

    example = torch.zeros(job.shape)
    if src.framework == "torch" and not src.extra.get("tflite_via_onnx"):
        return torch_to_tflite(src.module, example, path)
    return onnx_to_tflite(job.onnx_path, example, path)
