"""bench/deploy --remote over SSH, against an OpenSSH server started here on 127.0.0.1 with a throwaway key.
Host keys are checked: an unknown host is refused with a clear message."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_one_line_error

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").is_file() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """sshd on 127.0.0.1:PORT for the current user, plus an ssh config with a throwaway client key and a
    known_hosts that lists the server's key (and one without it)."""
    if SSHD is None or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH server/client not installed (Debian: openssh-server)")
    d = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege-separation folder sshd wants when started by root
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        "Subsystem sftp internal-sftp\n")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for _ in range(50):
        if proc.poll() is not None:
            pytest.skip(f"sshd cannot start here: {proc.stdout.read().strip()[-300:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.skip("sshd did not listen within 5 s")
    host_pub = " ".join((d / "host_key.pub").read_text().split()[:2])
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    (d / "empty_known_hosts").write_text("")
    user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    common = (f"  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {d / 'client_key'}\n"
              "  IdentitiesOnly yes\n  GlobalKnownHostsFile /dev/null\n")
    (d / "ssh_config").write_text(
        f"Host kiosk\n{common}  UserKnownHostsFile {d / 'known_hosts'}\n\n"
        f"Host stranger\n{common}  UserKnownHostsFile {d / 'empty_known_hosts'}\n")
    probe = subprocess.run(["ssh", "-F", str(d / "ssh_config"), "-o", "BatchMode=yes", "kiosk", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode:
        proc.kill()
        pytest.skip(f"cannot log in to the local sshd: {probe.stderr.strip()[-300:]}")
    yield d
    proc.terminate()
    proc.wait(timeout=10)


def test_bench_remote_brings_the_device_json_back(sshd, cli, tmp_path):
    result = cli("bench", "emolite", "--target", "rpi5", "--remote", "kiosk", "--ssh-config", str(sshd / "ssh_config"),
                 "--remote-python", sys.executable, "--threads", "1", "--iterations", "30", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["target"] == "rpi5" and report["host"] == "kiosk"
    assert report["verify"]["verify"] == "pass" and report["selftest"]["selftest"] == "pass"
    bench = report["bench"]
    assert bench["runtime"] == "litert" and bench["iterations"] == 30 and bench["threads"] == 1
    assert 0 < bench["latency_ms"]["min"] <= bench["latency_ms"]["median"] <= bench["latency_ms"]["max"]
    folder = Path(report["folder"])  # the "device" is this machine: the bundle is there, verified
    assert (folder / "runner.py").is_file() and not (folder / "bundle.tar.gz").exists()
    shutil.rmtree(folder)


def test_deploy_remote_verifies_and_selftests_on_the_device(sshd, cli, tmp_path, signing_key):
    bundle = tmp_path / "npu.tar.gz"
    remote_dir = tmp_path / "on-device"
    result = cli("deploy", "emolite", "--target", "cpu-x86", "--out", str(bundle), "--remote", "kiosk",
                 "--ssh-config", str(sshd / "ssh_config"), "--remote-python", sys.executable,
                 "--remote-dir", str(remote_dir), "--json", "--sign", str(signing_key[0]))
    assert result.code == 0, result.stderr
    pushed = result.json()["remote"]
    assert pushed["folder"] == str(remote_dir)
    assert pushed["verify"]["verify"] == "pass" and pushed["selftest"]["selftest"] == "pass"
    assert pushed["verify"]["signed_by"]  # the device checked the signature with the key's public half
    assert json.loads((remote_dir / "manifest.json").read_text())["target"]["name"] == "cpu-x86"


def test_unknown_host_key_is_refused(sshd, cli, tmp_path):
    result = cli("deploy", "emolite", "--target", "cpu-x86", "--out", str(tmp_path / "b.tar.gz"), "--remote", "stranger",
                 "--ssh-config", str(sshd / "ssh_config"), "--remote-python", sys.executable, "--allow-unsigned")
    assert_one_line_error(result, "host key is unknown or has changed")
    missing = cli("bench", "emolite", "--target", "rpi5", "--remote", "kiosk", "--ssh-config", str(tmp_path / "none"))
    assert_one_line_error(missing, "--ssh-config")


def test_optimize_remote_times_every_candidate_on_the_device(sshd, cli, tmp_path):
    out = tmp_path / "opt"
    result = cli("optimize", "emolite", "--target", "cpu-x86", "--remote", "kiosk", "--ssh-config", str(sshd / "ssh_config"),
                 "--remote-python", sys.executable, "--iterations", "20", "--out", str(out), "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["measured_on"].startswith("kiosk") and report["provisional"] is None
    assert len(report["candidates"]) == 2 and all(c["median_ms"] > 0 for c in report["candidates"]), report["candidates"]
    assert report["chosen"] and (out / "cpu-x86.tar.gz").is_file()
