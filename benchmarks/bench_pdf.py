"""PDF rendering benchmark (issue 6): CJK vs Latin certificate, report, 1,000-certificate batch.

Medians of several renders in one warm process; the batch writes each certificate to its
own file in a temporary folder through reports.render_batch (all cores).
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from reports import render_batch, render_pdf, samples
from reports.render import warm_up

RUNS = 15
BATCH = 1000


def _median_render(template: str, context: dict, runs: int = RUNS) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        data = render_pdf(template, context)
        times.append(time.perf_counter() - started)
        size = len(data)
    return statistics.median(times), size


def _rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run() -> dict[str, float]:
    started = time.perf_counter()
    warm_up()
    print(f"warm-up (fonts loaded): {time.perf_counter() - started:.2f} s")

    cjk_context = samples.certificate_context(0)
    cjk_context["facility"]["name"] = "谢赟喆堃昇翀犇淼鑫燚颐养苑"
    cjk_s, cjk_bytes = _median_render("certificate.html", cjk_context)
    latin_s, latin_bytes = _median_render("certificate.html", samples.certificate_context(0, latin=True))
    report_s, report_bytes = _median_render("assessment_report.html", samples.report_context(0))
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(render_pdf("assessment_report.html", samples.report_context(0)))).pages)
    print(f"certificate CJK:   median {cjk_s * 1000:.1f} ms, {cjk_bytes / 1024:.0f} KB")
    print(f"certificate Latin: median {latin_s * 1000:.1f} ms, {latin_bytes / 1024:.0f} KB")
    print(f"ratio CJK/Latin:   {cjk_s / latin_s:.2f}")
    print(f"assessment report: median {report_s * 1000:.1f} ms, {pages} pages, "
          f"{report_bytes / 1024:.0f} KB")

    # Memory of one process over many renders (flat = no growth per document).
    for _ in range(20):
        render_pdf("certificate.html", cjk_context)
    rss_before = _rss_mb()
    for i in range(200):
        render_pdf("certificate.html", samples.certificate_context(i))
    rss_growth = _rss_mb() - rss_before
    print(f"in-process RSS growth over 200 certificates: {rss_growth:.1f} MB")

    contexts = [samples.certificate_context(i) for i in range(BATCH)]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if done == total or now - last[0] > 10:
                last[0] = now
                print(f"  batch {done}/{total} ({now - started:.1f} s)", flush=True)

        paths = render_batch("certificate.html", contexts, folder, progress=progress)
        batch_s = time.perf_counter() - started
        sizes = [p.stat().st_size for p in paths]
        valid = sum(Path(p).read_bytes()[:5] == b"%PDF-" for p in paths)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"batch of {BATCH}: {batch_s:.1f} s on {os.cpu_count()} cores, {valid} valid PDFs, "
          f"max {max(sizes) / 1024:.0f} KB, peak worker RSS {children_peak:.0f} MB")

    return {
        "certificate_cjk_over_latin": round(cjk_s / latin_s, 3),
        "certificate_cjk_median_s": round(cjk_s, 4),
        "certificate_latin_median_s": round(latin_s, 4),
        "report_median_s": round(report_s, 4),
        "report_pages": pages,
        "batch_1000_s": round(batch_s, 2),
        "certificate_kb": round(cjk_bytes / 1024, 1),
        "render_rss_growth_mb_per_200": round(rss_growth, 1),
        "batch_worker_peak_rss_mb": round(children_peak, 1),
    }
