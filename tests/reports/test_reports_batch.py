"""Batch rendering: one valid PDF per context, in order, with progress."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports import RenderError, render_batch, samples


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
