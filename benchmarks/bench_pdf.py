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


def _median_render(template: str, context: dict, runs: int = RUNS) -> tuple[float, int, float]:
    """Median wall time, size, median CPU time of this process (the machine may be shared:
    CPU time is what the render itself costs)."""
    times, cpu, size = [], [], 0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        data = render_pdf(template, context)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        size = len(data)
    return statistics.median(times), size, statistics.median(cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    cjk_s, cjk_bytes, cjk_cpu = _median_render("certificate.html", cjk_context)
    latin_s, latin_bytes, latin_cpu = _median_render(
        "certificate.html", samples.certificate_context(0, latin=True))
    report_s, report_bytes, report_cpu = _median_render(
        "assessment_report.html", samples.report_context(0))
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(render_pdf("assessment_report.html", samples.report_context(0)))).pages)
    load = os.getloadavg()[0]
    print(f"load average (1 min) at start: {load:.1f} on {os.cpu_count()} cores")
    print(f"certificate CJK:   median {cjk_s * 1000:.1f} ms wall, {cjk_cpu * 1000:.1f} ms CPU, "
          f"{cjk_bytes / 1024:.0f} KB")
    print(f"certificate Latin: median {latin_s * 1000:.1f} ms wall, {latin_cpu * 1000:.1f} ms CPU, "
          f"{latin_bytes / 1024:.0f} KB")
    print(f"ratio CJK/Latin:   {cjk_s / latin_s:.2f} wall, {cjk_cpu / latin_cpu:.2f} CPU")
    print(f"assessment report: median {report_s * 1000:.1f} ms wall, {report_cpu * 1000:.1f} ms "
          f"CPU, {pages} pages, {report_bytes / 1024:.0f} KB")

    # Memory of one process over many renders (flat = no growth per document).
    for _ in range(20):
        render_pdf("certificate.html", cjk_context)
    rss_before = _rss_mb()
    for i in range(200):
        render_pdf("certificate.html", samples.certificate_context(i))
    rss_growth = _rss_mb() - rss_before
    print(f"in-process RSS growth over 200 certificates: {rss_growth:.1f} MB")

    contexts = [samples.certificate_context(i) for i in range(BATCH)]
    cpu_before = _children_cpu() + time.process_time()
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
        batch_cpu = _children_cpu() + time.process_time() - cpu_before
        sizes = [p.stat().st_size for p in paths]
        valid = sum(Path(p).read_bytes()[:5] == b"%PDF-" for p in paths)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"batch of {BATCH}: {batch_s:.1f} s on {os.cpu_count()} cores, {valid} valid PDFs, "
          f"max {max(sizes) / 1024:.0f} KB, peak worker RSS {children_peak:.0f} MB")
    cores = os.cpu_count() or 1
    print(f"batch CPU (parent + workers): {batch_cpu:.1f} s = {batch_cpu / BATCH * 1000:.0f} ms "
          f"per certificate; on {cores} idle cores ≈ {batch_cpu / cores:.1f} s wall")

    return {
        "certificate_cjk_over_latin": round(cjk_s / latin_s, 3),
        "certificate_cjk_median_s": round(cjk_s, 4),
        "certificate_latin_median_s": round(latin_s, 4),
        "report_median_s": round(report_s, 4),
        "report_pages": pages,
        "batch_1000_s": round(batch_s, 2),
        "batch_1000_cpu_s": round(batch_cpu, 1),
        "batch_1000_idle_estimate_s": round(batch_cpu / cores, 1),
        "certificate_cjk_cpu_s": round(cjk_cpu, 4),
        "report_cpu_s": round(report_cpu, 4),
        "load_average_at_start": round(load, 1),
        "certificate_kb": round(cjk_bytes / 1024, 1),
        "render_rss_growth_mb_per_200": round(rss_growth, 1),
        "batch_worker_peak_rss_mb": round(children_peak, 1),
    }
