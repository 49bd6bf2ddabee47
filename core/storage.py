"""Where files live: photos, evidence and generated documents.

    storage = get_storage()            # from YIYANG_STORAGE_URL, once per app
    storage.put("jobs/12/reports.zip", data, "application/zip")
    storage.get("jobs/12/reports.zip") # bytes, or FileNotFoundError

By default the files are kept in the instance folder (`<instance>/KEY`; a key always names a
folder first, e.g. `rating_photos/3/…`, so no key reaches the keys kept at the top); with
`YIYANG_STORAGE_URL=s3://BUCKET/PREFIX?endpoint=https://HOST&region=REGION` they go to an
S3-compatible object store through boto3 (credentials from the usual AWS_* variables), so every
app server and worker sees the same files. Nothing is served from the store directly: the app
reads the file and answers after its own access checks.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from flask import Flask, current_app

CHUNK = 64 * 1024
KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class StorageError(RuntimeError):
    """The storage configuration is unusable; the message says why."""


def check_key(key: str) -> str:
    """A relative path of plain names in a folder: no '..', no leading '/', no odd characters."""
    if not KEY.match(key) or "/" not in key or any(part in ("", ".", "..") for part in key.split("/")) or len(key) > 300:
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None: ...

    def iter_chunks(self, key: str, size: int = CHUNK) -> Iterator[bytes]: ...

    def listing(self, folder: str) -> Iterator[tuple[str, datetime]]: ...


class FileStorage:
    """Files under one folder; a write goes to a temporary file first, so a reader never sees
    half a file and a crash leaves the old one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        target = self.path(key)
        if not target.is_file():
            raise FileNotFoundError(key)
        return target.read_bytes()

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Keep a file written elsewhere (a large export), copied in pieces, never read whole."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle, open(path, "rb") as source:
                shutil.copyfileobj(source, handle, CHUNK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def iter_chunks(self, key: str, size: int = CHUNK) -> Iterator[bytes]:
        """The file in pieces (FileNotFoundError before the first one when it is missing)."""
        target = self.path(key)
        if not target.is_file():
            raise FileNotFoundError(key)
        handle = open(target, "rb")  # noqa: SIM115 (closed by the generator)

        def pieces() -> Iterator[bytes]:
            with handle:
                while piece := handle.read(size):
                    yield piece

        return pieces()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def listing(self, folder: str) -> Iterator[tuple[str, datetime]]:
        """(key, last written, UTC) of every file below `folder` (e.g. "imports"), in no order."""
        base = self.root / check_key(f"{folder}/x").rsplit("/", 1)[0]
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            if path.is_file():
                yield (path.relative_to(self.root).as_posix(),
                       datetime.fromtimestamp(path.stat().st_mtime, tz=UTC))


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, Ceph, the cloud object stores of Chinese providers)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None, **client_args: Any) -> None:
        if client is None:
            try:
                import boto3
            except ImportError:  # pragma: no cover - depends on the installation
                raise StorageError("YIYANG_STORAGE_URL 指向对象存储，但未安装 boto3（pip install 'yiyang[s3]'）。"
                                   " Install boto3 for s3:// storage.") from None
            client = boto3.client("s3", **{k: v for k, v in client_args.items() if v})
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None
        return answer["Body"].read()  # type: ignore[no-any-return]

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """A multipart upload in pieces (boto3's upload_file): a large export is never read whole."""
        self.client.upload_file(str(path), self.bucket, self._name(key), ExtraArgs={"ContentType": content_type})

    def iter_chunks(self, key: str, size: int = CHUNK) -> Iterator[bytes]:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None
        return answer["Body"].iter_chunks(size)  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def listing(self, folder: str) -> Iterator[tuple[str, datetime]]:
        """(key, last written) of every object below `folder`, a page of 1,000 at a time."""
        start = len(self.prefix) + 1 if self.prefix else 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._name(f"{folder}/x")[:-1])
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][start:], item["LastModified"]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception:
            return False
        return True


def storage_from_url(url: str | None, instance_path: Path) -> Storage:
    """The storage a URL names: empty → the instance folder, file:///PATH, or s3://BUCKET/PREFIX."""
    if not url:
        return FileStorage(instance_path)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileStorage(Path(parts.path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise StorageError("YIYANG_STORAGE_URL 缺少存储桶名：s3://BUCKET/PREFIX")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return S3Storage(parts.netloc, parts.path, endpoint_url=query.get("endpoint"),
                         region_name=query.get("region"))
    raise StorageError(f"YIYANG_STORAGE_URL 只支持 file:// 或 s3://，而不是 {parts.scheme}://")


def init_app(app: Flask) -> None:
    url = app.config.get("STORAGE_URL") or os.environ.get("YIYANG_STORAGE_URL")
    app.extensions["yiyang.storage"] = storage_from_url(url, Path(app.instance_path))


def get_storage() -> Storage:
    return current_app.extensions["yiyang.storage"]  # type: ignore[no-any-return]


# --- removing a file once its row is gone for good -------------------------------------------

_DELETES = "yiyang.storage.deletes"


def delete_after_commit(session: Any, storage: Storage, key: str) -> None:
    """Remove `key` from `storage` once `session` commits (nothing happens if it rolls back): a
    deleted or replaced photo's row and file go together, never a row whose file is missing."""
    session.info.setdefault(_DELETES, []).append((storage, key))


def _listen() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_commit")
    def _delete_files(session: Session) -> None:
        for storage, key in session.info.pop(_DELETES, []):
            try:
                storage.delete(key)
            except (OSError, StorageError):  # the row is gone; an orphan file is only space
                import logging

                logging.getLogger(__name__).warning("could not remove stored file %s", key)

    @event.listens_for(Session, "after_rollback")
    def _keep_files(session: Session) -> None:
        session.info.pop(_DELETES, None)


_listen()
