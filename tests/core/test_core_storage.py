"""File storage: the instance folder by default, an S3-compatible bucket when configured; keys
cannot leave their folder; a write is never seen half done."""

from __future__ import annotations

import pytest

from core.storage import FileStorage, S3Storage, StorageError, storage_from_url


def test_file_storage_round_trip_and_key_rules(tmp_path):
    storage = storage_from_url(None, tmp_path)
    assert isinstance(storage, FileStorage)
    storage.put("jobs/1/a.zip", b"first")
    storage.put("jobs/1/a.zip", b"second")
    assert storage.get("jobs/1/a.zip") == b"second" and storage.exists("jobs/1/a.zip")
    assert [p.name for p in (tmp_path / "jobs" / "1").iterdir()] == ["a.zip"]  # no temporary left
    for bad in ("../secret_key", "secret_key", "/etc/passwd", "jobs/../data_key", "jobs//x", "jobs/a b"):
        with pytest.raises(ValueError):
            storage.put(bad, b"x")
    with pytest.raises(FileNotFoundError):
        storage.get("jobs/2/none.zip")
    storage.delete("jobs/1/a.zip")
    assert not storage.exists("jobs/1/a.zip")


def test_storage_url_is_checked(tmp_path):
    with pytest.raises(StorageError, match="s3://"):
        storage_from_url("ftp://x/y", tmp_path)
    with pytest.raises(StorageError, match="存储桶"):
        storage_from_url("s3:///prefix", tmp_path)
    assert isinstance(storage_from_url(f"file://{tmp_path}/files", tmp_path), FileStorage)


def test_s3_storage_against_a_local_fake(monkeypatch):
    moto = pytest.importorskip("moto", reason="moto (dev extra) fakes the S3 API")
    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    with moto.mock_aws():
        boto3.client("s3").create_bucket(Bucket="yiyang")
        storage = storage_from_url("s3://yiyang/city1?region=us-east-1", None)  # type: ignore[arg-type]
        assert isinstance(storage, S3Storage)
        storage.put("rating_photos/3/x.jpg", b"jpeg", "image/jpeg")
        assert storage.get("rating_photos/3/x.jpg") == b"jpeg" and storage.exists("rating_photos/3/x.jpg")
        listed = boto3.client("s3").list_objects_v2(Bucket="yiyang")["Contents"]
        assert [o["Key"] for o in listed] == ["city1/rating_photos/3/x.jpg"]
        with pytest.raises(FileNotFoundError):
            storage.get("rating_photos/3/none.jpg")
        # listing a folder, and the sweep of unconfirmed import uploads that reads it
        from datetime import timedelta

        from core.timeutil import utcnow
        from imports.uploads import storage_key, sweep_uploads

        upload = storage_key(3, "ab" * 32, "csv")
        storage.put(upload, b"x")
        assert [k for k, _t in storage.listing("imports")] == [upload]
        assert sweep_uploads(storage, older_than=timedelta(hours=24), now=utcnow()) == []
        assert sweep_uploads(storage, older_than=timedelta(hours=24), now=utcnow() + timedelta(hours=25)) == [upload]
        assert not storage.exists(upload) and storage.exists("rating_photos/3/x.jpg")
        storage.delete("rating_photos/3/x.jpg")
        assert not storage.exists("rating_photos/3/x.jpg")


def test_a_file_removed_with_its_row_goes_only_when_the_removal_commits(tmp_path):
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    from core.storage import delete_after_commit

    storage = storage_from_url(None, tmp_path / "files")
    storage.put("photos/1/a.jpg", b"a")
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with Session(engine) as session:
        session.execute(text("SELECT 1"))  # in a transaction, as the row's DELETE would be
        delete_after_commit(session, storage, "photos/1/a.jpg")
        session.rollback()
        assert storage.exists("photos/1/a.jpg")  # the row's removal was rolled back: the file stays
        session.commit()
        assert storage.exists("photos/1/a.jpg")  # and a later commit does not remember it
        delete_after_commit(session, storage, "photos/1/a.jpg")
        assert storage.exists("photos/1/a.jpg")
        session.commit()
        assert not storage.exists("photos/1/a.jpg")
    engine.dispose()
