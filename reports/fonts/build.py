"""Build the bundled CJK font subsets in this folder (run by hand, output committed).

The sources are the static TrueType instances of Noto Serif SC and Noto Sans SC
(SIL Open Font License 1.1, see OFL.txt), as published on the npm registry by the
`@expo-google-fonts/noto-serif-sc` and `@expo-google-fonts/noto-sans-sc` packages::

    npm pack @expo-google-fonts/noto-serif-sc@0.4.3 @expo-google-fonts/noto-sans-sc@0.4.3
    for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    python reports/fonts/build.py --source . --out reports/fonts

Why subsets: the full fonts are ~30,000 glyphs and 10-15 MB each, too large to ship in the
repository and slow to subset on every render. The repertoire here is GB 2312 (all 7,445
characters) plus the extra characters listed in `extra_chars.txt` (given-name characters
outside GB 2312, symbols used by the document templates) plus Latin-1 and common
punctuation. Characters outside the repertoire are reported by `reports.fonts.missing_chars`.
TrueType (glyf) outlines are kept because subsetting them per document is cheap. The files
are stored as WOFF2 without the glyf transform: 40% of the TrueType size, and WeasyPrint
unpacks them in ~70 ms (once per process) instead of the ~4 s a transformed glyf table takes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.woff2 import compress

HERE = Path(__file__).resolve().parent

FACES = {
    "NotoSerifSC-Regular": "noto-serif-sc-0.4.3/400Regular/NotoSerifSC_400Regular.ttf",
    "NotoSerifSC-Bold": "noto-serif-sc-0.4.3/700Bold/NotoSerifSC_700Bold.ttf",
    "NotoSansSC-Regular": "noto-sans-sc-0.4.3/400Regular/NotoSansSC_400Regular.ttf",
    "NotoSansSC-Bold": "noto-sans-sc-0.4.3/700Bold/NotoSansSC_700Bold.ttf",
}

RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x017F),  # Latin-1 supplement, Latin extended-A
    (0x2000, 0x206F),  # general punctuation
    (0x2100, 0x218F),  # letterlike symbols, number forms (Roman numerals)
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed alphanumerics ①
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # geometric shapes □ ■ ○ ●
    (0x2600, 0x26FF),  # misc symbols ★ ☆ ☐ ☑
    (0x2700, 0x27BF),  # dingbats ✓ ✔
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3200, 0x32FF),  # enclosed CJK
    (0xFF00, 0xFFEF),  # full-width forms
]


def gb2312_chars() -> set[str]:
    """Every character of GB 2312, by decoding each valid two-byte code."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def repertoire() -> set[str]:
    chars = gb2312_chars()
    for start, end in RANGES:
        chars.update(chr(c) for c in range(start, end + 1))
    extra = (HERE / "extra_chars.txt").read_text(encoding="utf-8")
    chars.update(c for line in extra.splitlines() if not line.startswith("#") for c in line)
    return {c for c in chars if not c.isspace() or c == " "}


def build(source: Path, out: Path) -> None:
    unicodes = sorted(ord(c) for c in repertoire())
    for target, relative in FACES.items():
        options = subset.Options()
        options.layout_features = ["kern", "liga", "vert", "vrt2"]
        options.drop_tables += ["BASE", "STAT", "vhea", "vmtx", "DSIG", "GSUB", "GPOS"]
        options.hinting = False
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.glyph_names = False
        font = TTFont(source / relative)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        ttf = out / f"{target}.ttf"
        font.save(ttf)
        woff2 = out / f"{target}.woff2"
        compress(str(ttf), str(woff2), transform_tables=set())
        ttf.unlink()
        size = woff2.stat().st_size
        print(f"{woff2.name}: {font['maxp'].numGlyphs} glyphs, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    build(args.source, args.out)
