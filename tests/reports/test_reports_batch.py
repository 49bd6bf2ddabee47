"""Batch rendering: one valid PDF per context, in order, with progress."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from reports import RenderError, render_batch, render_pdf, samples


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_writes_one_valid_pdf_per_context(tmp_path: Path, workers: int) -> None:
    contexts = [samples.certificate_context(i) for i in range(6)]
    seen: list[tuple[int, int]] = []
    paths = render_batch("certificate.html", contexts, tmp_path, workers=workers,
                         progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in paths] == [f"{i:05d}.pdf" for i in range(1, 7)]
    for index, path in enumerate(paths):
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        assert len(reader.pages) == 1
        assert f"YY-2025-{index + 1:06d}" in reader.pages[0].extract_text()
    assert seen[-1] == (6, 6) and len(seen) == 6
    assert not list(tmp_path.glob("*.part"))


def test_batch_reports_failures_and_keeps_the_rest(tmp_path: Path) -> None:
    contexts = [samples.certificate_context(0), samples.certificate_context(1)]
    contexts[1]["filename"] = "second.pdf"
    with pytest.raises(RenderError) as info:
        render_batch("no_such_template.html", contexts, tmp_path, workers=1)
    assert "2 份失败" in str(info.value)
    paths = render_batch("certificate.html", contexts, tmp_path, workers=1)
    assert [p.name for p in paths] == ["00001.pdf", "second.pdf"]


def test_runaway_document_hits_the_memory_cap_and_the_batch_goes_on(tmp_path: Path) -> None:
    big = samples.report_context(0)
    big["sections"] = [{"title": "大表", "answers": [
        {"item_id": f"X.{i}", "title": "项目", "answer": "很长的回答内容" * 5, "score": 1}
        for i in range(3000)]}]
    small = [samples.report_context(i) for i in (1, 2)]
    for context in small:
        context["sections"] = []  # two pages: quick
    contexts = [small[0], big, small[1]]
    with pytest.raises(RenderError) as info:
        render_batch("assessment_report.html", contexts, tmp_path, workers=1,
                     memory_limit_mb=30, timeout_s=60)
    failures = info.value.failures  # type: ignore[attr-defined]
    assert list(failures) == [1]
    assert "内存上限" in failures[1]
    assert [p.name for p in info.value.paths] == ["00001.pdf", "00003.pdf"]  # type: ignore[attr-defined]
    for path in info.value.paths:  # type: ignore[attr-defined]
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        assert "老年人能力评估报告" in "".join(reader.pages[0].extract_text().split())


def test_a_worker_out_of_memory_even_in_the_handler_hands_back_a_memory_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the cap, the renderer's own MemoryError handler can itself run out of memory (seen
    once in the full suite: logging allocated): the worker still answers with the memory-cap
    message and stops taking documents, instead of dying with the bare MemoryError."""
    from reports import batch

    def exhausted(*_args: object, **_kwargs: object) -> bytes:
        raise MemoryError

    monkeypatch.setattr(batch, "render_pdf", exhausted)
    monkeypatch.setattr(batch, "_job", {"template": "assessment_report.html", "timeout_s": 5})
    index, path, error = batch._render_one((7, tmp_path / "a.pdf", samples.report_context(0)))
    assert (index, path) == (7, None)
    assert error is not None and "超出内存上限" in error
    assert batch._job["spent"] is True
    assert not (tmp_path / "a.pdf").exists()


def test_a_renderer_system_error_is_reported_as_the_memory_cap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """C code that cannot allocate under the cap may return an error without setting one
    (SystemError, seen in CI): the document fails with the memory-cap message, the worker stops
    taking documents."""
    from reports import batch

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise SystemError("error return without exception set")

    monkeypatch.setattr(batch, "render_pdf", broken)
    monkeypatch.setattr(batch, "_job", {"template": "assessment_report.html", "timeout_s": 5})
    index, path, error = batch._render_one((3, tmp_path / "a.pdf", samples.report_context(0)))
    assert (index, path) == (3, None)
    assert error is not None and "超出内存上限" in error
    assert batch._job["spent"] is True


_FAIL_ONCE: tuple[Path, Any] | None = None


def _fails_once(tasks: list[Any]) -> Any:
    """A chunk function (module level: the pool pickles it by name) that fails the first time,
    in the forked worker, outside any document's handler."""
    assert _FAIL_ONCE is not None
    marker, original = _FAIL_ONCE
    if not marker.exists():
        marker.write_text("x")
        raise SystemError("error return without exception set")
    return original(tasks)


def test_a_worker_failing_outside_any_document_has_its_chunk_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception that escapes a worker's chunk (not a dead worker) does not end the batch:
    the chunk's documents are rendered again in fresh workers, each exactly once."""
    from reports import batch

    marker = tmp_path / "failed-once"
    monkeypatch.setattr(sys.modules[__name__], "_FAIL_ONCE", (marker, batch._render_chunk))
    monkeypatch.setattr(batch, "_render_chunk", _fails_once)
    out = tmp_path / "out"
    paths = render_batch("certificate.html", [samples.certificate_context(i) for i in range(3)],
                         out, workers=1, chunk_size=3)
    assert [p.name for p in paths] == ["00001.pdf", "00002.pdf", "00003.pdf"]
    assert marker.exists()
    assert sorted(p.name for p in out.iterdir()) == ["00001.pdf", "00002.pdf", "00003.pdf"]


def test_worker_memory_cap_is_set_in_the_worker_only(tmp_path: Path) -> None:
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    render_batch("certificate.html", [samples.certificate_context(0)], tmp_path, workers=1)
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_certificates_laid_out_together_are_each_a_complete_pdf(
    tmp_path: Path, pdf_text: Callable[[bytes], str]
) -> None:
    from reports.render import document_html, render_pages

    contexts = [samples.certificate_context(i) for i in range(3)]
    contexts[1]["facility"]["name"] = "谢赟喆堃𠮷养老院"
    htmls = [document_html("certificate.html", c) for c in contexts]
    pdfs = render_pages(htmls)
    assert pdfs is not None and len(pdfs) == 3  # the merged layout was used
    for index, data in enumerate(pdfs):
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1
        text = pdf_text(data)
        assert f"YY-2025-{index + 1:06d}" in text
        assert all(f"YY-2025-{other + 1:06d}" not in text for other in range(3) if other != index)
        assert reader.metadata.title == f"等级证书 YY-2025-{index + 1:06d}"
        for font in reader.pages[0]["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor and str(font["/BaseFont"])[7] == "+"
    assert "谢赟喆堃〓养老院" in pdf_text(pdfs[1])
    # Each file carries only its own glyphs: about the size of a separately rendered one.
    alone = render_pdf("certificate.html", contexts[0])
    assert abs(len(pdfs[0]) - len(alone)) < 0.1 * len(alone)


def test_templates_that_do_not_declare_it_are_not_laid_out_together() -> None:
    from reports.render import document_html, render_pages

    html = document_html("rectification_notice.html", samples.notice_context(0))
    assert render_pages([html, html]) is None
