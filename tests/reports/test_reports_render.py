"""PDF rendering: every character comes back, fonts embedded and subset, time bounded."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from pypdf import PdfReader

from reports import (
    PLACEHOLDER,
    MissingGlyphsError,
    RenderError,
    RenderTimeoutError,
    bar_chart_svg,
    mask_id_number,
    missing_chars,
    qr_data_url,
    render_html,
    render_pdf,
    samples,
)

RARE = "谢赟喆堃昇翀犇淼鑫燚"
TEMPLATES = {
    "certificate.html": samples.certificate_context(0),
    "assessment_report.html": samples.report_context(0),
    "rectification_notice.html": samples.notice_context(0),
    "blank_form.html": samples.blank_form_context(),
}


class _TextOfBody(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.skip += tag in ("head", "style", "title", "script")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("head", "style", "title", "script")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _TextOfBody()
    parser.feed(html)
    return "".join(parser.parts)


def embedded_fonts(data: bytes) -> list[dict[str, object]]:
    """Each font of each page: base name, whether its program is embedded."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            found.append({
                "name": str(font["/BaseFont"]),
                "embedded": any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")),
            })
    return found


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_a_pdf(template: str) -> None:
    data = render_pdf(template, TEMPLATES[template])
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


def test_report_has_three_to_four_pages() -> None:
    data = render_pdf("assessment_report.html", samples.report_context(0))
    assert 3 <= len(PdfReader(io.BytesIO(data)).pages) <= 4


def test_rare_name_characters_round_trip(pdf_text: Callable[[bytes], str]) -> None:
    context = samples.certificate_context(0)
    context["facility"]["name"] = RARE + "养老院"
    text = pdf_text(render_pdf("certificate.html", context))
    assert RARE + "养老院" in text
    assert "等级证书" in text


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_character_of_the_source_comes_back(
    template: str, pdf_text: Callable[[bytes], str]
) -> None:
    from reports.render import render_template

    html = render_template(template, TEMPLATES[template])
    text = pdf_text(render_pdf(template, TEMPLATES[template]))
    # Every CJK character of the document's visible text must be extractable from the PDF.
    cjk = {c for c in visible_text(html) if "\u4e00" <= c <= "\u9fff"}
    assert cjk, template
    assert cjk <= set(text), sorted(cjk - set(text))


def test_report_text_in_order(pdf_text: Callable[[bytes], str]) -> None:
    text = pdf_text(render_pdf("assessment_report.html", samples.report_context(0)))
    for expected in ("老年人能力评估报告", "谢赟", "C.1一级指标得分", "自理能力", "57分",
                     "能力重度受损（重度失能）", "800.00元", "张堃", "李昇翀", "王淼鑫"):
        assert expected in text


def test_id_number_masked_unless_asked(pdf_text: Callable[[bytes], str]) -> None:
    context = samples.report_context(0)
    text = pdf_text(render_pdf("assessment_report.html", context))
    assert "32010619380517002X" not in text
    assert "320106********002X" in text
    context["elder"]["show_full_id"] = True
    assert "32010619380517002X" in pdf_text(render_pdf("assessment_report.html", context))


def test_mask_id_number() -> None:
    assert mask_id_number("32010619380517002X") == "320106********002X"
    assert mask_id_number("") == ""


@pytest.mark.parametrize("template", ["certificate.html", "assessment_report.html"])
def test_fonts_are_embedded_and_subset(template: str) -> None:
    data = render_pdf(template, TEMPLATES[template])
    fonts = embedded_fonts(data)
    assert fonts
    for font in fonts:
        assert font["embedded"], font
        # Subset fonts are named with a six-letter tag: /ABCDEF+Name.
        name = str(font["name"])
        assert name[7:8] == "+" and name[1:7].isupper(), name
    assert any("Serif" in str(f["name"]) for f in fonts) == (template == "certificate.html")
    assert any("Sans" in str(f["name"]) for f in fonts)


def test_certificate_is_small() -> None:
    assert len(render_pdf("certificate.html", TEMPLATES["certificate.html"])) < 300_000


def test_bold_and_regular_faces_are_used() -> None:
    names = {str(f["name"]) for f in embedded_fonts(
        render_pdf("assessment_report.html", TEMPLATES["assessment_report.html"]))}
    assert any("Bold" in n for n in names) and any("Bold" not in n for n in names), names


def test_missing_glyph_is_replaced_reported_and_the_rest_extracts(
    caplog: pytest.LogCaptureFixture, pdf_text: Callable[[bytes], str]
) -> None:
    assert missing_chars(["张𠮷堃"]) == ["𠮷"]
    context = samples.certificate_context(0)
    context["facility"]["name"] = "𠮷野家" + RARE + "养老院"
    found: list[str] = []
    with caplog.at_level(logging.WARNING, logger="yiyang.reports"):
        data = render_pdf("certificate.html", context, missing_glyphs=found)
    assert found == ["𠮷"]
    assert any("U+20BB7" in r.getMessage() for r in caplog.records)
    text = pdf_text(data)
    # Default policy: the character is printed as 〓 and every other character comes back.
    assert PLACEHOLDER + "野家" + RARE + "养老院" in text
    assert "养老机构等级划分与评定" in text and "等级证书" in text
    assert "𠮷" not in text


def test_missing_glyph_in_the_sans_face_keeps_that_face_extractable(
    pdf_text: Callable[[bytes], str]
) -> None:
    context = samples.report_context(0)
    context["elder"]["name"] = "吉𠮷"
    context["place"] = "𠮷田町" + RARE
    text = pdf_text(render_pdf("assessment_report.html", context))
    assert "吉" + PLACEHOLDER in text and PLACEHOLDER + "田町" + RARE in text
    assert "老年人能力评估报告" in text and "能力重度受损（重度失能）" in text


def test_missing_glyph_warn_mode_keeps_the_character_and_reports_it(
    caplog: pytest.LogCaptureFixture
) -> None:
    context = samples.certificate_context(0)
    context["facility"]["name"] = "𠮷野家养老院"
    found: list[str] = []
    with caplog.at_level(logging.WARNING, logger="yiyang.reports"):
        data = render_pdf("certificate.html", context, on_missing_glyph="warn",
                          missing_glyphs=found)
    assert data.startswith(b"%PDF-") and found == ["𠮷"]
    assert any("U+20BB7" in r.getMessage() for r in caplog.records)


def test_replacement_touches_text_not_markup() -> None:
    from reports.render import replace_missing

    html = '<a href="https://x/𠮷">𠮷野</a><p title="𠮷">葛\U000E0100</p>'
    assert replace_missing(html, ["𠮷", "\U000E0100"]) == (
        '<a href="https://x/𠮷">〓野</a><p title="𠮷">葛</p>')


def test_missing_glyph_strict_mode_refuses() -> None:
    context = samples.certificate_context(0)
    context["facility"]["name"] = "𠮷野家养老院"
    with pytest.raises(MissingGlyphsError) as info:
        render_pdf("certificate.html", context, on_missing_glyph="error")
    assert info.value.chars == ["𠮷"]
    assert "U+20BB7" in str(info.value)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # see below
def test_runaway_document_stops_at_time_limit() -> None:
    rows = "".join(f"<tr><td>{i}</td><td>{'很长的内容 ' * 40}</td></tr>" for i in range(20000))
    html = f'<table style="font-family: \'Yiyang Sans\'">{rows}</table>'
    started = time.perf_counter()
    with pytest.raises(RenderTimeoutError) as info:
        render_html(html, timeout_s=1.0)
    assert time.perf_counter() - started < 15  # generous: CI machines are busy
    assert "超时" in str(info.value)
    # The renderer is still usable afterwards.
    assert render_pdf("certificate.html", TEMPLATES["certificate.html"]).startswith(b"%PDF")


# The deadline is an asynchronous exception: when it lands inside a finaliser, Python reports it
# as "ignored" (an unraisable exception) and the watchdog sends it again; that report is expected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_time_limit_also_applies_in_a_worker_thread() -> None:
    import threading

    rows = "".join(f"<p>{'内容 ' * 50}</p>" for _ in range(20000))
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            render_html(rows, timeout_s=1.0)
        except RenderError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    started = time.perf_counter()
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert time.perf_counter() - started < 30  # generous: CI machines are busy
    assert outcome and isinstance(outcome[0], RenderTimeoutError)


def test_template_errors_are_render_errors() -> None:
    with pytest.raises(RenderError):
        render_pdf("no_such_template.html", {})


def test_context_is_escaped(pdf_text: Callable[[bytes], str]) -> None:
    context = samples.certificate_context(0)
    context["facility"]["name"] = '<img src="file:///etc/passwd"><script>x</script>养老院'
    text = pdf_text(render_pdf("certificate.html", context))
    assert "<script>x</script>养老院" in text


def test_chart_escapes_labels_and_scales_bars() -> None:
    svg = str(bar_chart_svg([{"label": "<b>自理</b>", "score": 16, "max": 32},
                             {"label": "运动", "score": 0, "max": 0}]))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert 'width="145.0"' in svg  # half of the 290 px track


def test_qr_data_url_is_png() -> None:
    assert qr_data_url("https://example.org/v/1").startswith("data:image/png;base64,iVBOR")


def test_placeholder_is_in_every_bundled_face() -> None:
    from reports.fonts import covered_codepoints

    assert ord(PLACEHOLDER) in covered_codepoints()


def test_shared_stylesheets_are_parsed_once() -> None:
    from reports import _weasyprint

    cache = _weasyprint._cache
    assert cache is not None  # WeasyPrint 70: the cache is installed
    render_pdf("certificate.html", TEMPLATES["certificate.html"])
    hits = cache.hits
    render_pdf("certificate.html", samples.certificate_context(3))
    assert cache.hits >= hits + 2  # base.css and the template's <style>
    # Page rules stay with their document: the portrait report after a landscape
    # certificate is still portrait.
    data = render_pdf("assessment_report.html", TEMPLATES["assessment_report.html"])
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert float(box.height) > float(box.width)


def test_unexpected_weasyprint_internals_fall_back_with_a_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports import _weasyprint

    class OtherFont:
        def subset(self, to_unicode: dict, hinting: bool, extra: int) -> None: ...

    monkeypatch.setattr(_weasyprint.pdf_fonts, "Font", OtherFont)
    with caplog.at_level(logging.WARNING, logger="yiyang.reports"):
        installed = _weasyprint.install_fast_subsetter(lambda d, i: True, lambda d, g: d)
    assert not installed
    assert OtherFont.subset.__name__ == "subset" and not hasattr(OtherFont.subset, "_yiyang")
    assert any("WeasyPrint's own subsetting" in r.getMessage() for r in caplog.records)


def test_the_deadline_is_not_reported_as_unraisable_while_rendering() -> None:
    """While a deadline is armed, our own _Deadline landing in a finaliser is dropped (the
    deadline repeats, and reporting it runs other code it could strike again); any other
    unraisable exception still reaches the previous hook, and the hook is restored after."""
    import sys
    from types import SimpleNamespace

    from reports import render

    seen: list[Any] = []
    before = sys.unraisablehook
    hook = render._quiet_deadline_hook(seen.append)
    hook(SimpleNamespace(exc_type=render._Deadline, exc_value=render._Deadline()))
    other = SimpleNamespace(exc_type=ValueError, exc_value=ValueError("x"))
    hook(other)
    assert seen == [other]
    with render._deadline(5):
        assert sys.unraisablehook is not before
    assert sys.unraisablehook is before
