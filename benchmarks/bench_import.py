"""Bulk import: 100,000 elders from one CSV, dry run then commit (target: commit < 60 s, memory
bounded). `python -m benchmarks import` or `make bench-import`.

A fresh SQLite database in a temporary folder by default; `YIYANG_BENCH_IMPORT_URL` points it at
a PostgreSQL database instead (its tables are created there; use a scratch database). Elders
spread over 20 communities; every ID number valid and distinct. Peak memory is the process's
maximum resident set (ru_maxrss), printed before and after, so the import's own share shows.
"""

from __future__ import annotations

import csv
import os
import resource
import tempfile
import time
from pathlib import Path

ELDERS = int(os.environ.get("YIYANG_BENCH_IMPORT_ROWS", "100000"))
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(serial: int) -> str:
    year = 1930 + serial % 40
    body = f"3201{serial // 1000 % 100:02d}{year}{serial % 12 + 1:02d}{serial % 28 + 1:02d}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def write_file(path: Path, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "性别", "身份证号", "电话", "住址", "社区", "联系人", "联系人电话"])
        for n in range(rows):
            writer.writerow([f"老人{n}", "男" if n % 2 else "女", id_number(n), f"139{n:08d}",
                             f"幸福路 {n % 500} 号", f"社区{n % 20}", f"家属{n}", f"137{n:08d}"])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run() -> dict[str, float]:
    from sqlmodel import Session, func, select

    from accounts.models import Organisation, User
    from accounts.passwords import hash_password
    from app import create_app
    from assessment.models import Elder, ElderState
    from imports.runner import run_import

    folder = Path(tempfile.mkdtemp(prefix="yiyang-bench-import-"))
    url = os.environ.get("YIYANG_BENCH_IMPORT_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    os.environ.setdefault("YIYANG_INSTANCE_PATH", str(folder))
    from core.db import upgrade_database

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "DATA_KEY": "bench", "AUDIT_KEY": "bench",
                      "IMPORT_MAX_ROWS": max(ELDERS, 200_000)})
    source = folder / "elders.csv"
    write_file(source, ELDERS)
    size_mb = source.stat().st_size / 1e6
    engine = app.extensions["yiyang.engine"]
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        city = Organisation(name="基准市", kind="city")
        session.add(city)
        session.flush()
        city.path = f"/{city.id}/"
        for n in range(20):
            community = Organisation(name=f"社区{n}", kind="community", parent_id=city.id)
            session.add(community)
            session.flush()
            community.path = f"{city.path}{community.id}/"
        admin = User(username=f"bench_admin_{city.id}", password_hash=hash_password("Bench-import-42"),
                     organisation_id=city.id, roles="admin")
        session.add(admin)
        session.commit()
        rss_before = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        dry = run_import(session=session, actor=admin, kind="elders", source=source, filename=source.name,
                         commit=False, report_limit=1000)
        session.rollback()
        dry_s, dry_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        done = run_import(session=session, actor=admin, kind="elders", source=source, filename=source.name,
                          commit=True, report_limit=1000)
        session.commit()
        commit_s, commit_cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        again = run_import(session=session, actor=admin, kind="elders", source=source, filename=source.name,
                           commit=True, report_limit=0)
        session.commit()
        again_s = time.perf_counter() - started
        ids = select(Elder.id).join(Organisation, Organisation.id == Elder.organisation_id).where(
            Organisation.parent_id == city.id)
        stored = session.exec(select(func.count()).select_from(ids.subquery())).one()
        states = session.exec(select(func.count()).select_from(ElderState)
                              .where(ElderState.elder_id.in_(ids))).one()  # type: ignore[attr-defined]
    engine.dispose()
    assert dry.valid == ELDERS and done.imported == ELDERS and again.imported == 0, (dry, done.imported)
    assert stored == ELDERS and states == ELDERS
    load = os.getloadavg()
    print(f"{ELDERS} elders ({size_mb:.1f} MB CSV) on {url.split(':')[0]}: dry run {dry_s:.1f} s "
          f"({dry_cpu:.1f} s CPU), commit {commit_s:.1f} s ({commit_cpu:.1f} s CPU; {ELDERS / commit_s:,.0f} rows/s; "
          f"target < 60 s), "
          f"re-import {again_s:.1f} s (0 added, {again.duplicates} duplicates)")
    print(f"peak RSS {rss_before:.0f} MB before, {_rss_mb():.0f} MB after; load average {load[0]:.1f} "
          f"{load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    return {"import_100k_dry_s": round(dry_s, 1), "import_100k_dry_cpu_s": round(dry_cpu, 1),
            "import_100k_commit_s": round(commit_s, 1), "import_100k_commit_cpu_s": round(commit_cpu, 1),
            "import_100k_reimport_s": round(again_s, 1), "import_peak_rss_mb": round(_rss_mb(), 0)}


if __name__ == "__main__":
    run()
