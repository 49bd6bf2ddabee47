"""PDF safety: the URL fetcher serves packaged files and data: URLs only, and never connects."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import pytest
from pypdf import PdfReader

from reports import render_html
from reports.fetcher import FetchDenied, SafeURLFetcher

ATTACKS = {
    "file_passwd_img": '<img src="file:///etc/passwd">',
    "file_passwd_object": '<object data="file:///etc/passwd" type="text/plain"></object>',
    "http_image": '<img src="http://198.51.100.7/track.png">',
    "https_stylesheet": '<link rel="stylesheet" href="https://198.51.100.7/x.css">',
    "css_import": '<style>@import url("http://198.51.100.7/evil.css");</style>',
    "css_import_file": '<style>@import "file:///etc/passwd";</style>',
    "css_background": '<div style="background: url(http://198.51.100.7/bg.png)">x</div>',
    "font_face": '<style>@font-face { font-family: X; src: url(http://198.51.100.7/f.woff2) }'
                 ' p { font-family: X }</style><p>x</p>',
    "attachment_link": '<link rel="attachment" href="file:///etc/passwd" title="passwd">',
    "attachment_anchor": '<a rel="attachment" href="file:///etc/passwd">附件</a>',
    "dev_urandom": '<img src="file:///dev/urandom">',
    "dev_urandom_css": '<link rel="stylesheet" href="/dev/urandom">',
    "relative_escape": '<img src="../../../../../../etc/passwd">',
    "ftp": '<img src="ftp://198.51.100.7/x.png">',
    "svg_external": '<img src="data:image/svg+xml,<svg xmlns=\'http://www.w3.org/2000/svg\' '
                    'xmlns:xlink=\'http://www.w3.org/1999/xlink\'><image '
                    'xlink:href=\'file:///etc/passwd\' width=\'10\' height=\'10\'/></svg>">',
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_template_yields_pdf_without_the_resource(
    name: str, no_network: list[tuple], pdf_text: Callable[[bytes], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    html = f'<p style="font-family: \'Yiyang Sans\'">安全测试</p>{ATTACKS[name]}'
    with caplog.at_level(logging.WARNING):
        data = render_html(html, timeout_s=20)
    assert data.startswith(b"%PDF-")
    assert no_network == []
    assert b"root:" not in data
    assert "root:" not in pdf_text(data)
    reader = PdfReader(io.BytesIO(data))
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get_object().get("/Names", {}))
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            assert annotation.get_object().get("/Subtype") != "/FileAttachment"


def test_fetcher_allows_packaged_files_and_data_urls(no_network: list[tuple]) -> None:
    from reports.fetcher import TEMPLATE_DIR
    from reports.fonts import FACES

    fetcher = SafeURLFetcher()
    assert fetcher((TEMPLATE_DIR / "base.css").as_uri()).read().startswith(b"/*")
    assert fetcher(FACES[0].path.as_uri()).read()[:4] == b"wOF2"
    assert fetcher("data:text/plain;base64,5a6J5YWo").read().decode() == "安全"
    assert fetcher("data:,hello%20world").read() == b"hello world"
    assert no_network == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "file:///dev/urandom", "http://198.51.100.7/", "https://example.org/",
    "ftp://example.org/x", "file://remote-host/etc/passwd", "gopher://x", "javascript:alert(1)",
])
def test_fetcher_denies(url: str, no_network: list[tuple]) -> None:
    fetcher = SafeURLFetcher()
    with pytest.raises(FetchDenied):
        fetcher(url)
    assert fetcher.denied and no_network == []


def test_symlink_out_of_the_roots_is_denied(tmp_path: object) -> None:
    from pathlib import Path

    from reports.fetcher import TEMPLATE_DIR

    root = Path(str(tmp_path))
    link = root / "passwd.css"
    link.symlink_to("/etc/passwd")
    fetcher = SafeURLFetcher(roots=[root, TEMPLATE_DIR])
    with pytest.raises(FetchDenied):
        fetcher(link.as_uri())
