"""The Ed25519 key lives outside the database: from YIYANG_SIGNING_KEY, or a 0600 file in the
instance folder in development; production without it refuses to sign."""

from __future__ import annotations

import base64
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from flask import Flask

from rating import signing


def _app(tmp_path, env="development"):
    app = Flask("t", instance_path=str(tmp_path))
    app.config["YIYANG_ENV"] = env
    return app


def test_development_key_file_is_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("YIYANG_SIGNING_KEY", raising=False)
    app = _app(tmp_path)
    with app.app_context():
        text, signature = signing.sign_payload({"a": 1, "名": "颐养"})
        assert signing.verify_signature(text, signature)
        assert not signing.verify_signature(text.replace("1", "2"), signature)
        assert "BEGIN PUBLIC KEY" in signing.public_key_pem()
    path = tmp_path / signing.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = _app(tmp_path)
    with again.app_context():
        assert signing.verify_signature(text, signature)


def test_key_from_environment_base64_and_pem(tmp_path, monkeypatch):
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    for value in (base64.b64encode(raw).decode(),
                  key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()):
        monkeypatch.setenv("YIYANG_SIGNING_KEY", value)
        app = _app(tmp_path, env="production")
        with app.app_context():
            text, signature = signing.sign_payload({"x": "y"})
        key.public_key().verify(base64.urlsafe_b64decode(signature + "=="), text.encode())
    assert not (tmp_path / signing.KEY_FILE).exists()


def test_production_without_a_key_refuses(tmp_path, monkeypatch):
    monkeypatch.delenv("YIYANG_SIGNING_KEY", raising=False)
    with _app(tmp_path, env="production").app_context(), pytest.raises(signing.SigningKeyError):
        signing.sign_payload({"x": 1})
    monkeypatch.setenv("YIYANG_SIGNING_KEY", "not base64 at all!")
    with _app(tmp_path).app_context(), pytest.raises(signing.SigningKeyError):
        signing.sign_payload({"x": 1})


def test_token_round_trip():
    token = signing.pack_token('{"a":"颐养"}', "c2ln")
    assert signing.unpack_token(token) == ('{"a":"颐养"}', "c2ln")
    assert signing.unpack_token("no-dot") is None
    assert signing.unpack_token("%%%.x") is None


def test_verification_never_creates_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("YIYANG_SIGNING_KEY", raising=False)
    with _app(tmp_path).app_context():
        with pytest.raises(signing.SigningKeyError):
            signing.public_key()
        assert not signing.verify_signature('{"a":1}', "c2ln")
        assert not (tmp_path / signing.KEY_FILE).exists()
        text, signature = signing.sign_payload({"a": 1})
        assert (tmp_path / signing.KEY_FILE).exists() and signing.verify_signature(text, signature)
        jwk = signing.public_jwk()
        raw = signing.private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and base64.urlsafe_b64decode(jwk["x"] + "=") == raw
