"""Quantization-aware fine-tuning with NNCF's PyTorch backend, and the INT8 OpenVINO IR it produces."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeemo.errors import EdgeemoError, first_line


def _reference_kernels() -> None:
    """NNCF compiles a C++ extension for its fake-quantize ops at first use (minutes on 2 cores, a compiler and a
    lock folder in ~/.cache/torch_extensions that a killed run leaves behind); its own fallback for a failed build,
    the torch-native reference functions, is used directly instead."""
    from nncf.torch.quantization.extensions import QuantizedFunctionsCPU
    from nncf.torch.quantization.reference import ReferenceQuantizedFunctions

    if QuantizedFunctionsCPU._loaded_namespace is None:
        QuantizedFunctionsCPU._loaded_namespace = ReferenceQuantizedFunctions
    import torch._dynamo

    # the reference functions are wrapped in torch.compile, which recompiles per tensor shape (and warns);
    # eager is as fast for these small models, and this process compiles nothing else
    torch._dynamo.config.disable = True


def quantize_for_training(model, calibration: np.ndarray):
    """Insert NNCF fake-quantizers (post-training initialised on ``calibration``, a normalised NCHW batch)."""
    import nncf
    import torch

    from edgeemo.quiet import quiet_native

    _reference_kernels()
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(calibration, dtype=np.float32))
    with quiet_native():
        return nncf.quantize(model, nncf.Dataset([x[i:i + 1] for i in range(len(x))]), subset_size=len(x))


def export_int8_ir(qmodel, input_shape: list[int], card: dict, out_xml: Path) -> Path:
    """The fine-tuned model as an OpenVINO IR with its FakeQuantize ops (INT8 when compiled), card in rt_info."""
    import warnings

    import openvino as ov
    import torch

    from edgeemo.card import ModelCard
    from edgeemo.fsutil import save_ir

    qmodel.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracing warnings about NNCF's quantizer levels (constants by design)
            model = ov.convert_model(qmodel, example_input=torch.zeros(input_shape), input=[input_shape])
    except Exception as exc:
        raise EdgeemoError(f"QAT export to OpenVINO failed: {first_line(exc)}") from exc
    ModelCard.from_dict(card).write_rt_info(model)
    return save_ir(model, out_xml)
