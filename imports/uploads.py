"""Files uploaded for a dry run and kept until the import is confirmed (docs/import.md).

The page keeps a checked file in the storage (core.storage) under
`imports/<user id>/<SHA-256>.<ext>` so that the confirmation imports exactly what was checked; a
confirmed import deletes it. A file whose import is never confirmed would stay for ever: the sweep
deletes every upload older than `YIYANG_IMPORT_UPLOAD_HOURS` (24 by default), run daily by the
scheduler (job `imports.sweep`, `YIYANG_SCHEDULE_IMPORT_SWEEP`, 04:30 by default) or at once with
`yiyang jobs run imports.sweep`. Uploading the same file again writes it again, so its age starts
over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

FOLDER = "imports"
DEFAULT_HOURS = 24


def storage_key(user_id: int, checksum: str, extension: str) -> str:
    """Where a user's checked file waits for the confirmation."""
    return f"{FOLDER}/{user_id}/{checksum}.{extension}"


def sweep_uploads(storage: Any, *, older_than: timedelta, now: datetime) -> list[str]:
    """Delete every waiting upload last written before `now - older_than`; the keys deleted."""
    cutoff = now - older_than
    stale = [key for key, written in storage.listing(FOLDER) if written < cutoff]
    for key in stale:
        storage.delete(key)
    return sorted(stale)


def upload_age(app: Any) -> timedelta:
    """How long an unconfirmed upload is kept (YIYANG_IMPORT_UPLOAD_HOURS)."""
    return timedelta(hours=int(app.config.get("IMPORT_UPLOAD_HOURS") or DEFAULT_HOURS))
