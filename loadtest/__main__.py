"""Load run: N simulated assessors for a fixed time against gunicorn with PostgreSQL.

Each assessor logs in (page and token), then loops: register an elder, start a GB/T 42195
assessment, open the form page, answer a few items every few seconds with an autosave each time,
submit, open the result page and download the report PDF. Afterwards every submission the
clients saw acknowledged is looked up in the database ("lost" counts the missing ones).

    python -m loadtest --users 50 --seconds 120          (what `make load` runs)
    python -m loadtest --servers 2 --redis redis://127.0.0.1:6379/14

With --servers 2 and --redis, two gunicorn servers and a `yiyang worker` share the database and
the Redis queue: assessors are spread over the servers, and after each submission an assessor
asks the other server for a `reports.zip` job, which the worker renders; every job must finish.

Only loopback addresses are used. Figures are printed and written to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Load-Test-Pass-2026"
AUTOSAVE_ITEMS = 3  # items answered between two autosaves
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(birth: date, serial: int) -> str:
    """A valid GB 11643 citizen ID number (MOD 11-2 check digit)."""
    body = f"110105{birth:%Y%m%d}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    timings: dict[str, list[float]] = field(default_factory=lambda: {"page": [], "login": [], "api": [], "pdf": []})
    by_path: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)

    def add(self, kind: str, seconds: float, label: str = "") -> None:
        with self.lock:
            self.timings[kind].append(seconds)
            self.by_path.setdefault(label or kind, []).append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class Assessor(threading.Thread):
    def __init__(self, base: str, username: str, stats: Stats, deadline: float, answers_plan: list[dict],
                 seed: int, other: str | None = None) -> None:
        super().__init__(daemon=True)
        self.base, self.username, self.stats, self.deadline = base, username, stats, deadline
        self.other = other  # a second server: report batches are asked for there, as jobs
        self.plan = answers_plan
        self.random = random.Random(seed)
        self.http = requests.Session()
        self.token = ""
        self.start_delay = 0.0

    def call(self, kind: str, method: str, path: str, expect: tuple[int, ...], absolute: bool = False,
             **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        url = path if absolute else self.base + path
        path = re.sub(r"^https?://[^/]+", "", path)
        try:
            response = self.http.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            self.stats.error(f"{method} {path}: {type(exc).__name__}")
            return None
        self.stats.add(kind, time.perf_counter() - started, f"{method} {re.sub(r'/[0-9]+', '/N', path)}")
        if response.status_code not in expect:
            self.stats.error(f"{method} {re.sub(r'/[0-9]+', '/N', path)} -> {response.status_code}")
            return None
        return response

    def api(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs) -> requests.Response | None:
        return self.call("api", method, "/api/v1" + path, expect,
                         headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def login(self) -> bool:
        page = self.call("login", "GET", "/login", (200,))
        if page is None:
            return False
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        form = {"username": self.username, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
        if self.call("login", "POST", "/login", (200, 302), data=form, allow_redirects=False) is None:
            return False
        got = self.call("login", "POST", "/api/v1/auth/login", (200,),
                        json={"username": self.username, "password": PASSWORD})
        if got is None:
            return False
        self.token = got.json()["token"]
        return True

    def run(self) -> None:
        time.sleep(self.start_delay)  # people do not all start at the same second
        if not self.login():
            return
        serial = 0
        while time.monotonic() < self.deadline:
            serial += 1
            self.one_assessment(serial)

    def one_assessment(self, serial: int) -> None:
        birth = date(1930 + self.random.randrange(30), 1 + self.random.randrange(12), 1 + self.random.randrange(28))
        ident = id_number(birth, self.random.randrange(1000))
        elder = self.api("POST", "/elders", (201, 409), json={
            "name": f"压测老人{self.username[-2:]}{serial}", "gender": self.random.choice(["male", "female"]),
            "birth_date": birth.isoformat(), "id_number": ident, "phone": f"139{self.random.randrange(10**8):08d}",
            "address": "示例市东城区和平街道1号"})
        if elder is None:
            return
        elder_id = elder.json().get("id") or elder.json().get("existing_id")
        created = self.api("POST", "/assessments", (201,), json={
            "elder_id": elder_id, "instrument": "gbt42195-2022", "reason": "initial"})
        if created is None:
            return
        assessment_id, version = created.json()["id"], created.json()["version"]
        self.call("page", "GET", f"/assessments/{assessment_id}/fill", (200,))
        for part in self.plan:
            if time.monotonic() >= self.deadline:
                return
            time.sleep(self.random.uniform(2.0, 6.0))  # an assessor answers, the page autosaves
            chunk = {item: self.random.choice(values) for item, values in part.items()}
            saved = self.api("PUT", f"/assessments/{assessment_id}/answers", json={"answers": chunk, "version": version})
            if saved is None:
                return
            version = saved.json()["version"]
        submitted = self.api("POST", f"/assessments/{assessment_id}/submit", json={"version": version})
        if submitted is None or submitted.json().get("status") != "submitted":
            if submitted is not None:
                self.stats.error(f"submit returned status {submitted.json().get('status')}")
            return
        with self.stats.lock:
            self.stats.submitted.append(assessment_id)
        self.call("page", "GET", f"/assessments/{assessment_id}", (200,))
        report = self.call("pdf", "GET", f"/assessments/{assessment_id}/report.pdf", (200,))
        if report is not None and not report.content.startswith(b"%PDF"):
            self.stats.error("report is not a PDF")
        if self.other:
            job = self.call("api", "POST", f"{self.other}/api/v1/jobs", (202,), absolute=True,
                            headers={"Authorization": f"Bearer {self.token}"},
                            json={"kind": "reports.zip", "params": {"assessment_ids": [assessment_id]}})
            if job is not None:
                with self.stats.lock:
                    self.stats.jobs.append(job.json()["id"])


def answer_plan() -> list[dict[str, list]]:
    """Autosave parts of a few items each, covering every item, with the values each item allows."""
    sys.path.insert(0, str(ROOT))
    import instruments

    definition = instruments.get("gbt42195-2022")
    items = {}
    for section in definition.sections:
        for item in section.items:
            if item.type == "single_choice":
                items[item.id] = [o.value for o in item.options]
            elif item.type == "boolean":
                items[item.id] = [False]
            elif item.type == "count":
                items[item.id] = [0, 1]
            elif item.type == "multiple_choice":
                items[item.id] = [[]]
    keys = sorted(items)
    return [{k: items[k] for k in keys[i:i + AUTOSAVE_ITEMS]} for i in range(0, len(keys), AUTOSAVE_ITEMS)]


def prepare(db_url: str, instance: Path, users: int) -> dict[str, str]:
    admin_url, name = db_url.rsplit("/", 1)
    engine = create_engine(admin_url + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    env = {**os.environ, "YIYANG_DATABASE_URL": db_url, "YIYANG_INSTANCE_PATH": str(instance),
           "YIYANG_SECRET_KEY": "load-secret-" + "x" * 32, "YIYANG_DATA_KEY": "load-data-" + "y" * 32,
           "YIYANG_DEMO_PASSWORD": PASSWORD, "YIYANG_ENV": "development"}
    yiyang = str(Path(sys.executable).parent / "yiyang")
    subprocess.run([yiyang, "init"], env=env, check=True, capture_output=True)
    subprocess.run([yiyang, "demo"], env=env, check=True, capture_output=True)
    script = (
        "from app import create_app\n"
        "from core.db import session_scope, get_engine\n"
        "from accounts import operations as ops\n"
        "from accounts.models import Organisation\n"
        "from sqlmodel import select\n"
        "app = create_app()\n"
        "with app.app_context(), session_scope(get_engine()) as s:\n"
        "    org = s.exec(select(Organisation).where(Organisation.name == '示例市东城区')).one()\n"
        f"    for n in range({users}):\n"
        f"        ops.create_user(session=s, username=f'load{{n:02d}}', password='{PASSWORD}',"
        " organisation=org, roles=['assessor'])\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)
    return env


def wait_for_jobs(base: str, stats: Stats, seconds: float = 180) -> list[int]:
    """Wait for the report jobs the assessors asked for; the ids not finished (failed ones are errors)."""
    token = requests.post(f"{base}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD},
                          timeout=60).json()["token"]
    pending = list(stats.jobs)
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        still = []
        for ident in pending:
            body = requests.get(f"{base}/api/v1/jobs/{ident}", headers={"Authorization": f"Bearer {token}"},
                                timeout=60).json()
            if body.get("status") == "failed":
                stats.error(f"job {ident} failed: {body.get('error')}")
            elif body.get("status") != "finished":
                still.append(ident)
        pending = still
        if pending:
            time.sleep(2)
    for ident in pending:
        stats.error(f"job {ident} not finished after {seconds:.0f} s")
    return pending


def write_report(lines: list[str]) -> None:
    path = ROOT / "docs" / "performance.md"
    text_now = path.read_text() if path.exists() else "# Performance\n"
    block = "## Load (make load)\n\n" + "\n".join(lines) + "\n"
    pattern = re.compile(r"## Load \(make load\)\n.*?(?=\n## |\Z)", re.S)
    text_new = pattern.sub(block.rstrip("\n"), text_now) if pattern.search(text_now) else text_now.rstrip("\n") + "\n\n" + block
    path.write_text(text_new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--workers", type=int, default=6, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which the assessors start")
    parser.add_argument("--db", default=os.environ.get("YIYANG_LOAD_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/yiyang_load"))
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    parser.add_argument("--servers", type=int, default=1, help="gunicorn servers sharing the database")
    parser.add_argument("--redis", default=os.environ.get("YIYANG_LOAD_REDIS_URL", ""),
                        help="Redis URL: start a `yiyang worker` and ask for report batches as jobs")
    args = parser.parse_args()
    if args.servers > 1 and not args.redis:
        parser.error("--servers above 1 needs --redis (the servers and the worker share its queue)")

    instance = Path(tempfile.mkdtemp(prefix="yiyang-load-"))
    print(f"preparing {args.db.rsplit('@', 1)[-1]} with {args.users} assessors …", flush=True)
    env = prepare(args.db, instance, args.users)
    if args.redis:
        env.update(YIYANG_REDIS_URL=args.redis, YIYANG_JOBS_QUEUE=f"yiyang-load-{os.getpid()}")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    bases = [f"http://127.0.0.1:{args.port + n}" for n in range(args.servers)]
    servers = [subprocess.Popen(
        [gunicorn, "-w", str(max(1, args.workers // args.servers)), "--threads", str(args.threads),
         "-b", base.removeprefix("http://"), "--timeout", "120", "--log-level", "warning",
         *(["--no-control-socket"] if args.servers > 1 else []), "app:create_app()"],
        env=env, cwd=ROOT) for base in bases]
    if args.redis:
        servers.append(subprocess.Popen([str(Path(sys.executable).parent / "yiyang"), "worker"], env=env,
                                        cwd=ROOT, stdout=subprocess.DEVNULL))
    base = bases[0]
    stats = Stats()
    try:
        for _ in range(240):
            try:
                if all(requests.get(b + "/login", timeout=2).status_code == 200 for b in bases):
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            print("server did not start", file=sys.stderr)
            return 1
        plan = answer_plan()
        deadline = time.monotonic() + args.seconds
        crowd = [Assessor(bases[n % len(bases)], f"load{n:02d}", stats, deadline, plan, seed=n,
                          other=bases[(n + 1) % len(bases)] if args.redis else None) for n in range(args.users)]
        for n, person in enumerate(crowd):
            person.start_delay = args.ramp * n / max(args.users, 1)
        started = time.monotonic()
        for person in crowd:
            person.start()
        while any(p.is_alive() for p in crowd):
            time.sleep(5)
            done = len(stats.submitted)
            print(f"  {time.monotonic() - started:5.0f} s  submitted {done}  errors {len(stats.errors)}", flush=True)
        elapsed = time.monotonic() - started
        unfinished = wait_for_jobs(base, stats) if args.redis else []
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    engine = create_engine(args.db)
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT id FROM assessment WHERE status <> 'draft'")).scalars())
    engine.dispose()
    lost = [i for i in stats.submitted if i not in stored]
    pages, apis, pdfs = stats.timings["page"], stats.timings["api"], stats.timings["pdf"]
    logins = stats.timings["login"]
    requests_total = len(pages) + len(apis) + len(pdfs) + len(logins)
    lines = [
        f"Measured {datetime.now():%Y-%m-%d %H:%M} on this 2-core machine: `make load` "
        f"(`python -m loadtest --users {args.users} --seconds {args.seconds}`), gunicorn {args.workers} workers × "
        f"{args.threads} threads, PostgreSQL and the load generator on the same machine; the assessors "
        f"start over the first {args.ramp:.0f} s and autosave every 2–6 s.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| simulated assessors | {args.users} |",
        f"| duration | {elapsed:.0f} s |",
        f"| requests | {requests_total} ({requests_total / elapsed:.1f}/s) |",
        f"| errors | {len(stats.errors)} |",
        f"| submitted assessments | {len(stats.submitted)} |",
        f"| lost submissions | {len(lost)} |",
        *([f"| servers + worker | {args.servers} + 1 (Redis queue) |",
           f"| report jobs (other server, worker) | {len(stats.jobs)}, {len(unfinished)} unfinished |"]
          if args.redis else []),
        f"| page p95 / median | {p95(pages) * 1000:.0f} ms / {statistics.median(pages) * 1000 if pages else 0:.0f} ms |",
        f"| API p95 / median | {p95(apis) * 1000:.0f} ms / {statistics.median(apis) * 1000 if apis else 0:.0f} ms |",
        f"| report PDF p95 / median | {p95(pdfs) * 1000:.0f} ms / {statistics.median(pdfs) * 1000 if pdfs else 0:.0f} ms |",
        f"| sign-in (page and token, argon2) p95 / median | {p95(logins) * 1000:.0f} ms / "
        f"{statistics.median(logins) * 1000 if logins else 0:.0f} ms |",
        "",
        "| request | count | p95 | median |",
        "| --- | --- | --- | --- |",
        *[f"| `{label}` | {len(values)} | {p95(values) * 1000:.0f} ms | {statistics.median(values) * 1000:.0f} ms |"
          for label, values in sorted(stats.by_path.items())],
    ]
    print("\n".join(lines))
    if stats.errors:
        print("first errors:", *sorted(set(stats.errors))[:10], sep="\n  ")
    if not args.no_write:
        write_report(lines)
    print("summary:")
    print(f"load_errors: {len(stats.errors)}")
    print(f"load_lost_submissions: {len(lost)}")
    print(f"load_page_p95_ms: {p95(pages) * 1000:.0f}")
    return 0 if not stats.errors and not lost else 1


if __name__ == "__main__":
    raise SystemExit(main())
