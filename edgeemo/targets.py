"""Device profiles (targets/*.yaml): runtime, device, precisions, threads, input constraints, budget."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edgeemo.errors import EdgeemoError, first_line


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


@dataclass
class BenchSettings:
    """What ``edgeemo bench --target`` measures with: the target's runtime, device and threads unless given."""

    runtime: str | None
    device: str
    threads: int | None
    host_note: str | None = None


def bench_settings(name: str, runtime: str | None, device: str, threads: int | None) -> BenchSettings:
    """The target's settings filled in where the user gave none (``device`` "CPU" counts as not given). Its
    OpenVINO device must be present here: no silent fallback to another device."""
    from edgeemo.runtime.openvino import devices as openvino_devices

    target = load_target(name)
    device = target.device if device.upper() == "CPU" else device.upper()
    present = openvino_devices()
    if target.runtime == "openvino" and device == target.device and device.split(":")[0] not in present:
        raise EdgeemoError(f"--target {name}: {device} is not present on this host (present: {', '.join(present)}); "
                           "run it on the device with --remote, or measure here with --device CPU")
    return BenchSettings(runtime or target.runtime, device, threads or target.threads, target.host_note(present))


def targets_dir() -> Path:
    """$EDGEEMO_TARGETS_DIR, the package data of an installed wheel (edgeemo/_targets), or targets/ of a checkout."""
    from edgeemo.fsutil import package_data

    env = os.environ.get("EDGEEMO_TARGETS_DIR")
    return Path(env) if env else package_data("_targets", "targets")


def list_targets() -> list[Target]:
    return [load_target(p.stem) for p in sorted(targets_dir().glob("*.yaml"))]


def load_target(name: str) -> Target:
    """A profile by name from targets/, or an explicit ``.yaml`` path; anything else, or a malformed profile, is one line."""
    import re

    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_file():
            raise EdgeemoError(f"--target {name}: no such file")
    else:
        known = ", ".join(p.stem for p in sorted(targets_dir().glob("*.yaml")))
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
            raise EdgeemoError(f"unknown target {name!r}: a name from targets/ ({known}) or a path ending in .yaml")
        path = targets_dir() / f"{name}.yaml"
        if not path.is_file():
            raise EdgeemoError(f"unknown target {name!r}: {known}")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise EdgeemoError(f"{path}: not valid YAML ({first_line(exc)})") from exc
    return _target_from(data, path)


def _target_from(data, path: Path) -> Target:
    if not isinstance(data, dict):
        raise EdgeemoError(f"{path}: a target profile is a mapping of fields (name, runtime, device, precisions, ...)")
    known_fields = Target.__dataclass_fields__
    missing = [k for k in ("name", "description", "arch", "runtime", "device", "precisions", "threads") if k not in data]
    if missing:
        raise EdgeemoError(f"{path}: missing fields {', '.join(missing)}")
    target = Target(**{k: v for k, v in data.items() if k in known_fields})
    problems = []
    if target.runtime not in RUNTIMES:
        problems.append(f"runtime {target.runtime!r} is not one of {', '.join(RUNTIMES)}")
    if not isinstance(target.precisions, list) or not target.precisions or not set(target.precisions) <= {"fp32", "fp16", "int8"}:
        problems.append(f"precisions {target.precisions!r} must be a list of fp32, fp16, int8")
    if target.threads is not None and (not isinstance(target.threads, int) or isinstance(target.threads, bool) or target.threads < 1):
        problems.append(f"threads {target.threads!r} must be a positive integer or null")
    if not isinstance(target.input, dict):
        problems.append("input must be a mapping")
    if not all(isinstance(getattr(target, k), str) for k in ("name", "description", "arch", "device")):
        problems.append("name, description, arch and device must be text")
    if problems:
        raise EdgeemoError(f"{path}: {'; '.join(problems)}")
    return target


RUNTIMES = ("openvino", "litert", "onnxruntime", "torch")
