"""Ed25519 signatures over a bundle's manifest, with the `cryptography` package.

Standard library + cryptography only: `edgeemo deploy` copies this file into every bundle
(``edgeemo_kiosk/signature.py``) so the kiosk checks a bundle with the same code as ``edgeemo unpack``.
The manifest lists every file's SHA-256 and size; signing its exact bytes signs the whole bundle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

SIGNATURE_FILE = "manifest.sig"
ALGORITHM = "ed25519"


class SignatureError(ValueError):
    """A signature that is missing, malformed, made with another key, or does not match the manifest."""


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:
        raise SignatureError("checking signatures needs the 'cryptography' package (pip install cryptography)") from exc
    return ed25519, serialization, InvalidSignature


def key_id(public_raw: bytes) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def new_key_pair(private_path: Path, public_path: Path) -> str:
    """Write a new private key (PEM, file mode 0600, never world-readable) and its public key; returns the key id."""
    ed25519, serialization, _ = _crypto()
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # created 0600: no window with wider rights
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem)
    public_path.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _load_private(path: Path):
    ed25519, serialization, _ = _crypto()
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SignatureError(f"{path}: not an unencrypted PEM private key ({exc.__class__.__name__})") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SignatureError(f"{path}: not an Ed25519 private key (make one with `edgeemo keys new`)")
    return key


def load_public(path: Path):
    """An Ed25519 public key from a PEM file (`edgeemo keys new` writes NAME.pub)."""
    ed25519, serialization, _ = _crypto()
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise SignatureError(f"{path}: not a PEM public key ({exc.__class__.__name__})") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SignatureError(f"{path}: not an Ed25519 public key")
    return key


def public_pem(private_path: Path) -> bytes:
    """The public key (PEM) that belongs to a private key file."""
    _, serialization, _ = _crypto()
    return _load_private(private_path).public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_manifest(manifest: bytes, private_path: Path) -> bytes:
    """The signature file's bytes: JSON with the algorithm, the signer's key id and the signature."""
    _, serialization, _ = _crypto()
    key = _load_private(private_path)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    record = {"algorithm": ALGORITHM, "key_id": key_id(raw), "signature": base64.b64encode(key.sign(manifest)).decode()}
    return (json.dumps(record) + "\n").encode()


def verify_manifest(manifest: bytes, signature: bytes | None, public_path: Path) -> str:
    """Check ``signature`` over the manifest's exact bytes with the trusted key; returns its key id or raises."""
    _, serialization, invalid = _crypto()
    public = load_public(public_path)
    trusted = key_id(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    if signature is None:
        raise SignatureError(f"the bundle is not signed (no {SIGNATURE_FILE}); key {trusted} was expected")
    try:
        record = json.loads(signature)
        if record.get("algorithm") != ALGORITHM:
            raise SignatureError(f"{SIGNATURE_FILE}: algorithm {record.get('algorithm')!r}, expected {ALGORITHM}")
        raw_signature = base64.b64decode(record["signature"], validate=True)
    except SignatureError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SignatureError(f"{SIGNATURE_FILE} is malformed") from None
    try:
        public.verify(raw_signature, manifest)
    except invalid:
        signer = record.get("key_id", "?")
        why = f"signed by key {signer}, not the trusted key {trusted}" if signer != trusted else "the manifest was changed after signing"
        raise SignatureError(f"signature check failed: {why}") from None
    return trusted
