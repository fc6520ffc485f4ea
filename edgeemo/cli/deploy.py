"""``edgeemo deploy`` (build a kiosk bundle) and ``edgeemo unpack`` (verify, extract, self-test)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from edgeemo.cli.common import (esc, model_line, TrustOpt, JsonOpt, RemoteOpt, RemotePythonOpt, SshConfigOpt, console, err_console, human, print_json,
                                remote_host, status)


def deploy(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Zoo name / source model (converted and quantized for the target), or a ready .tflite/.xml.")],
    target: Annotated[str, typer.Option("--target", help="rpi5, rpi4, intel-npu, intel-igpu or cpu-x86 (see `edgeemo targets`).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Bundle file (.tar.gz).")] = "bundle.tar.gz",
    precision: Annotated[str | None, typer.Option("--precision", help="fp32, fp16 or int8 (default: the target's first choice).")] = None,
    data: Annotated[str | None, typer.Option("--data", help="Faces for INT8 calibration and verification (else data-free).")] = None,
    sign: Annotated[str | None, typer.Option("--sign", help="Sign the manifest with this Ed25519 private key (`edgeemo keys new`); "
                                                  "kiosks check it with the public key before anything runs.")] = None,
    allow_unsigned: Annotated[bool, typer.Option("--allow-unsigned", help="With --remote and no --sign: the device checks integrity "
                                                 "only, not who made the bundle.")] = False,
    remote: RemoteOpt = None,
    ssh_config: SshConfigOpt = None,
    remote_python: RemotePythonOpt = "python3",
    remote_dir: Annotated[str | None, typer.Option("--remote-dir", help="Folder on the device (default edgeemo-bundles/NAME-HASH).")] = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Bundle the target's artifact, model card, standalone runner, pinned requirements, self-test data and checksums.
    With --remote: copy it to the device (scp, host keys checked), unpack, verify the checksums and self-test it there."""
    import tempfile

    from edgeemo.deploy import BundleError, build_bundle
    from edgeemo.fsutil import check_out_file
    from edgeemo.deploy.signature import SignatureError, public_pem

    host = remote_host(remote, ssh_config, remote_python) if remote else None  # a bad --remote fails before any work
    if remote and not sign and not allow_unsigned:
        raise BundleError("--remote: sign the bundle (--sign KEY) so the device can check its origin, or pass --allow-unsigned")
    if sign:
        try:
            trusted_pem = public_pem(Path(sign))  # a bad key fails before any work
        except SignatureError as exc:
            raise BundleError(f"--sign {sign}: {exc}") from exc
    check_out_file(out)
    with status(f"building the {target} bundle...", not json_out) as update:
        result = build_bundle(model, target, out, precision, data, sign_key=sign, on_step=update)
    pushed = None
    if host is not None:
        from edgeemo.deploy.remote import push_bundle

        with status(f"copying to {remote} and self-testing there...", not json_out), tempfile.TemporaryDirectory() as tmp:
            trust = None
            if sign:
                trust = Path(tmp) / "trusted.pub"
                trust.write_bytes(trusted_pem)
            folder, verify, selftest = push_bundle(result.bundle, host, remote_dir, trust)
        if allow_unsigned and not sign:
            err_console.print("[bold yellow]warning:[/] --allow-unsigned: the device checked checksums only, not who made the bundle")
        pushed = {"host": remote, "folder": folder, "verify": verify, "selftest": selftest}
    if json_out:
        print_json({**asdict(result), **({"remote": pushed} if pushed else {})})
        return
    console.print(f"{esc(result.bundle)}: {esc(result.target)}, {esc(result.artifact)} ({esc(result.precision)}), {human(result.bytes, 'B')}, "
                  f"{len(result.files)} files with checksums, " + ("signed" if sign else "[yellow]not signed[/] (--sign KEY)"))
    if result.calibration:
        console.print(f"INT8 calibration: {esc(result.calibration)}")
    console.print(model_line(result.resolved))
    if pushed:
        console.print(f"{esc(remote)}:{esc(pushed['folder'])}: checksums {esc(pushed['verify']['verify'])}, selftest "
                      f"{esc(pushed['selftest']['selftest'])} on {esc(pushed['selftest']['machine'])} ({esc(pushed['selftest']['runtime'])})")
    else:
        console.print("on the device: tar xzf ... && pip install -r requirements.txt && python3 runner.py verify --trust KEY.pub "
                      "&& python3 runner.py selftest")


def unpack(
    bundle: Annotated[str, typer.Argument(metavar="BUNDLE", help="A bundle made by `edgeemo deploy`.")],
    to: Annotated[str, typer.Option("--to", help="Folder to create.")],
    trust: Annotated[str | None, typer.Option("--trust", help="The operator's public key (PEM, `edgeemo keys new`): the manifest's "
                                                 "signature is checked with it before anything is extracted.")] = None,
    allow_unsigned: Annotated[bool, typer.Option("--allow-unsigned", help="Skip the signature check: integrity only, the "
                                                 "bundle's origin is NOT checked.")] = False,
    selftest: Annotated[bool, typer.Option("--selftest", help="Run the bundle's selftest after unpacking.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check the signature over the manifest (--trust), refuse unsafe or unlisted members (absolute paths, '..',
    links outside, sizes other than listed), extract, verify every checksum."""
    from edgeemo.deploy import BundleError, unpack_bundle

    manifest = unpack_bundle(bundle, to, trust=trust, allow_unsigned=allow_unsigned)
    if manifest.get("signed_by") is None:
        err_console.print("[bold yellow]warning:[/] --allow-unsigned: the bundle's origin was NOT checked (checksums only)")
    report = {"bundle": bundle, "to": to, "target": manifest["target"]["name"], "files": len(manifest["files"]), "verified": True,
              "signed_by": manifest.get("signed_by")}
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
        signer = f"signed by key {report['signed_by']}" if report["signed_by"] else "[yellow]signature not checked[/]"
        console.print(f"{esc(to)}: {esc(report['files'])} files verified against the manifest ({esc(report['target'])}), {signer}"
                      + (f"; selftest {report['selftest']['selftest']}" if selftest else ""))


def keys_new(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Base name: writes NAME.key (private, mode 0600) and NAME.pub (public).")] = "edgeemo-signing",
    json_out: JsonOpt = False,
) -> None:
    """Make an Ed25519 key pair for signing bundles: keep NAME.key on the build machine, put NAME.pub on every kiosk."""
    from edgeemo.deploy.signature import SignatureError, new_key_pair
    from edgeemo.errors import EdgeemoError

    private, public = Path(f"{name}.key"), Path(f"{name}.pub")
    for path in (private, public):
        if path.exists():
            raise EdgeemoError(f"{path} exists; refusing to overwrite a key")
    if not private.parent.is_dir():
        raise EdgeemoError(f"folder {private.parent} does not exist")
    try:
        key_id = new_key_pair(private, public)
    except SignatureError as exc:
        raise EdgeemoError(str(exc)) from exc
    if json_out:
        print_json({"private_key": str(private), "public_key": str(public), "key_id": key_id})
        return
    console.print(f"private key {esc(str(private))} (mode 0600: keep it on the build machine), public key "
                  f"{esc(str(public))} (key id {esc(key_id)}: copy it to the kiosks)")
