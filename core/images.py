"""Uploaded photos made safe to keep, for every package that stores one.

A photo is decoded only after its header says it is of a sane size (a 24 KB PNG can claim 178
megapixels), turned upright, shrunk to a long edge of `max_edge` and re-encoded as JPEG. The
re-encoding drops every metadata block the camera wrote (GPS position, device serial, owner
name, thumbnails); only the time the photo was taken is carried over, because it is evidence
of when a visit happened.
"""

from __future__ import annotations

import io
import warnings

from core.i18n import N_

MAX_PIXELS = 50_000_000  # the largest phone and tablet cameras stay below this
EXIF_DATETIME = 306  # "DateTime" in IFD0
EXIF_DATETIME_ORIGINAL = 36867  # "DateTimeOriginal" in the Exif IFD
EXIF_IFD = 0x8769


class ImageRefused(ValueError):
    """The upload is not a photo we keep; the message says why in Chinese."""


def clean_photo(data: bytes, *, max_edge: int = 1600, quality: int = 85) -> bytes:
    """The photo as a metadata-free JPEG (capture time kept), upright and at most `max_edge` px."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise ImageRefused(N_("图片像素过多（超过 5000 万像素），请用正常的照片"))
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(N_("图片像素过多（超过 5000 万像素），请用正常的照片")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused(N_("文件不是有效的图片")) from None
    taken = _capture_time(image)
    image = ImageOps.exif_transpose(image) or image
    image.thumbnail((max_edge, max_edge))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    kept = Image.Exif()
    if taken:
        kept[EXIF_DATETIME] = taken
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True, exif=kept.tobytes())
    return out.getvalue()


def _capture_time(image: object) -> str | None:
    try:
        exif = image.getexif()  # type: ignore[attr-defined]
        value = exif.get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL) or exif.get(EXIF_DATETIME)
    except Exception:  # a broken metadata block only costs us the time
        return None
    if isinstance(value, str) and len(value) == 19 and value[4] == ":" and value[10] == " ":
        return value
    return None


DRAWING_MAX_EDGE = 2400  # a signature pad on a 12-inch tablet at 2× pixel density stays below this


def clean_drawing(data: bytes) -> tuple[bytes, tuple[int, int]]:
    """A drawn signature (a PNG from a canvas) re-encoded as a metadata-free PNG with its alpha,
    and its size; ImageRefused when it is not a PNG of a sane size or holds no stroke at all."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "PNG":
                raise ImageRefused(N_("签名应为 PNG 图片"))
            width, height = probe.size
            if width > DRAWING_MAX_EDGE or height > DRAWING_MAX_EDGE or width < 20 or height < 10:
                raise ImageRefused(N_("签名图片尺寸不合适"))
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRefused(N_("签名不是有效的 PNG 图片")) from None
    image = image.convert("RGBA")
    alpha = image.getchannel("A")
    if alpha.getextrema()[1] == 0:  # fully transparent: nothing was drawn
        raise ImageRefused(N_("签名是空白的，请先签名"))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue(), image.size
