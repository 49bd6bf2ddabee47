"""Encryption at rest for sensitive personal information (ID numbers, phones, diagnoses).

Values are encrypted with AES-GCM (key derived from the data key) and stored beside a keyed
HMAC so exact lookups and duplicate checks work without decrypting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class FieldCipher:
    """Encrypts and hashes sensitive field values with keys derived from one secret."""

    def __init__(self, secret: str) -> None:
        root = hashlib.sha256(secret.encode()).digest()
        self._enc_key = hmac.new(root, b"yiyang-field-encryption", hashlib.sha256).digest()
        self._mac_key = hmac.new(root, b"yiyang-field-lookup", hashlib.sha256).digest()
        self._aead = AESGCM(self._enc_key)
        self._mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)  # copied per value: no key setup each time

    def encrypt(self, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), None)
        return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str | None) -> str | None:
        if not token:
            return None
        raw = base64.urlsafe_b64decode(token.removeprefix("v1:"))
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def lookup_hash(self, value: str | None) -> str | None:
        if not value:
            return None
        normalised = value.strip().upper()
        mac = self._mac.copy()
        mac.update(normalised.encode())
        return mac.hexdigest()


def cipher() -> FieldCipher:
    """The application's cipher (one per app, built from DATA_KEY)."""
    from flask import current_app

    found = current_app.extensions.get("yiyang.cipher")
    if found is None:
        found = FieldCipher(current_app.config["DATA_KEY"])
        current_app.extensions["yiyang.cipher"] = found
    return found  # type: ignore[no-any-return]


def mask_id_number(value: str | None) -> str:
    """110105194912310021 -> 110105********0021 (region code and last four kept)."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """13812345678 -> 138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
