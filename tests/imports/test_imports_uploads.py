"""Uploads kept for a dry run and never confirmed are swept after YIYANG_IMPORT_UPLOAD_HOURS
(imports.uploads): older ones go, fresh ones and other folders stay (in an S3-compatible bucket too:
tests/core/test_core_storage.py); a swept file asks for the upload again."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from core.config import ConfigError, load_config
from core.storage import FileStorage
from core.timeutil import utcnow
from imports.uploads import storage_key, sweep_uploads, upload_age
from tests.conftest import login
from tests.imports.conftest import registered_row, to_csv
from tests.imports.test_imports_pages import confirm_fields, upload

CHECKSUM = "ab" * 32


def _age(storage: FileStorage, key: str, hours: float) -> None:
    stamp = (utcnow() - timedelta(hours=hours)).timestamp()
    os.utime(storage.path(key), (stamp, stamp))


def test_sweep_deletes_only_uploads_older_than_the_setting(tmp_path):
    storage = FileStorage(tmp_path)
    old, fresh = storage_key(3, CHECKSUM, "csv"), storage_key(4, CHECKSUM, "xlsx")
    for key in (old, fresh, "rating_photos/1/p.jpg"):
        storage.put(key, b"x")
    _age(storage, old, 25)
    _age(storage, "rating_photos/1/p.jpg", 500)
    assert sorted(k for k, _t in storage.listing("imports")) == [old, fresh]
    assert sweep_uploads(storage, older_than=timedelta(hours=24), now=utcnow()) == [old]
    assert not storage.exists(old) and storage.exists(fresh) and storage.exists("rating_photos/1/p.jpg")
    assert sweep_uploads(FileStorage(tmp_path / "empty"), older_than=timedelta(hours=1), now=utcnow()) == []


def test_the_setting_defaults_to_a_day_and_refuses_nonsense(tmp_path, monkeypatch):
    monkeypatch.delenv("YIYANG_IMPORT_UPLOAD_HOURS", raising=False)
    assert load_config(tmp_path)["IMPORT_UPLOAD_HOURS"] == 24
    monkeypatch.setenv("YIYANG_IMPORT_UPLOAD_HOURS", "6")
    assert load_config(tmp_path)["IMPORT_UPLOAD_HOURS"] == 6
    monkeypatch.setenv("YIYANG_IMPORT_UPLOAD_HOURS", "0")
    with pytest.raises(ConfigError, match="YIYANG_IMPORT_UPLOAD_HOURS"):
        load_config(tmp_path)


def test_a_swept_dry_run_file_asks_for_the_upload_again(client, importer, app):
    login(client, importer["admin"])
    checked = upload(client, to_csv([registered_row()]))
    fields = confirm_fields(checked.get_data(as_text=True))
    storage = app.extensions["yiyang.storage"]  # core.storage.get_storage() of the app
    key = storage_key(importer["admin"].id, fields["checksum"], fields["extension"])
    assert storage.exists(key)
    assert key not in [k for k in sweep_uploads(storage, older_than=upload_age(app), now=utcnow())]  # fresh: kept
    _age(storage, key, 25)
    assert key in sweep_uploads(storage, older_than=upload_age(app), now=utcnow())
    again = client.post("/imports/elders/commit", data=fields)
    assert again.status_code == 422 and "请重新上传" in again.get_data(as_text=True)
