"""Device profiles (targets/*.yaml): runtime, device, precisions, threads, input constraints, budget."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edgeemo.errors import EdgeemoError


@dataclass
class Target:
    name: str
    description: str
    arch: str
    runtime: str
    device: str
    precisions: list[str]
    threads: int | None
    input: dict = field(default_factory=dict)
    macc_budget: int | None = None
    cpu: str | None = None
    notes: str = ""

    def host_note(self, available_devices: list[str]) -> str | None:
        """Why a figure measured here is not the target's own, or None when this host is the target kind."""
        host = platform.machine()
        if host != self.arch:
            return f"measured on this host ({host}), not on a {self.name} ({self.arch}): not {self.name} latency"
        if self.runtime == "openvino" and self.device not in available_devices:
            return f"{self.device} is not present on this host"
        return None


def targets_dir() -> Path:
    env = os.environ.get("EDGEEMO_TARGETS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "targets"


def list_targets() -> list[Target]:
    return [load_target(p.stem) for p in sorted(targets_dir().glob("*.yaml"))]


def load_target(name: str) -> Target:
    path = targets_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(targets_dir().glob("*.yaml")))
        raise EdgeemoError(f"unknown target {name!r}: {known}")
    data = yaml.safe_load(path.read_text())
    known_fields = Target.__dataclass_fields__
    return Target(**{k: v for k, v in data.items() if k in known_fields})
