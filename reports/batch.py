"""render_batch: one PDF file per context, spread over worker processes.

Each worker loads the fonts once (warm_up) and then renders documents one by one, writing
each file itself so only paths cross process boundaries. Workers are replaced after
``MAX_TASKS_PER_WORKER`` documents, which keeps the memory of a long batch flat.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reports.errors import RenderError
from reports.render import DEFAULT_TIMEOUT_S, render_pdf, warm_up

MAX_TASKS_PER_WORKER = 400

Progress = Callable[[int, int], None]
FileName = Callable[[int, Mapping[str, Any]], str]


def _default_name(index: int, context: Mapping[str, Any]) -> str:
    name = context.get("filename")
    return str(name) if name else f"{index + 1:05d}.pdf"


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


# Set in each worker by _init_worker, so tasks carry only their own context.
_job: dict[str, Any] = {}


def _init_worker(template: str, timeout_s: float) -> None:
    _job.update(template=template, timeout_s=timeout_s)
    warm_up()


def _render_one(task: tuple[int, Path, dict[str, Any]]) -> tuple[int, Path | None, str | None]:
    index, path, context = task
    try:
        _write(path, render_pdf(_job["template"], context, timeout_s=_job["timeout_s"]))
    except RenderError as exc:
        return index, None, str(exc)
    return index, path, None


def render_batch(template: str, contexts: Iterable[dict[str, Any]], out_dir: str | Path, *,
                 workers: int | None = None, progress: Progress | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S,
                 filename: FileName | None = None) -> list[Path]:
    """Render ``template`` once per context into ``out_dir``; return the paths in order.

    ``progress(done, total)`` is called after each document. A document that fails does
    not stop the others; at the end a RenderError lists the failures (its ``paths``
    attribute holds the files that were written).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = list(contexts)
    name = filename or _default_name
    tasks = [(i, out / name(i, context), context) for i, context in enumerate(items)]
    total = len(tasks)
    workers = max(1, min(workers or os.cpu_count() or 1, total or 1))
    paths: list[Path | None] = [None] * total
    failures: dict[int, str] = {}
    done = 0

    def record(result: tuple[int, Path | None, str | None]) -> None:
        nonlocal done
        index, path, error = result
        paths[index] = path
        if error:
            failures[index] = error
        done += 1
        if progress:
            progress(done, total)

    if workers == 1:
        _init_worker(template, timeout_s)
        for task in tasks:
            record(_render_one(task))
    else:
        # fork shares the already-imported modules; spawn elsewhere (macOS, Windows).
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with multiprocessing.get_context(method).Pool(
            workers, initializer=_init_worker, initargs=(template, timeout_s),
            maxtasksperchild=MAX_TASKS_PER_WORKER,
        ) as pool:
            for result in pool.imap_unordered(_render_one, tasks, chunksize=4):
                record(result)

    written = [p for p in paths if p is not None]
    if failures:
        shown = "；".join(f"第 {i + 1} 份：{msg}" for i, msg in sorted(failures.items())[:5])
        error = RenderError(f"批量生成 PDF 时有 {len(failures)} 份失败（共 {total} 份）。{shown}",
                            template=template)
        error.paths = written  # type: ignore[attr-defined]
        error.failures = failures  # type: ignore[attr-defined]
        raise error
    return written
