"""Batch scoring: 100,000 GB/T 42195 JSON lines through `yiyang score --jsonl` (target: < 10 s)."""

from __future__ import annotations

import io
import json
import time

import instruments
from benchmarks.bench_scoring import sample_answers
from instruments.batch import run_batch

LINES = 100_000


def run() -> dict[str, float]:
    definition = instruments.get("gbt42195-2022")
    samples = sample_answers(1000)
    text = "".join(json.dumps({"id": i, "answers": samples[i % len(samples)]}) + "\n" for i in range(LINES))
    out = io.StringIO()
    cpu, wall = time.process_time(), time.perf_counter()
    had_errors = run_batch(definition, io.StringIO(text), out)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert not had_errors and out.getvalue().count("\n") == LINES
    print(f"{LINES} lines: {wall:.2f} s wall, {cpu:.2f} s CPU (target < 10 s)")
    return {"batch_100k_lines_s_wall": round(wall, 2), "batch_100k_lines_s_cpu": round(cpu, 2)}


if __name__ == "__main__":
    run()
