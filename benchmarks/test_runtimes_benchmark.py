"""pytest-benchmark suites per runtime on emonet-resnet10 (1 thread, batch 1).

Run: .venv/bin/python -m pytest benchmarks/test_runtimes_benchmark.py --benchmark-only
"""

import numpy as np
import pytest

from edgeemo.export.convert import convert
from edgeemo.sources import Overrides, load_source


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("emonet")
    convert(load_source("emonet-resnet10", Overrides()), out)
    return out


@pytest.mark.parametrize("path, runtime", [("openvino/model.xml", "openvino"), ("model.onnx", "onnxruntime"),
                                           ("model.tflite", "litert")])
def test_runtime_latency(benchmark, artifacts, path, runtime):
    from edgeemo.runtime import load

    session = load(artifacts / path, runtime, threads=1)
    x = session.encode(np.random.default_rng(0).uniform(0, 255, session.static_shape()).astype(np.float32))
    benchmark(session.run, x)


def test_torch_eager_latency(benchmark):
    import torch

    from edgeemo.models import create_model

    torch.set_num_threads(1)
    model = create_model("emonet-resnet10")
    x = torch.rand(1, 3, 64, 64) * 255
    with torch.inference_mode():
        benchmark(model, x)
