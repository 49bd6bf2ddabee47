"""Run every benchmarks/bench_*.py module and end with a `name: value` summary.

Benchmarks report; they never fail the build. A module may be selected by name:
`python -m benchmarks scoring pdf`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback

import benchmarks


def main(argv: list[str]) -> int:
    names = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )
    chosen = [n for n in names if not argv or n in argv]
    summary: dict[str, object] = {}
    for name in chosen:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        try:
            figures = module.run()
        except Exception:  # a broken benchmark is reported, the others still run
            traceback.print_exc()
            summary[f"{name}_error"] = 1
            continue
        summary.update(figures)
        print(f"({name} took {time.perf_counter() - started:.1f} s)\n", flush=True)
    print("== summary ==")
    for key, value in summary.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"{key}: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
