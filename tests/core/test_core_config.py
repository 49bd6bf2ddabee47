"""Configuration rules and the fault pages."""

from __future__ import annotations

import pytest

from app import create_app
from core.config import ConfigError, load_config


def test_production_refuses_missing_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("YIYANG_SECRET_KEY", raising=False)
    monkeypatch.setenv("YIYANG_ENV", "production")
    with pytest.raises(ConfigError, match="YIYANG_SECRET_KEY"):
        load_config(tmp_path)


def test_production_refuses_debug(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_ENV", "production")
    monkeypatch.setenv("YIYANG_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("YIYANG_DATA_KEY", "d" * 40)
    monkeypatch.setenv("YIYANG_DEBUG", "1")
    with pytest.raises(ConfigError, match="调试"):
        load_config(tmp_path)


def test_development_generates_and_keeps_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("YIYANG_SECRET_KEY", raising=False)
    monkeypatch.delenv("YIYANG_ENV", raising=False)
    first = load_config(tmp_path)
    second = load_config(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'yiyang.sqlite'}"


def test_database_down_is_a_503_page_without_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    broken = create_app({"TESTING": True, "SECRET_KEY": "x", "DATA_KEY": "y", "WTF_CSRF_ENABLED": False,
                         "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"})
    client = broken.test_client()
    response = client.post("/login", data={"username": "someone", "password": "whatever-1"})
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "数据库暂时无法连接" in text and "Traceback" not in text
    assert response.headers["Retry-After"] == "30"
    api = client.post("/api/v1/auth/login", json={"username": "someone", "password": "whatever-1"})
    assert api.status_code == 503 and "数据库" in api.get_json()["message"]


def test_app_refuses_to_start_with_a_broken_builtin_pack(tmp_path, monkeypatch):
    import instruments

    pack_dir = tmp_path / "packs"
    pack_dir.mkdir()
    for name in instruments.PACK_FILES:
        (pack_dir / name).write_text((instruments.resources.files("instruments") / name).read_text(encoding="utf-8"),
                                     encoding="utf-8")
    broken = pack_dir / "barthel.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("sections:", "sectionz:", 1), encoding="utf-8")
    monkeypatch.setattr(instruments.resources, "files", lambda _name: pack_dir)
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    instruments.builtin.cache_clear()
    try:
        with pytest.raises(ConfigError, match="barthel.yaml"):
            create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y"})
    finally:
        instruments.builtin.cache_clear()


def test_required_signatures_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("YIYANG_REQUIRED_SIGNATURES", "3")
    assert load_config(tmp_path)["ASSESSMENT_REQUIRED_SIGNATURES"] == 3
    monkeypatch.delenv("YIYANG_REQUIRED_SIGNATURES")
    assert load_config(tmp_path)["ASSESSMENT_REQUIRED_SIGNATURES"] == 2
