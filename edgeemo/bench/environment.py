"""The host a figure was measured on: CPU, its ISA, cores and runtime versions (saved with every result)."""

from __future__ import annotations

import os
import platform


def environment() -> dict:
    """Host, runtime versions: saved with every result."""
    import importlib.metadata as md

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for pkg in ("openvino", "onnxruntime", "ai-edge-litert", "tflite-runtime", "torch", "numpy", "edgeemo"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return {"cpu": cpu, "isa": cpu_isa(), "cores": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), "os": platform.platform(), "versions": versions}


def cpu_isa() -> str:
    """The vector and matrix extensions that decide INT8/FP32 speed (x86: AVX2, AVX-512, VNNI, AMX; ARM: NEON, dotprod)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((line.split(":", 1)[1].split() for line in f if line.startswith(("flags", "Features"))), []))
    except OSError:
        return "unknown"
    named = [("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_vnni", "AVX512-VNNI"), ("avx_vnni", "AVX-VNNI"),
             ("avx512_bf16", "AVX512-BF16"), ("amx_tile", "AMX"), ("asimd", "NEON"), ("asimddp", "dotprod"), ("i8mm", "i8mm")]
    found = [label for flag, label in named if flag in flags]
    return " ".join(found) or "baseline"
