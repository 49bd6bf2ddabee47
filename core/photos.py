"""One upload path for evidence photos, for every package that keeps one (inspection checklist
items, corrective-action evidence, assessment items).

    stored = store_photo(storage=get_storage(), folder="assessment_photos/3", data=..., content_type=...)
    stored.name, stored.content_type, stored.size        # the record keeps these
    thumbnail_data_url(storage, stored.key)               # a small JPEG for a PDF, as a data: URL

The rule lives here once: at most PHOTO_MAX_BYTES from the camera, JPEG, PNG or WebP only, then
core.images.clean_photo (decoded only after a sane header, upright, long edge PHOTO_MAX_EDGE,
every metadata block dropped but the capture time), kept as a JPEG under a random name in the
folder the package names (core.storage: the instance folder or the shared object store).
A refusal is a PhotoRefused (a DomainError: 413 too large, 422 otherwise) naming the `photo` field.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from typing import Any

from core.errors import DomainError
from core.i18n import N_

PHOTO_MAX_BYTES = 10 * 1024 * 1024  # what we accept from the camera
PHOTO_MAX_EDGE = 1600  # what we keep: long edge in pixels
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
THUMB_EDGE = 320  # thumbnails printed in PDFs (about 27 mm at 300 dpi)


class PhotoRefused(DomainError):
    """An upload that is not a photo we keep; `errors` names the `photo` field."""

    def __init__(self, message: Any, *, status: int = 422) -> None:
        DomainError.__init__(self, message, status=status, code="invalid_photo",
                             errors=[{"item": "photo", "message": message}])


@dataclass(frozen=True)
class StoredPhoto:
    key: str  # the storage key: folder/name
    name: str  # the file name inside the folder
    content_type: str
    size: int


def clean_upload(data: bytes, content_type: str) -> bytes:
    """The upload checked and cleaned (core.images.clean_photo), or PhotoRefused."""
    from core.images import ImageRefused, clean_photo

    if not data:
        raise PhotoRefused(N_("请选择照片。"))
    if len(data) > PHOTO_MAX_BYTES:
        raise PhotoRefused(N_("照片超过 10 MB，请压缩后再上传"), status=413)
    if content_type not in PHOTO_TYPES:
        raise PhotoRefused(N_("只接受 JPEG、PNG 或 WebP 照片"))
    try:
        return clean_photo(data, max_edge=PHOTO_MAX_EDGE)
    except ImageRefused as refused:
        raise PhotoRefused(str(refused)) from None


def store_photo(*, storage: Any, folder: str, data: bytes, content_type: str) -> StoredPhoto:
    """Check, clean and keep an uploaded photo under `folder`; the file is a JPEG."""
    cleaned = clean_upload(data, content_type)
    name = f"{uuid.uuid4().hex}.jpg"
    key = f"{folder}/{name}"
    storage.put(key, cleaned, "image/jpeg")  # core.storage
    return StoredPhoto(key=key, name=name, content_type="image/jpeg", size=len(cleaned))


def thumbnail_data_url(storage: Any, key: str, *, edge: int = THUMB_EDGE) -> str | None:
    """A small JPEG of a stored photo as a data: URL (the PDF fetcher reads nothing else), or
    None when the file is gone."""
    from PIL import Image

    try:
        data = storage.get(key)
    except FileNotFoundError:
        return None
    with Image.open(io.BytesIO(data)) as image:  # a stored photo is already cleaned and small
        image.thumbnail((edge, edge))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=75)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
