"""A wheel built from the checkout, installed without the checkout (not editable), has the zoo's weights and the
target profiles as package data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SOURCES = ("edgeemo", "models", "targets", "pyproject.toml", "setup.py", "README.md")


def test_installed_wheel_lists_the_zoo_with_weights_and_the_targets(tmp_path):
    src = tmp_path / "src"  # built from a copy: nothing (build/, *.egg-info) is written into the checkout
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(path, src / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    if built.returncode != 0 and "No module named" in built.stderr:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("edgeemo-*.whl"))
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                                str(site), str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    shutil.rmtree(src)  # the installed package must not lean on any source tree
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEEMO_ZOO_DIR", "EDGEEMO_TARGETS_DIR"))}
    env["PYTHONPATH"] = str(site)  # ahead of the checkout's editable install

    def edgeemo(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "edgeemo", *args], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert out.returncode == 0, out.stderr
        return out.stdout

    where = subprocess.run([sys.executable, "-c", "import edgeemo; print(edgeemo.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env).stdout.strip()
    assert where.startswith(str(site)), where
    zoo = {m["name"]: m for m in json.loads(edgeemo("models", "--json"))}
    trained = sorted(p.stem for p in (ROOT / "models").glob("*.pt"))
    assert len(trained) >= 4 and set(trained) <= set(zoo)
    for name in trained:
        weights = zoo[name]["weights"]
        assert weights and weights.startswith(str(site)) and Path(weights).stat().st_size > 10_000, (name, weights)
        assert zoo[name]["metrics"], name  # its card came along
    targets = json.loads(edgeemo("targets", "--json"))
    assert {t["name"] for t in targets} == {"cpu-x86", "intel-igpu", "intel-npu", "rpi4", "rpi5"}
