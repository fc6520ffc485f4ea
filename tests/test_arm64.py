"""Raspberry Pi bundles pass their self-test on ARM64 code (aarch64 Python, numpy and LiteRT under qemu-user)."""

import json
import os
import shutil
import subprocess
import sys

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
def test_pi_bundle_selftest_under_arm64_emulation(arm64, tmp_path, cli, signing_key, model, precision, cpu):
    bundle = tmp_path / "b.tar.gz"
    target = "rpi5" if cpu == "cortex-a76" else "rpi4"
    made = cli("deploy", model, "--target", target, "--precision", precision, "--out", str(bundle), "--sign", str(signing_key[0]))
    assert made.code == 0, made.stderr
    dest = tmp_path / "u"
    assert cli("unpack", str(bundle), "--to", str(dest), "--trust", str(signing_key[1])).code == 0
    # the device side checks the signature with the same code (cryptography's aarch64 wheel)
    verify = subprocess.run([str(arm64), "--cpu", cpu, "--", "runner.py", "verify", "--trust", str(signing_key[1])], cwd=dest,
                            capture_output=True, text=True, timeout=600)
    assert verify.returncode == 0 and json.loads(verify.stdout.strip().splitlines()[-1])["signed_by"], verify.stdout + verify.stderr
    (dest / "runner.py").write_text((dest / "runner.py").read_text() + "\n# changed\n")
    changed = subprocess.run([str(arm64), "--cpu", cpu, "--", "runner.py", "verify", "--trust", str(signing_key[1])], cwd=dest,
                             capture_output=True, text=True, timeout=600)
    assert changed.returncode == 1 and json.loads(changed.stdout.strip().splitlines()[-1])["mismatched"] == ["runner.py"]
    (dest / "runner.py").write_text((dest / "runner.py").read_text().removesuffix("\n# changed\n"))
    run = subprocess.run([str(arm64), "--cpu", cpu, "--", "runner.py", "selftest"], cwd=dest, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["selftest"] == "pass" and report["machine"] == "aarch64" and report["top1_agreement"] == 1.0
    if precision == "int8":
        assert report["max_abs_diff"] == 0.0  # INT8 kernels are bit-exact across x86 and ARM


def test_pi_bundle_kiosk_loop_under_arm64_emulation(arm64, shared_data, tmp_path, cli):
    """The rpi5 bundle's `runner.py run` (OpenCV + LiteRT INT8 on aarch64) gives the aggregates it gives on x86.
    The clip is lossless (.mkv, FFV1): an .mp4 decodes up to 4 grey levels apart on aarch64 and x86, which moves
    BlazeFace's boxes by a pixel and a borderline face's label with them."""
    clip = tmp_path / "clip.mkv"
    assert cli("testclip", "--data", str(shared_data), "--out", str(clip), "--seconds", "4", "--fps", "5").code == 0
    bundle, dest = tmp_path / "b.tar.gz", tmp_path / "u"
    assert cli("deploy", "emolite", "--target", "rpi5", "--out", str(bundle)).code == 0
    assert cli("unpack", str(bundle), "--to", str(dest), "--allow-unsigned").code == 0
    args = ["runner.py", "--threads", "1", "run", "--source", str(clip), "--interval", "2s"]
    arm = subprocess.run([str(arm64), "--cpu", "cortex-a76", "--", *args, "--out", str(tmp_path / "arm.jsonl")],
                         cwd=dest, capture_output=True, text=True, timeout=600)
    assert arm.returncode == 0, arm.stdout + arm.stderr
    assert json.loads(arm.stderr.strip().splitlines()[-1])["machine"] == "aarch64"
    x86 = subprocess.run([sys.executable, *args, "--out", str(tmp_path / "x86.jsonl")], cwd=dest, capture_output=True,
                         text=True, timeout=600)
    assert x86.returncode == 0, x86.stderr
    on_arm = [json.loads(x) for x in (tmp_path / "arm.jsonl").read_text().splitlines()]
    on_x86 = [json.loads(x) for x in (tmp_path / "x86.jsonl").read_text().splitlines()]
    assert len(on_arm) == 2 and sum(r["faces"] for r in on_arm) >= 2
    assert on_arm == on_x86  # every aggregate: faces, new faces, emotions, face-seconds, dwell
