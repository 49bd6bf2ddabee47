"""The organisation tree at a province's size: the demo city plus STREETS streets spread over its
districts, then the organisation page and API timed as the city administrator (median of 5).

    python -m benchmarks.org_tree [--streets 3000] [--elders 1000] [--db URL] [--one-district]

`--one-district` puts every street under the first district (one level of STREETS children).

Without --db the database is SQLite in a temporary instance folder. With --db (PostgreSQL) the
database named there is dropped and created again, so it must be one of its own (for example
postgresql+psycopg://postgres@127.0.0.1/yiyang_orgtree); a yiyang_bench* database is refused,
those belong to `make bench-scale`. Prints `name: value` lines and the target; it never fails on
a missed target.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.scale import PASSWORD, TARGET_MS, _later, _median_ms, prepare, run_command


def add_streets(db_url: str, streets: int, *, one_district: bool = False) -> dict[str, int]:
    """STREETS streets under the demo city's districts (round robin, or all under the first),
    written directly (no audit events: only the tree's size matters here). Returns the ids the
    timings open."""
    from sqlmodel import Session, select

    from accounts.models import Organisation
    from core.db import make_engine

    engine = make_engine(db_url)
    with Session(engine) as session:
        city = session.exec(select(Organisation).where(Organisation.name == "示例市")).one()
        districts = list(session.exec(select(Organisation).where(Organisation.parent_id == city.id,
                                                                 Organisation.kind == "district")
                                      .order_by(Organisation.id)))  # type: ignore[arg-type]
        rows = [Organisation(name=f"第{n + 1:04d}街道", kind="street", parent_id=districts[0 if one_district else n % len(districts)].id)
                for n in range(streets)]
        session.add_all(rows)
        session.flush()
        paths = {d.id: d.path for d in districts}
        for row in rows:
            row.path = f"{paths[row.parent_id]}{row.id}/"
        session.commit()
        ids = {"city": city.id, "district": districts[0].id, "street": rows[0].id}  # type: ignore[dict-item]
        total = len(list(session.exec(select(Organisation.id))))
    engine.dispose()
    return {**ids, "organisations": total}  # type: ignore[dict-item]


def time_tree(db_url: str, ids: dict[str, int]) -> dict[str, Any]:
    from app import create_app

    app = create_app({"DATABASE_URL": db_url, "WTF_CSRF_ENABLED": False, "PUBLIC_REQUESTS_PER_MINUTE": 0})
    browser, api = app.test_client(), app.test_client()
    assert browser.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    token = api.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    street = "%E8%A1%97%E9%81%93"  # 街道: every added street
    one = "%E7%AC%AC0042"  # 第0042: one street
    lists = [("page_roots", "/admin/organisations"), ("page_city", f"/admin/organisations?parent={ids['city']}"),
             ("page_district", f"/admin/organisations?parent={ids['district']}"),
             ("page_search_many", f"/admin/organisations?q={street}"), ("page_search_one", f"/admin/organisations?q={one}"),
             ("page_detail_street", f"/admin/organisations/{ids['street']}"),
             ("page_detail_street_find", f"/admin/organisations/{ids['street']}?find={one}"),
             ("page_detail_district", f"/admin/organisations/{ids['district']}"),
             ("api_roots", "/api/v1/organisations"), ("api_city", f"/api/v1/organisations?parent={ids['city']}"),
             ("api_district", f"/api/v1/organisations?parent={ids['district']}"),
             ("api_district_500", f"/api/v1/organisations?parent={ids['district']}&limit=500"),
             ("api_search_many", f"/api/v1/organisations?q={street}"),
             ("api_search_one", f"/api/v1/organisations?q={one}")]
    figures: dict[str, Any] = {}
    for name, url in lists:
        is_api = url.startswith("/api/")
        client, headers = (api, bearer) if is_api else (browser, {})
        ms, response = _median_ms(client, url, headers)
        figures[f"{name}_ms"] = round(ms, 1) if response.status_code == 200 else f"HTTP {response.status_code}"
        figures[f"{name}_kib"] = round(len(response.get_data()) / 1024, 1)
        later = _later(client, url, headers, is_api)
        if later:
            ms, response = _median_ms(client, later, headers)
            figures[f"{name}_later_ms"] = round(ms, 1) if response.status_code == 200 else \
                f"HTTP {response.status_code}"
    app.extensions["yiyang.engine"].dispose()
    return figures


def demo_city(name: str, db: str | None, elders: int) -> str:
    """A demo city of `elders` elders in a database of its own (`db`, PostgreSQL, dropped and
    created again; else SQLite in a temporary instance folder), with this process's settings
    pointing at it: its URL. Exits 2 for a yiyang_bench* database, 1 when the demo fails."""
    instance = Path(tempfile.mkdtemp(prefix=f"yiyang-{name}-"))
    db_url = db or f"sqlite:///{instance / (name + '.sqlite')}"
    if db_url.rsplit("/", 1)[-1].startswith("yiyang_bench"):
        print("refused: yiyang_bench* databases belong to make bench-scale", file=sys.stderr)
        raise SystemExit(2)
    env = {**os.environ, "YIYANG_DATABASE_URL": db_url, "YIYANG_INSTANCE_PATH": str(instance),
           "YIYANG_SECRET_KEY": "bench-secret-" + "x" * 32, "YIYANG_DATA_KEY": "bench-data-" + "y" * 32,
           "YIYANG_DEMO_PASSWORD": PASSWORD, "YIYANG_ENV": "development"}
    os.environ.update({k: v for k, v in env.items() if k.startswith("YIYANG_")})
    if db_url.startswith("postgresql"):
        prepare(db_url)
    run_command(env, ["init"])
    _seconds, _mb, code, tail, _cpu = run_command(env, ["demo", "--elders", str(elders)])
    if code:
        print(f"demo failed: {tail}", file=sys.stderr)
        raise SystemExit(1)
    return db_url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streets", type=int, default=3000)
    parser.add_argument("--elders", type=int, default=1000)
    parser.add_argument("--db", default=None, help="a PostgreSQL database of its own (dropped and created again)")
    parser.add_argument("--one-district", action="store_true", help="every street under one district")
    args = parser.parse_args()
    db_url = demo_city("orgtree", args.db, args.elders)
    ids = add_streets(db_url, args.streets, one_district=args.one_district)
    figures: dict[str, Any] = {"database": db_url.split(":")[0], "organisations": ids["organisations"],
                               "load_average": round(os.getloadavg()[0], 1)}
    figures.update(time_tree(db_url, ids))
    slow = [k for k, v in figures.items() if k.endswith("_ms") and isinstance(v, float) and v > TARGET_MS]
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(f"target_list_ms: {TARGET_MS}")
    print(f"lists_over_target: {len(slow)}" + (f"  ({', '.join(slow)})" if slow else ""))
    return 0

if __name__ == "__main__":
    sys.exit(main())
