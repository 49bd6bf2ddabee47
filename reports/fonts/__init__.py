"""Bundled CJK fonts: where they are, what they cover, and fast per-document subsetting.

The fonts are subsets of Noto Serif SC and Noto Sans SC (OFL, see OFL.txt) built by
build.py and stored as WOFF2. Documents use them through the families below, which
`font_face_css()` declares with ``@font-face`` rules that point at the packaged files.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from pathlib import Path

FONT_DIR = Path(str(resources.files(__name__)))

SERIF_FAMILY = "Yiyang Serif"
SANS_FAMILY = "Yiyang Sans"


@dataclass(frozen=True)
class FontFace:
    family: str
    weight: int
    path: Path


FACES: tuple[FontFace, ...] = (
    FontFace(SERIF_FAMILY, 400, FONT_DIR / "NotoSerifSC-Regular.woff2"),
    FontFace(SERIF_FAMILY, 700, FONT_DIR / "NotoSerifSC-Bold.woff2"),
    FontFace(SANS_FAMILY, 400, FONT_DIR / "NotoSansSC-Regular.woff2"),
    FontFace(SANS_FAMILY, 700, FONT_DIR / "NotoSansSC-Bold.woff2"),
)


def font_face_css() -> str:
    """CSS ``@font-face`` rules for every bundled face (absolute file URLs)."""
    rules = []
    for face in FACES:
        rules.append(
            "@font-face { "
            f'font-family: "{face.family}"; font-weight: {face.weight}; font-style: normal; '
            f'src: url("{face.path.as_uri()}") format("woff2"); }}'
        )
    return "\n".join(rules)


@lru_cache(maxsize=1)
def covered_codepoints() -> frozenset[int]:
    """Code points every bundled face can draw (the intersection of their cmaps)."""
    from fontTools.ttLib import TTFont

    covered: set[int] | None = None
    for face in FACES:
        with TTFont(face.path, lazy=True) as font:
            cmap = set(font["cmap"].getBestCmap())
        covered = cmap if covered is None else covered & cmap
    return frozenset(covered or ())


def missing_chars(texts: Iterable[str]) -> list[str]:
    """Characters in ``texts`` that the bundled fonts cannot draw, in order of appearance."""
    covered = covered_codepoints()
    seen: dict[str, None] = {}
    for text in texts:
        for char in dict.fromkeys(text):  # each distinct character once, in order
            if ord(char) in covered or char in seen:
                continue
            # Spaces, controls and format characters are not drawn with a glyph.
            if unicodedata.category(char)[0] in ("Z", "C"):
                continue
            seen[char] = None
    return list(seen)


# --- Fast subsetting -------------------------------------------------------------------
#
# WeasyPrint subsets each embedded font on every render. Without the HarfBuzz subsetter
# library (not packaged on PyPI) it falls back to fontTools, which parses the whole font:
# about 1 s for a CJK font. For TrueType (glyf) fonts the subset WeasyPrint asks for keeps
# glyph ids, so it is only a matter of copying the used glyphs' bytes into new glyf and
# loca tables. The parsed tables of each font are cached per process.

_ARG_1_AND_2_ARE_WORDS = 0x0001
_WE_HAVE_A_SCALE = 0x0008
_MORE_COMPONENTS = 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE = 0x0040
_WE_HAVE_A_TWO_BY_TWO = 0x0080

# Tables a CIDFontType2 font program needs (PDF 32000-1 9.9), plus OS/2, name and post.
_KEEP = (b"head", b"hhea", b"maxp", b"OS/2", b"name", b"post", b"cvt ", b"fpgm", b"prep")


class _ParsedFont:
    def __init__(self, data: bytes) -> None:
        num_tables = struct.unpack_from(">H", data, 4)[0]
        self.tables: dict[bytes, bytes] = {}
        for i in range(num_tables):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            self.tables[tag] = data[offset : offset + length]
        head = self.tables[b"head"]
        long_loca = struct.unpack_from(">h", head, 50)[0] == 1
        self.num_glyphs = struct.unpack_from(">H", self.tables[b"maxp"], 4)[0]
        self.num_hmetrics = struct.unpack_from(">H", self.tables[b"hhea"], 34)[0]
        loca = self.tables[b"loca"]
        count = self.num_glyphs + 1
        if long_loca:
            self.loca = struct.unpack_from(f">{count}I", loca)
        else:
            self.loca = tuple(2 * x for x in struct.unpack_from(f">{count}H", loca))
        self.glyf = self.tables[b"glyf"]

    def glyph(self, gid: int) -> bytes:
        return self.glyf[self.loca[gid] : self.loca[gid + 1]]

    def components(self, gid: int) -> list[int]:
        data = self.glyph(gid)
        if len(data) < 10 or struct.unpack_from(">h", data, 0)[0] >= 0:
            return []
        found, offset = [], 10
        while True:
            flags, component = struct.unpack_from(">HH", data, offset)
            found.append(component)
            offset += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
            if flags & _WE_HAVE_A_SCALE:
                offset += 2
            elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
                offset += 4
            elif flags & _WE_HAVE_A_TWO_BY_TWO:
                offset += 8
            if not flags & _MORE_COMPONENTS:
                return found

    def subset(self, gids: Iterable[int]) -> bytes:
        keep = {0} | {gid for gid in gids if 0 <= gid < self.num_glyphs}
        pending = list(keep)
        while pending:
            for component in self.components(pending.pop()):
                if component not in keep and component < self.num_glyphs:
                    keep.add(component)
                    pending.append(component)
        count = max(keep) + 1

        # Only the kept glyphs have bytes; loca is the running sum of their padded sizes.
        kept = sorted(k for k in keep if k < count)
        chunks, sizes = [], [0] * count
        for gid in kept:
            data = self.glyph(gid)
            data += b"\0" * (-len(data) % 4)
            chunks.append(data)
            sizes[gid] = len(data)
        offsets = [0, *accumulate(sizes)]
        glyf_data = b"".join(chunks)

        # Metrics of dropped glyphs are zeroed: PDF takes widths from /W, and zlib at
        # level 9 (pydyf's) spends ~25 ms on a full CJK hmtx but nothing on zeros.
        hmetrics = min(self.num_hmetrics, count)
        source = self.tables[b"hmtx"]
        hmtx = bytearray(4 * hmetrics + 2 * (count - hmetrics))
        for gid in keep:
            if gid < hmetrics:
                hmtx[4 * gid : 4 * gid + 4] = source[4 * gid : 4 * gid + 4]
            else:
                at = 4 * hmetrics + 2 * (gid - hmetrics)
                start = 4 * self.num_hmetrics + 2 * (gid - self.num_hmetrics)
                hmtx[at : at + 2] = source[start : start + 2]
        hmtx = bytes(hmtx)

        tables = {tag: self.tables[tag] for tag in _KEEP if tag in self.tables}
        head = bytearray(tables[b"head"])
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set below
        struct.pack_into(">h", head, 50, 1)  # long loca offsets
        tables[b"head"] = bytes(head)
        hhea = bytearray(tables[b"hhea"])
        struct.pack_into(">H", hhea, 34, hmetrics)
        tables[b"hhea"] = bytes(hhea)
        maxp = bytearray(tables[b"maxp"])
        struct.pack_into(">H", maxp, 4, count)
        tables[b"maxp"] = bytes(maxp)
        if b"post" in tables:  # version 3: no glyph names
            tables[b"post"] = b"\x00\x03\x00\x00" + tables[b"post"][4:32]
        tables[b"hmtx"] = hmtx
        tables[b"loca"] = struct.pack(f">{len(offsets)}I", *offsets)
        tables[b"glyf"] = glyf_data
        return _assemble(tables)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def _assemble(tables: dict[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1,
                         count * 16 - power * 16)
    offset = 12 + 16 * count
    directory, body = [], []
    for tag in tags:
        data = tables[tag]
        directory.append(struct.pack(">4sIII", tag, _checksum(data), offset, len(data)))
        padded = data + b"\0" * (-len(data) % 4)
        body.append(padded)
        offset += len(padded)
    font = bytearray(header + b"".join(directory) + b"".join(body))
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    head_offset = 12 + 16 * count + sum(len(b) for b in body[: tags.index(b"head")])
    struct.pack_into(">I", font, head_offset + 8, adjustment)
    return bytes(font)


_PARSED: dict[bytes, _ParsedFont] = {}


def _font_key(data: bytes) -> bytes:
    # The table directory holds every table's checksum: a cheap, reliable fingerprint.
    num_tables = struct.unpack_from(">H", data, 4)[0]
    return data[: 12 + 16 * num_tables]


def is_fast_subsettable(data: bytes, index: int = 0) -> bool:
    """Whether ``data`` is a single TrueType-outline font the fast subsetter handles."""
    if index != 0 or len(data) < 12 or data[:4] not in (b"\x00\x01\x00\x00", b"true"):
        return False
    key = _font_key(data)
    tags = {key[12 + 16 * i : 16 + 16 * i] for i in range((len(key) - 12) // 16)}
    return {b"glyf", b"loca", b"head", b"hhea", b"hmtx", b"maxp"} <= tags


def subset_truetype(data: bytes, gids: Iterable[int]) -> bytes:
    """Keep only ``gids`` (and glyph 0) of a TrueType font, retaining glyph ids."""
    key = _font_key(data)
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) > 32:  # a process only ever sees a handful of fonts
            _PARSED.clear()
        parsed = _PARSED[key] = _ParsedFont(data)
    return parsed.subset(gids)
