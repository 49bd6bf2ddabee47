"""`make bench-scale`: a city of SCALE elders on PostgreSQL, every list page and list API timed.

    python -m benchmarks.scale --elders 100000 [--db URL] [--explain FILE] [--skip-fill] [--fill-only]

Fills a database of its own (dropped and created again; default yiyang_bench) with
`yiyang demo --elders N`, then times each command (wall time and peak memory) and each list page
and list API as the city administrator and as a district assessor (rating lists: as the
administrator and a city inspector; the home page's inbox and GET /api/v1/inbox as every role;
the statistics page and API as the administrator and the reviewer): median of 5 for the first page and for a later page reached
through the cursor. Prints `name: value` lines and the targets; it never fails on a missed target.
`--explain FILE` writes the plan PostgreSQL chose for each list query. `--db sqlite:///FILE`
times the same on SQLite (a small office's database: the file is removed first; the fill's CPU
is all in the command's process; no plans). The exports of the whole
city (`yiyang export`, as the city administrator) are timed like the commands: wall time, peak
memory of the process and rows written (`--exports-only` times only them).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Scale-2026"
TARGET_MS = 300
TARGET_MB = 300
RUNS = 5
LATER = 3  # the "later page" is this many cursor steps in

PAGES = [  # (name, url, roles that may open it)
    ("page_elders", "/elders", "assessor"),
    ("page_elders_search", "/elders?q=%E7%8E%8B", "assessor"),
    ("page_assessments", "/assessments", "assessor"),
    ("page_assessments_open", "/assessments?status=open", "assessor"),
    ("page_due_overdue", "/assessments/due?kind=overdue", "assessor"),
    ("page_due_soon", "/assessments/due?kind=soon", "assessor"),
    ("page_facilities", "/rating/facilities", "rating"),
    ("page_inspections", "/rating/inspections", "rating"),
    ("page_actions", "/rating/actions?which=all", "rating"),
    ("page_certificates", "/rating/certificates", "admin"),
    ("page_home_inbox", "/", "any"),
    ("page_stats", "/stats", "stats"),
    ("page_public_register", "/rating/register", "rating"),
    ("page_users", "/admin/users", "admin"),
    ("page_users_filtered", "/admin/users?role=assessor&active=1", "admin"),
    ("page_organisations", "/admin/organisations", "admin"),
    ("page_organisations_search", "/admin/organisations?q=%E5%8C%BA", "admin"),  # 区: every district
]
APIS = [
    ("api_elders", "/api/v1/elders?limit=50", "assessor"),
    ("api_elders_search", "/api/v1/elders?q=%E7%8E%8B&limit=50", "assessor"),  # 王: one character
    ("api_elders_search_two", "/api/v1/elders?q=%E7%A7%80%E8%8B%B1&limit=50", "assessor"),  # 秀英
    ("api_elders_search_three", "/api/v1/elders?q=%E7%8E%8B%E7%A7%80%E8%8B%B1&limit=50", "assessor"),  # 王秀英
    ("api_assessments", "/api/v1/assessments?limit=50", "assessor"),
    ("api_assessments_draft", "/api/v1/assessments?status=draft", "assessor"),
    ("api_due", "/api/v1/assessments/due", "assessor"),
    ("api_due_overdue", "/api/v1/assessments/due?kind=overdue", "assessor"),
    ("api_facilities", "/api/v1/facilities", "rating"),
    ("api_inspections", "/api/v1/inspections", "rating"),
    ("api_actions", "/api/v1/actions?which=all", "rating"),
    ("api_grades", "/api/v1/grades", "rating"),
    ("api_certificates", "/api/v1/certificates", "rating"),
    ("api_inbox", "/api/v1/inbox", "any"),
    ("api_stats_assessments", "/api/v1/stats/assessments?by=district,month,level", "stats"),
    ("api_stats_facilities", "/api/v1/stats/facilities?by=district,grade", "stats"),
    ("api_stats_actions", "/api/v1/stats/actions?by=status,month", "stats"),
    ("api_public_register", "/api/v1/public/register?limit=50", "rating"),
    ("api_users", "/api/v1/users?limit=50", "admin"),
    ("api_users_filtered", "/api/v1/users?role=assessor&active=1&q=assessor", "admin"),
    ("api_organisations", "/api/v1/organisations?limit=50", "admin"),
    ("api_organisations_search", "/api/v1/organisations?q=%E5%8C%BA&limit=50", "admin"),
]
USERS = {"admin": "admin", "district": "assessor1", "inspector": "inspector1", "reviewer": "reviewer1"}
AUDIENCES = {"assessor": ("admin", "district"), "rating": ("admin", "inspector"), "admin": ("admin",),
             "stats": ("admin", "reviewer"), "any": ("admin", "district", "inspector", "reviewer")}
# exports of the whole city (yiyang export): time and peak memory of the process, rows written
EXPORTS = [("elders", "csv"), ("assessments", "csv"), ("assessments", "xlsx"), ("actions", "csv")]


def prepare(db_url: str) -> None:
    if db_url.startswith("sqlite"):  # a file of its own: start from nothing
        path = Path(db_url.split(":///", 1)[1])
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        return
    admin_url, name = db_url.rsplit("/", 1)
    engine = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def run_command(env: dict[str, str], args: list[str]) -> tuple[float, float, int, str, float]:
    """(seconds, peak MB, exit code, last output line, CPU seconds) of one `yiyang` command in its
    own process."""
    wrapper = ("import resource, subprocess, sys\n"
               "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)\n"
               "lines = [l for l in r.stdout.splitlines() if l.strip()]\n"
               "tail = lines[-1:] or ['']\n"
               "if r.returncode: print(*lines[-15:], sep='\\n', file=sys.stderr)\n"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(u.ru_maxrss, r.returncode, u.ru_utime + u.ru_stime)\n"
               "print(tail[0])\n")
    yiyang = str(Path(sys.executable).parent / "yiyang")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, yiyang, *args], env=env, stdout=subprocess.PIPE,
                          text=True, check=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    first, _, tail = done.stdout.partition("\n")
    kb, code, cpu = first.split()
    return seconds, int(kb) / 1024, int(code), tail.strip(), float(cpu)


class BackendCPU:
    """CPU seconds of the PostgreSQL backends serving one database while a command runs (the
    machine is shared, so the fill is judged by the CPU of both processes, not by wall time):
    polled from pg_stat_activity and /proc each second, summed per backend at the end."""

    def __init__(self, db_url: str) -> None:
        import threading

        self.seen: dict[int, float] = {}
        self.sqlite = db_url.startswith("sqlite")  # in the command's own process: counted there
        admin_url, self.name = db_url.rsplit("/", 1)
        if not self.sqlite:
            self.engine = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        with self.engine.connect() as conn:
            while not self.stop.wait(1.0):
                for pid in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :n"),
                                        {"n": self.name}).scalars():
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:  # ended meanwhile, or another host
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / tick

    def __enter__(self) -> BackendCPU:
        if not self.sqlite:
            self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self.sqlite:
            return
        self.stop.set()
        self.thread.join()
        self.engine.dispose()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def _median_ms(client: Any, url: str, headers: dict[str, str]) -> tuple[float, Any]:
    times, response = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), response


def _later(client: Any, url: str, headers: dict[str, str], api: bool) -> str | None:
    """The URL of the page LATER cursor steps after the first, or None when there are fewer pages."""
    for _ in range(LATER):
        response = client.get(url, headers=headers)
        if api:
            cursor = (response.get_json() or {}).get("next_cursor")
            if not cursor:
                return None
            url = re.sub(r"([?&])cursor=[^&]*&?", r"\1", url).rstrip("?&")
            url += ("&" if "?" in url else "?") + f"cursor={cursor}"
        else:
            found = re.search(r'rel="next" href="([^"]+)"', response.get_data(as_text=True))
            if not found:
                return None
            url = found.group(1).replace("&amp;", "&")
    return url


def time_lists(db_url: str, explain: Path | None) -> dict[str, Any]:
    from app import create_app

    app = create_app({"DATABASE_URL": db_url, "WTF_CSRF_ENABLED": False, "PUBLIC_REQUESTS_PER_MINUTE": 0})
    engine = app.extensions["yiyang.engine"]
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    figures: dict[str, Any] = {}
    plans: list[str] = []
    for who, username in USERS.items():
        browser, api = app.test_client(), app.test_client()
        login = browser.post("/login", data={"username": username, "password": PASSWORD})
        if login.status_code != 302:
            print(f"login {username}: {login.status_code}", file=sys.stderr)
            continue
        token = api.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).get_json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        for name, url, audience in PAGES + APIS:
            if who not in AUDIENCES[audience]:
                continue
            is_api = url.startswith("/api/")
            client, headers = (api, bearer) if is_api else (browser, {})
            captured.clear()
            first, response = _median_ms(client, url, headers)
            status = response.status_code if response is not None else 0
            figures[f"{name}_{who}_first_ms"] = round(first, 1) if status == 200 else f"HTTP {status}"
            if is_api and explain is not None and captured and who in ("admin", "district"):
                if name.startswith("api_stats") or name == "api_inbox":  # every aggregate and count
                    seen = list({q[0]: q for q in captured if "GROUP BY" in q[0] or "count(" in q[0]}.values())
                    plans += [_plan(engine, f"{name} ({who}) #{n}", q) for n, q in enumerate(seen, 1)]
                else:
                    lists = [q for q in captured if " LIMIT " in q[0] and "ORDER BY" in q[0]]
                    plans += [_plan(engine, f"{name} ({who})", lists[0])] if lists else []
            later_url = _later(client, url, headers, is_api)
            if later_url:
                later, response = _median_ms(client, later_url, headers)
                figures[f"{name}_{who}_later_ms"] = round(later, 1) if response.status_code == 200 else \
                    f"HTTP {response.status_code}"
    if explain is not None:
        explain.write_text("\n\n".join(plans) + "\n")
    engine.dispose()
    return figures


def _plan(engine: Any, title: str, query: tuple[str, Any]) -> str:
    statement, parameters = query
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement, parameters)
        lines = [row[0] for row in cursor.fetchall()]
    finally:
        raw.close()
    return f"-- {title}\n" + "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elders", type=int, default=int(os.environ.get("SCALE", "100000")))
    parser.add_argument("--db", default=os.environ.get("YIYANG_BENCH_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/yiyang_bench"))
    parser.add_argument("--explain", type=Path, default=None, help="write the plan of each list query here")
    parser.add_argument("--skip-fill", action="store_true", help="reuse the database filled by an earlier run")
    parser.add_argument("--lists-only", action="store_true", help="time the lists, not the commands")
    parser.add_argument("--fill-only", action="store_true", help="fill the city and report the fill, nothing else")
    parser.add_argument("--exports-only", action="store_true",
                        help="time the exports of the whole city (no other command, no lists)")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="yiyang-bench-scale-"))
    env = {**os.environ, "YIYANG_DATABASE_URL": args.db, "YIYANG_INSTANCE_PATH": str(instance),
           "YIYANG_SECRET_KEY": "bench-secret-" + "x" * 32, "YIYANG_DATA_KEY": "bench-data-" + "y" * 32,
           "YIYANG_DEMO_PASSWORD": PASSWORD, "YIYANG_ENV": "development"}
    os.environ.update({k: env[k] for k in ("YIYANG_DATABASE_URL", "YIYANG_INSTANCE_PATH", "YIYANG_SECRET_KEY",
                                           "YIYANG_DATA_KEY", "YIYANG_DEMO_PASSWORD", "YIYANG_ENV")})
    figures: dict[str, Any] = {"elders": args.elders}
    if not args.skip_fill:
        prepare(args.db)
    run_command(env, ["init"])  # also brings a reused database up to the newest migrations
    if not args.skip_fill:
        with BackendCPU(args.db) as backend:
            seconds, mb, code, _tail, cpu = run_command(env, ["demo", "--elders", str(args.elders)])
        figures.update(fill_s=round(seconds, 1), fill_peak_mb=round(mb), fill_exit=code, fill_cpu_python_s=round(cpu, 1),
                       fill_cpu_postgres_s=round(backend.seconds, 1), fill_load_average=round(os.getloadavg()[0], 1))
    if args.fill_only:
        for key, value in figures.items():
            print(f"{key}: {value}")
        return 0
    commands = [] if args.lists_only or args.exports_only else [
        ("assessment_due", ["assessment", "due", "--org", "示例市"]),
        ("audit_verify", ["audit", "verify"]),
        ("repair_state_check", ["repair-state", "--check"])]
    if not args.lists_only:  # the whole city as the city administrator sees it, streamed to a file
        for kind, fmt in EXPORTS:
            out = instance / f"export-{kind}.{fmt}"
            commands.append((f"export_{kind}_{fmt}", ["export", kind, "--format", fmt, "--as", USERS["admin"],
                                                      "-o", str(out)]))
    for name, command in commands:
        seconds, mb, code, tail, _cpu = run_command(env, command)
        figures.update({f"cmd_{name}_s": round(seconds, 2), f"cmd_{name}_peak_mb": round(mb),
                        f"cmd_{name}_exit": code})
        print(f"# {name}: {tail}", flush=True)
        rows = re.search(r"exported (\d+) rows", tail)
        if rows:
            figures[f"cmd_{name}_rows"] = int(rows.group(1))
    if not args.exports_only:
        figures.update(time_lists(args.db, None if args.db.startswith("sqlite") else args.explain))
    slow = [k for k, v in figures.items() if k.endswith("_ms") and isinstance(v, float) and v > TARGET_MS]
    heavy = [k for k, v in figures.items() if k.startswith("cmd_") and k.endswith("_peak_mb") and v > TARGET_MB]
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(f"target_list_ms: {TARGET_MS}")
    print(f"target_command_peak_mb: {TARGET_MB}")
    print(f"lists_over_target: {len(slow)}" + (f"  ({', '.join(slow)})" if slow else ""))
    print(f"commands_over_memory_target: {len(heavy)}" + (f"  ({', '.join(heavy)})" if heavy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
