"""Ed25519 signing of certificate payloads. The private key never enters the database: it comes
from YIYANG_SIGNING_KEY (base64 of the 32-byte seed, or a PEM) or, outside production, from a
key file generated once into the instance folder with 0600 permissions. Verification needs
only the public key."""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app, has_app_context

KEY_FILE = "signing_key.pem"


class SigningKeyError(RuntimeError):
    """The signing key is missing or unreadable; the message says what to set."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    standard = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def parse_private_key(value: str) -> Ed25519PrivateKey:
    """A key from PEM text or base64 of the raw 32-byte seed."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(value.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("YIYANG_SIGNING_KEY 不是 Ed25519 私钥 / not an Ed25519 key")
        return key
    try:
        standard = value.replace("-", "+").replace("_", "/")
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError("YIYANG_SIGNING_KEY 不是有效的 base64 / not valid base64") from exc
    if len(raw) != 32:
        raise SigningKeyError("YIYANG_SIGNING_KEY 应为 32 字节的 Ed25519 种子 / must be a 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def _load_or_create(instance_path: Path, is_production: bool) -> Ed25519PrivateKey:
    configured = os.environ.get("YIYANG_SIGNING_KEY")
    if configured:
        return parse_private_key(configured)
    path = instance_path / KEY_FILE
    if path.exists():
        return parse_private_key(path.read_text())
    if is_production:
        raise SigningKeyError(
            "YIYANG_ENV=production 需要设置 YIYANG_SIGNING_KEY（证书签名私钥）。"
            " Production needs YIYANG_SIGNING_KEY."
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


_OUTSIDE_APP: dict[str, Ed25519PrivateKey] = {}


def private_key() -> Ed25519PrivateKey:
    """The app's signing key, loaded once per app. Outside an app context (a seeder run by a
    script) the instance folder is found the way app.py finds it."""
    if not has_app_context():
        from core.resources import default_instance_path

        instance = Path(os.environ.get("YIYANG_INSTANCE_PATH") or default_instance_path())
        if str(instance) not in _OUTSIDE_APP:
            _OUTSIDE_APP[str(instance)] = _load_or_create(
                instance, os.environ.get("YIYANG_ENV", "development") == "production")
        return _OUTSIDE_APP[str(instance)]
    key = current_app.extensions.get("yiyang.signing_key")
    if key is None:
        key = _load_or_create(Path(current_app.instance_path),
                              current_app.config.get("YIYANG_ENV") == "production")
        current_app.extensions["yiyang.signing_key"] = key
    return key  # type: ignore[no-any-return]


def public_key() -> Ed25519PublicKey:
    """The verification key."""
    return private_key().public_key()


def public_key_pem() -> str:
    """The public key as PEM text, for anyone who wants to check signatures offline."""
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def canonical(payload: dict[str, Any]) -> bytes:
    """The exact bytes signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_payload(payload: dict[str, Any]) -> tuple[str, str]:
    """(payload text, base64url signature)."""
    data = canonical(payload)
    return data.decode(), _b64url(private_key().sign(data))


def verify_signature(payload_text: str, signature: str) -> bool:
    """Whether the signature over this payload text is the app's."""
    try:
        public_key().verify(_unb64url(signature), payload_text.encode())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def pack_token(payload_text: str, signature: str) -> str:
    """The QR parameter: base64url(payload) '.' signature."""
    return _b64url(payload_text.encode()) + "." + signature


def unpack_token(token: str) -> tuple[str, str] | None:
    """(payload text, signature) from a QR parameter, or None when it is malformed."""
    if token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        text = _unb64url(body).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return text, signature
