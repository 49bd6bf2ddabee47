"""The instance's Ed25519 key (certificates, audit checkpoints). The private key never enters the
database: it comes from YIYANG_SIGNING_KEY (base64 of the 32-byte seed, or a PEM) or, outside
production, from a key file generated once into the instance folder with 0600 permissions.

Only signing may create that file. Verification needs only the public key, and `public_key()`
never generates one: with no key configured it raises, so a public GET can never replace the key
and turn every certificate "not genuine"."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "signing_key.pem"
ENV_VAR = "YIYANG_SIGNING_KEY"


class SigningKeyError(RuntimeError):
    """The signing key is missing or unreadable; the message says what to set."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    standard = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def parse_private_key(value: str) -> Ed25519PrivateKey:
    """A key from PEM text or base64 of the raw 32-byte seed."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(value.encode(), password=None)
        except ValueError as exc:
            raise SigningKeyError(f"{ENV_VAR} 不是可读的 PEM 私钥 / unreadable PEM key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{ENV_VAR} 不是 Ed25519 私钥 / not an Ed25519 key")
        return key
    try:
        raw = unb64url(value)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError(f"{ENV_VAR} 不是有效的 base64 / not valid base64") from exc
    if len(raw) != 32:
        raise SigningKeyError(f"{ENV_VAR} 应为 32 字节的 Ed25519 种子 / must be a 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def _instance_and_env() -> tuple[Path, bool]:
    """The instance folder and whether this is production: the app's when there is one, else
    found the way app.py finds it (a seeder run by a script)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return Path(current_app.instance_path), current_app.config.get("YIYANG_ENV") == "production"
    from core.resources import default_instance_path

    instance = Path(os.environ.get("YIYANG_INSTANCE_PATH") or default_instance_path())
    return instance, os.environ.get("YIYANG_ENV", "development") == "production"


def load_existing(instance_path: Path) -> Ed25519PrivateKey | None:
    """The configured key, or the instance key file, or None. Never creates anything."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return parse_private_key(configured)
    path = instance_path / KEY_FILE
    if path.exists():
        return parse_private_key(path.read_text())
    return None


def load_or_create(instance_path: Path, is_production: bool) -> Ed25519PrivateKey:
    key = load_existing(instance_path)
    if key is not None:
        return key
    if is_production:
        raise SigningKeyError(
            f"YIYANG_ENV=production 需要设置 {ENV_VAR}（签名私钥）。 Production needs {ENV_VAR}."
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(instance_path / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use that one
        return parse_private_key((instance_path / KEY_FILE).read_text())
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


_CACHE: dict[tuple[str, str], Ed25519PrivateKey] = {}


def _cache_key(instance: Path) -> tuple[str, str]:
    return str(instance), os.environ.get(ENV_VAR, "")


def private_key() -> Ed25519PrivateKey:
    """The signing key; created into the instance folder on first use outside production."""
    instance, is_production = _instance_and_env()
    cache = _cache_key(instance)
    if cache not in _CACHE:
        _CACHE[cache] = load_or_create(instance, is_production)
    return _CACHE[cache]


def public_key() -> Ed25519PublicKey:
    """The verification key. Raises SigningKeyError when no key exists yet (nothing can have
    been signed then); never creates one."""
    instance, _ = _instance_and_env()
    cache = _cache_key(instance)
    key = _CACHE.get(cache) or load_existing(instance)
    if key is None:
        raise SigningKeyError("尚无签名密钥：还没有签发过任何内容。 No signing key yet.")
    _CACHE[cache] = key
    return key.public_key()


def raw_public_key() -> bytes:
    return public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem() -> str:
    """The public key as PEM text (SubjectPublicKeyInfo)."""
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_jwk() -> dict[str, str]:
    """The public key as a JWK (RFC 8037), with its RFC 7638 thumbprint as `kid`."""
    x = b64url(raw_public_key())
    thumbprint = hashlib.sha256(f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()).digest()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "use": "sig", "alg": "EdDSA", "kid": b64url(thumbprint)}


def key_fingerprint() -> str:
    """SHA-256 of the raw public key, hex: names the key in backups and checkpoints."""
    return hashlib.sha256(raw_public_key()).hexdigest()


def sign_bytes(data: bytes) -> str:
    """Base64url signature of these bytes."""
    return b64url(private_key().sign(data))


def verify_bytes(data: bytes, signature: str, key: Ed25519PublicKey | None = None) -> bool:
    """Whether the signature over these bytes is the instance's (or `key`'s)."""
    try:
        (key or public_key()).verify(unb64url(signature), data)
    except (InvalidSignature, ValueError, binascii.Error, SigningKeyError):
        return False
    return True
