"""bench: one latency protocol for OpenVINO, ONNX Runtime, LiteRT and PyTorch eager. ``result`` (what a run
reports), ``environment`` (the host it ran on), ``run`` (opening, feeding and timing), ``matrix`` (every artifact x
runtime of a folder)."""

from edgeemo.bench.environment import cpu_isa, environment
from edgeemo.bench.result import BenchResult
from edgeemo.bench.run import RUNTIMES, benchmark, prepare

__all__ = ["RUNTIMES", "BenchResult", "benchmark", "cpu_isa", "environment", "prepare"]
