"""``edgeemo deploy`` (build a kiosk bundle) and ``edgeemo unpack`` (verify, extract, self-test)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from edgeemo.cli.common import (TrustOpt, JsonOpt, RemoteOpt, RemotePythonOpt, SshConfigOpt, console, human, print_json, remote_host,
                                status)


def deploy(
    model: Annotated[str, typer.Argument(help="Zoo name / source model (converted and quantized for the target), or a ready .tflite/.xml.")],
    target: Annotated[str, typer.Option("--target", help="rpi5, rpi4, intel-npu, intel-igpu or cpu-x86 (see `edgeemo targets`).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Bundle file (.tar.gz).")] = "bundle.tar.gz",
    precision: Annotated[str | None, typer.Option("--precision", help="fp32, fp16 or int8 (default: the target's first choice).")] = None,
    data: Annotated[str | None, typer.Option("--data", help="Faces for INT8 calibration and verification (else data-free).")] = None,
    remote: RemoteOpt = None,
    ssh_config: SshConfigOpt = None,
    remote_python: RemotePythonOpt = "python3",
    remote_dir: Annotated[str | None, typer.Option("--remote-dir", help="Folder on the device (default edgeemo-bundles/NAME-HASH).")] = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Bundle the target's artifact, model card, standalone runner, pinned requirements, self-test data and checksums.
    With --remote: copy it to the device (scp, host keys checked), unpack, verify the checksums and self-test it there."""
    from edgeemo.deploy import build_bundle

    with status(f"building the {target} bundle...", not json_out):
        result = build_bundle(model, target, out, precision, data)
    pushed = None
    if remote:
        from edgeemo.deploy.remote import push_bundle

        with status(f"copying to {remote} and self-testing there...", not json_out):
            folder, verify, selftest = push_bundle(result.bundle, remote_host(remote, ssh_config, remote_python), remote_dir)
        pushed = {"host": remote, "folder": folder, "verify": verify, "selftest": selftest}
    if json_out:
        print_json({**asdict(result), **({"remote": pushed} if pushed else {})})
        return
    console.print(f"{result.bundle}: {result.target}, {result.artifact} ({result.precision}), {human(result.bytes, 'B')}, "
                  f"{len(result.files)} files with checksums")
    if pushed:
        console.print(f"{remote}:{pushed['folder']}: checksums {pushed['verify']['verify']}, selftest "
                      f"{pushed['selftest']['selftest']} on {pushed['selftest']['machine']} ({pushed['selftest']['runtime']})")
    else:
        console.print("on the device: tar xzf ... && pip install -r requirements.txt && python3 runner.py selftest")


def unpack(
    bundle: Annotated[str, typer.Argument(help="A bundle made by `edgeemo deploy`.")],
    to: Annotated[str, typer.Option("--to", help="Folder to create.")],
    selftest: Annotated[bool, typer.Option("--selftest", help="Run the bundle's selftest after unpacking.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Refuse unsafe members (absolute paths, '..', links outside), verify every checksum, then extract."""
    from edgeemo.deploy import BundleError, unpack_bundle

    manifest = unpack_bundle(bundle, to)
    report = {"bundle": bundle, "to": to, "target": manifest["target"]["name"], "files": len(manifest["files"]), "verified": True}
    if selftest:
        proc = subprocess.run([sys.executable, str(Path(to) / "runner.py"), "selftest"], capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        report["selftest"] = json.loads(lines[-1]) if lines else {"selftest": "FAIL", "error": proc.stderr.strip()[-300:]}
        if proc.returncode != 0:
            if json_out:
                print_json(report)
            raise BundleError(f"selftest failed: {json.dumps(report['selftest'])}")
    if json_out:
        print_json(report)
    else:
        console.print(f"{to}: {report['files']} files verified against the manifest ({report['target']})"
                      + (f"; selftest {report['selftest']['selftest']}" if selftest else ""))
