"""Raspberry Pi bundles pass their self-test on ARM64 code (aarch64 Python, numpy and LiteRT under qemu-user)."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "arm64_env.sh"


@pytest.fixture(scope="module")
def arm64():
    if os.geteuid() != 0 and not shutil.which("qemu-aarch64-static"):
        pytest.skip("qemu-user-static is not installed and installing it needs root")
    probe = subprocess.run([str(SCRIPT), "--", "-c", "import platform; print(platform.machine())"], capture_output=True,
                           text=True, timeout=600)
    if probe.returncode != 0:
        pytest.skip(f"the ARM64 environment could not be set up here: {probe.stderr.strip()[-300:]}")
    assert probe.stdout.strip() == "aarch64"
    return SCRIPT


@pytest.mark.parametrize("model, precision, cpu", [("emolite", "int8", "cortex-a76"), ("emonet-resnet10", "fp32", "cortex-a72")])
def test_pi_bundle_selftest_under_arm64_emulation(arm64, tmp_path, cli, model, precision, cpu):
    bundle = tmp_path / "b.tar.gz"
    target = "rpi5" if cpu == "cortex-a76" else "rpi4"
    made = cli("deploy", model, "--target", target, "--precision", precision, "--out", str(bundle))
    assert made.code == 0, made.stderr
    dest = tmp_path / "u"
    assert cli("unpack", str(bundle), "--to", str(dest)).code == 0
    run = subprocess.run([str(arm64), "--cpu", cpu, "--", "runner.py", "selftest"], cwd=dest, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["selftest"] == "pass" and report["machine"] == "aarch64" and report["top1_agreement"] == 1.0
    if precision == "int8":
        assert report["max_abs_diff"] == 0.0  # INT8 kernels are bit-exact across x86 and ARM
