"""Signed certificate payloads. The key is the instance's Ed25519 key (core.signing): signing may
create it in development, verification only ever reads the public key.

A payload is canonical JSON (sorted keys, no spaces, UTF-8); the QR parameter is
base64url(payload) "." base64url(signature), which anyone can check offline with the public key
from GET /api/v1/certificates/public-key (docs/rating.md shows how)."""

from __future__ import annotations

import binascii
import json
from typing import Any

from core.signing import (
    KEY_FILE,
    SigningKeyError,
    b64url,
    parse_private_key,
    private_key,
    public_jwk,
    public_key,
    public_key_pem,
    sign_bytes,
    unb64url,
    verify_bytes,
)

__all__ = ["KEY_FILE", "SigningKeyError", "canonical", "pack_token", "parse_private_key", "private_key",
           "public_jwk", "public_key", "public_key_pem", "sign_payload", "unpack_token", "verify_signature"]


def canonical(payload: dict[str, Any]) -> bytes:
    """The exact bytes signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_payload(payload: dict[str, Any]) -> tuple[str, str]:
    """(payload text, base64url signature)."""
    data = canonical(payload)
    return data.decode(), sign_bytes(data)


def verify_signature(payload_text: str, signature: str) -> bool:
    """Whether the signature over this payload text is the instance's (public key only)."""
    return verify_bytes(payload_text.encode(), signature)


def pack_token(payload_text: str, signature: str) -> str:
    """The QR parameter: base64url(payload) '.' signature."""
    return b64url(payload_text.encode()) + "." + signature


def unpack_token(token: str) -> tuple[str, str] | None:
    """(payload text, signature) from a QR parameter, or None when it is malformed."""
    if token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        text = unb64url(body).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return text, signature
