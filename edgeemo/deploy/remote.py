"""A bundle on a real device over SSH: copy it with the system's scp, verify and self-test it there,
run its bench, and bring the JSON back.

Host keys are always checked (ssh's own known_hosts; BatchMode, so ssh never prompts): an unknown
or changed host key stops with a message, and nothing here can turn checking off. Use ``--ssh-config``
for ports, keys and known_hosts files of your own.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgeemo.errors import EdgeemoError


class RemoteError(EdgeemoError):
    """ssh/scp failed, or the bundle failed on the device."""


@dataclass
class RemoteHost:
    destination: str  # user@host, or a Host from the ssh config
    ssh_config: str | None = None
    python: str = "python3"
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        dest = self.destination
        if not dest or dest.startswith("-") or any(c.isspace() or ord(c) < 32 for c in dest):
            raise RemoteError(f"--remote {dest!r}: expected user@host or an ssh-config Host (no leading '-', no spaces)")

    def _options(self) -> list[str]:
        opts = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
        return opts + (["-F", self.ssh_config] if self.ssh_config else [])

    def ssh(self, command: str) -> subprocess.CompletedProcess:
        return self._run(["ssh", *self._options(), "--", self.destination, command])

    def scp(self, local: Path, remote_path: str) -> None:
        self._run(["scp", "-q", *self._options(), "--", str(local), f"{self.destination}:{remote_path}"], check=True)

    def _run(self, argv: list[str], check: bool = False) -> subprocess.CompletedProcess:
        if shutil.which(argv[0]) is None:
            raise RemoteError(f"{argv[0]} not found: install OpenSSH's client (Debian: openssh-client)")
        if self.ssh_config and not Path(self.ssh_config).is_file():
            raise RemoteError(f"--ssh-config {self.ssh_config}: no such file")
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise RemoteError(f"{argv[0]} {self.destination}: no answer within {self.timeout_s:.0f} s") from None
        if proc.returncode == 255 or (check and proc.returncode):
            raise RemoteError(_ssh_failure(self.destination, argv[0], proc.stderr))
        return proc


def _ssh_failure(destination: str, tool: str, stderr: str) -> str:
    text = stderr.strip()
    if "Host key verification failed" in text or "REMOTE HOST IDENTIFICATION HAS CHANGED" in text:
        return (f"{tool} {destination}: the host key is unknown or has changed, so the connection was refused; "
                f"check the key and accept it once with `ssh {destination}` (or list it in your known_hosts)")
    if "Permission denied" in text:
        return f"{tool} {destination}: permission denied (no usable key; ssh runs in batch mode and never asks a password)"
    last = [line for line in text.splitlines() if line.strip()]
    return f"{tool} {destination}: {last[-1] if last else 'failed'}"


def _json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def push_bundle(bundle: str | Path, host: RemoteHost, remote_dir: str | None = None,
                trust: Path | None = None) -> tuple[str, dict, dict]:
    """Copy, unpack, verify (signature with ``trust``, else integrity only) and self-test a bundle on the device;
    returns (folder, verify, selftest)."""
    bundle = Path(bundle)
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()[:12]
    folder = remote_dir or f"edgeemo-bundles/{bundle.name.split('.')[0]}-{digest}"
    q = shlex.quote
    made = host.ssh(f"mkdir -p {q(folder)} && cd {q(folder)} && pwd")
    if made.returncode:
        raise RemoteError(f"{host.destination}: cannot create {folder}: {made.stderr.strip()[-200:]}")
    absolute = made.stdout.strip().splitlines()[-1]
    host.scp(bundle, f"{absolute}/bundle.tar.gz")
    if trust is not None:
        host.scp(trust, f"{absolute}/trusted.pub")
    py = q(host.python)
    check = "--trust trusted.pub" if trust is not None else "--allow-unsigned"
    proc = host.ssh(f"cd {q(absolute)} && tar -xzf bundle.tar.gz && rm bundle.tar.gz && {py} runner.py verify {check} && "
                    f"{py} runner.py selftest")
    results = _json_lines(proc.stdout)
    verify = next((r for r in results if "verify" in r), None)
    selftest = next((r for r in results if "selftest" in r), None)
    if proc.returncode or not verify or not selftest:
        what = "verification" if not verify or verify.get("verify") != "pass" else "selftest"
        detail = json.dumps(selftest or verify) if (selftest or verify) else proc.stderr.strip()[-300:]
        raise RemoteError(f"{host.destination}:{absolute}: the bundle failed its {what}: {detail}")
    return absolute, verify, selftest


def remote_bench(bundle: str | Path, host: RemoteHost, threads: int | None = None, iterations: int = 200,
                 remote_dir: str | None = None, trust: Path | None = None) -> dict:
    """Push the bundle, then run its bench (edgeemo bench's latency protocol) on the device."""
    folder, verify, selftest = push_bundle(bundle, host, remote_dir, trust)
    threads_arg = f"--threads {int(threads)} " if threads else ""
    proc = host.ssh(f"cd {shlex.quote(folder)} && {shlex.quote(host.python)} runner.py {threads_arg}bench "
                    f"--iterations {int(iterations)}")
    results = _json_lines(proc.stdout)
    if proc.returncode or not results:
        raise RemoteError(f"{host.destination}: bench failed: {proc.stderr.strip()[-300:]}")
    return {"host": host.destination, "folder": folder, "verify": verify, "selftest": selftest, "bench": results[-1]}


def bundle_for(model: str, target: str, precision: str | None, data: str | None, work: Path) -> Path:
    from edgeemo.deploy.bundle import build_bundle

    from edgeemo.deploy.signature import new_key_pair

    # a key made for this one trip: the device checks that what runs there is what was built here
    new_key_pair(work / "trip.key", work / "trip.pub")
    out = work / f"{target}.tar.gz"
    build_bundle(model, target, out, precision, data, sign_key=work / "trip.key")
    return out


def bench_on_device(model: str, target: str, host: RemoteHost, precision: str | None = None, data: str | None = None,
                    threads: int | None = None, iterations: int = 200) -> dict:
    """`edgeemo bench --remote`: bundle MODEL for the target, run it on the device, return the device's JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        bundle = bundle_for(model, target, precision, data, Path(tmp))
        return {"target": target, **remote_bench(bundle, host, threads, iterations, trust=Path(tmp) / "trip.pub")}
