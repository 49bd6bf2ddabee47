"""render_batch: one PDF file per context, spread over worker processes.

Each worker is forked once per batch, loads the fonts once (warm_up), caps its own address
space (``memory_limit_mb``) and then renders chunks of documents (laid out together as
pages of one document when the template allows it), writing each file itself: one round
trip per chunk, and only indexes, paths and error messages cross process
boundaries. A document that fails (template error, time limit, memory cap) is reported and
the others go on. A worker that dies (e.g. killed by the kernel, or aborted by a C library
that could not allocate under the cap) breaks the pool: the documents it was holding are
retried one by one, so only the one that kills a worker on its own is reported as failed,
and a batch never hangs on a lost task.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from reports.errors import RenderError, RenderMemoryError
from reports.render import DEFAULT_TIMEOUT_S, document_html, render_pages, render_pdf, warm_up

log = logging.getLogger("yiyang.reports")

# Address space a worker may add to what it had when forked (fonts and Python are already
# mapped then). A certificate worker peaks ~120 MB RSS; a runaway document hits the cap and
# fails with RenderMemoryError instead of taking the machine's memory.
DEFAULT_MEMORY_LIMIT_MB = 1024
MAX_CHUNK = 32
# Kept for callers that read it; workers are no longer recycled (memory stays flat, and the
# fork start method does not support recycling in concurrent.futures).
MAX_TASKS_PER_WORKER = None

Progress = Callable[[int, int], None]
FileName = Callable[[int, Mapping[str, Any]], str]
Task = tuple[int, Path, dict[str, Any]]
Result = tuple[int, Path | None, str | None]
_RETRY = "\0retry"  # a task the worker handed back unrendered (it is out of memory)


def _default_name(index: int, context: Mapping[str, Any]) -> str:
    name = context.get("filename")
    return str(name) if name else f"{index + 1:05d}.pdf"


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _vm_size() -> int:
    """This process's address space in bytes (0 if unknown)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_memory(limit_mb: float | None) -> int | None:
    """Cap this process's address space at its current size plus ``limit_mb`` MB.

    Address space, not RSS (Linux does not enforce RLIMIT_RSS): it includes thread stacks
    and malloc arenas, so the cap is set after warm_up, once the fonts are loaded.

    Returns the cap in bytes (None if not capped). Only ever call it in a worker process.
    """
    if not limit_mb or not hasattr(resource, "RLIMIT_AS"):
        return None
    cap = _vm_size() + int(limit_mb * 1024 * 1024)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


def _near_memory_cap() -> bool:
    cap = _job.get("cap")
    return bool(cap) and _vm_size() > 0.9 * cap


# Set in each worker by _init_worker, so tasks carry only their own contexts.
_job: dict[str, Any] = {}


def _init_worker(template: str, timeout_s: float, memory_limit_mb: float | None,
                 merge: bool = True) -> None:
    # Ctrl+C goes to the whole process group: let the parent decide, not every worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _job.update(template=template, timeout_s=timeout_s, merge=merge)
    warm_up()  # fonts loaded and Pango's threads started: the cap counts from here
    _job["cap"] = limit_memory(memory_limit_mb)


_MEMORY_MESSAGE = "PDF 生成失败：文档过大，超出内存上限，已停止。请精简文档内容（如减少表格行数）后重试。"


def _render_one(task: Task) -> Result:
    index, path, context = task
    try:
        _write(path, render_pdf(_job["template"], context, timeout_s=_job["timeout_s"]))
    except RenderMemoryError as exc:
        _job["spent"] = True
        return index, None, str(exc)
    except MemoryError:  # so short of memory that even the renderer's own handler could not finish
        _job["spent"] = True
        return index, None, _MEMORY_MESSAGE
    except RenderError as exc:
        if _near_memory_cap():  # a C library failing to allocate (e.g. SystemError)
            _job["spent"] = True
            return index, None, _MEMORY_MESSAGE
        return index, None, str(exc)
    except OSError as exc:
        return index, None, f"写入 PDF 文件失败：{exc.strerror or exc}"
    except SystemError:  # C code that could not allocate returned an error without setting one
        _job["spent"] = True
        return index, None, _MEMORY_MESSAGE
    return index, path, None


def _render_chunk(tasks: list[Task]) -> list[Result]:
    # Once a worker has hit its memory cap its heap is fragmented and C libraries may fail
    # at random: it hands every further document back, and the parent renders those in a
    # fresh pool once this round is over.
    results: list[Result] = []
    if _job.get("merge", True) and len(tasks) > 1 and not _job.get("spent"):
        merged = _render_merged(tasks)
        if merged is not None:
            return merged
    for task in tasks:
        results.append(_render_one(task) if not _job.get("spent") else (task[0], None, _RETRY))
    return results


def _render_merged(tasks: list[Task]) -> list[Result] | None:
    """The chunk laid out as pages of one document and written one file per task."""
    htmls: list[str] = []
    results: list[Result] = []
    ready: list[Task] = []
    for task in tasks:
        try:
            htmls.append(document_html(_job["template"], task[2]))
            ready.append(task)
        except RenderError as exc:  # a template error belongs to its document
            results.append((task[0], None, str(exc)))
    pdfs = render_pages(htmls, timeout_s=_job["timeout_s"], template=_job["template"])
    if pdfs is None:
        return None
    for (index, path, _context), pdf in zip(ready, pdfs, strict=True):
        try:
            _write(path, pdf)
        except OSError as exc:
            results.append((index, None, f"写入 PDF 文件失败：{exc.strerror or exc}"))
            continue
        results.append((index, path, None))
    return results


def _chunks(tasks: list[Task], size: int) -> list[list[Task]]:
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def render_batch(template: str, contexts: Iterable[dict[str, Any]], out_dir: str | Path, *,
                 workers: int | None = None, progress: Progress | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S,
                 filename: FileName | None = None,
                 memory_limit_mb: float | None = DEFAULT_MEMORY_LIMIT_MB,
                 chunk_size: int | None = None, merge_pages: bool = True) -> list[Path]:
    """Render ``template`` once per context into ``out_dir``; return the paths in order.

    ``progress(done, total)`` is called as documents complete. Rendering happens in
    ``workers`` forked processes (default: one per core), each capped at
    ``memory_limit_mb`` MB of extra address space (None: no cap) and each document at
    ``timeout_s`` seconds. A document that fails does not stop the others; at the end a
    RenderError lists the failures (its ``paths`` attribute holds the files written, its
    ``failures`` maps the index of each failed context to its message).

    Documents travel to the workers in chunks of ``chunk_size`` (default: up to 32, at
    least 4 chunks per worker). With ``merge_pages`` (default), a chunk of a template that
    declares ``<meta name="yiyang-batch" content="pages">`` (certificate.html) is laid out
    as pages of one document and each document's pages are written as its own PDF
    (WeasyPrint's ``Document.copy(pages).write_pdf()``: fonts subset per file); if that is
    not possible the chunk is rendered one document at a time.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = list(contexts)
    name = filename or _default_name
    tasks = [(i, out / name(i, context), context) for i, context in enumerate(items)]
    total = len(tasks)
    workers = max(1, min(workers or os.cpu_count() or 1, total or 1))
    size = chunk_size or max(1, min(MAX_CHUNK, math.ceil(total / (workers * 4))))
    paths: list[Path | None] = [None] * total
    failures: dict[int, str] = {}
    done = 0

    def record(results: list[Result]) -> None:
        nonlocal done
        for index, path, error in results:
            paths[index] = path
            if error:
                failures[index] = error
            done += 1
            if progress:
                progress(done, total)

    # fork shares the already-imported modules; spawn elsewhere (macOS, Windows).
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    initargs = (template, timeout_s, memory_limit_mb, merge_pages)
    # A chunk taking longer than this without any result means a worker is stuck in C code
    # where the per-document deadline cannot reach it.
    stall_s = timeout_s * size + 60 if timeout_s > 0 else None

    def run_round(chunks: list[list[Task]], n_workers: int, one_at_a_time: bool = False
                  ) -> list[Task]:
        """Render ``chunks``; return the tasks lost to a broken pool or a stall."""
        lost: list[Task] = []
        with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_init_worker,
                                 initargs=initargs) as pool:
            queue = list(chunks)
            running: dict[Future, list[Task]] = {}
            while queue or running:
                while queue and (not one_at_a_time or not running):
                    chunk = queue.pop(0)
                    try:
                        running[pool.submit(_render_chunk, chunk)] = chunk
                    except BrokenProcessPool:
                        lost.extend(chunk)
                finished, _ = wait(running, timeout=stall_s, return_when=FIRST_COMPLETED)
                if not finished:
                    log.error("PDF batch: no progress for %.0f s, stopping the workers", stall_s)
                    for process in list(getattr(pool, "_processes", {}).values()):
                        process.kill()
                    finished, _ = wait(running, timeout=30)
                for future in finished:
                    chunk = running.pop(future)
                    try:
                        results = future.result()
                    except BrokenProcessPool:
                        lost.extend(chunk)
                        continue
                    except Exception as exc:  # noqa: BLE001 - e.g. SystemError from C code under the cap
                        # The worker failed outside any one document's handler (seen: a C
                        # library returning an error without setting one, once out of
                        # memory): its chunk is retried in fresh workers like a dead worker's.
                        log.warning("PDF batch: a worker failed (%s); retrying its documents",
                                    type(exc).__name__)
                        lost.extend(chunk)
                        continue
                    handed_back = {r[0] for r in results if r[2] == _RETRY}
                    record([r for r in results if r[0] not in handed_back])
                    lost.extend(t for t in chunk if t[0] in handed_back)
                if lost:  # the pool is broken: everything still queued is lost too
                    for chunk in queue:
                        lost.extend(chunk)
                    queue.clear()
                    for future, chunk in list(running.items()):
                        if future.done() and not future.exception():
                            results = future.result()
                            handed_back = {r[0] for r in results if r[2] == _RETRY}
                            record([r for r in results if r[0] not in handed_back])
                            lost.extend(t for t in chunk if t[0] in handed_back)
                        else:
                            lost.extend(chunk)
                        del running[future]
        return lost

    lost = run_round(_chunks(tasks, size), workers)
    if lost:  # retry one document per task; then, alone, whatever is lost again
        log.warning("PDF batch: a worker died or ran out of memory; retrying %d documents "
                    "in fresh workers", len(lost))
        lost = run_round([[task] for task in lost], workers)
    while lost:
        suspect, *rest = sorted(lost)
        again = run_round([[suspect]], 1)
        if again:
            record([(suspect[0], None, "PDF 生成失败：渲染进程异常退出（可能超出内存上限），"
                     "请精简文档内容后重试。")])
        lost = run_round([[task] for task in rest], 1, one_at_a_time=True) if rest else []

    written = [p for p in paths if p is not None]
    if failures:
        shown = "；".join(f"第 {i + 1} 份：{msg}" for i, msg in sorted(failures.items())[:5])
        error = RenderError(f"批量生成 PDF 时有 {len(failures)} 份失败（共 {total} 份）。{shown}",
                            template=template)
        error.paths = written  # type: ignore[attr-defined]
        error.failures = failures  # type: ignore[attr-defined]
        raise error
    return written
