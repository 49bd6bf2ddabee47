"""The pages with an organisation filter or choice at a province's size: the demo city plus
STREETS streets (benchmarks.org_tree.add_streets), each page timed as the city administrator
(median of 5) with its size, so the organisation picker (accounts/picker.py) can be compared
with the <select> of every visible organisation it replaces.

    python -m benchmarks.org_picker [--streets 3000] [--elders 1000] [--db URL]

Without --db the database is SQLite in a temporary instance folder; with --db (PostgreSQL) the
database named there is dropped and created again (a yiyang_bench* database is refused). Prints
`name: value` lines; it never fails on a missed target.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from benchmarks.org_tree import add_streets, demo_city
from benchmarks.scale import PASSWORD, TARGET_MS, _median_ms

PAGES = [("users", "/admin/users"), ("user_new", "/admin/users/new"), ("elders", "/elders"),
         ("elder_new", "/elders/new"), ("assessments", "/assessments"), ("due", "/assessments/due"),
         ("stats", "/stats"), ("facility_new", "/rating/facilities/new"), ("rewards", "/rating/rewards")]


def time_pages(db_url: str) -> dict[str, Any]:
    from app import create_app

    app = create_app({"DATABASE_URL": db_url, "WTF_CSRF_ENABLED": False, "PUBLIC_REQUESTS_PER_MINUTE": 0})
    browser = app.test_client()
    assert browser.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    figures: dict[str, Any] = {}
    for name, url in PAGES:
        ms, response = _median_ms(browser, url, {})
        figures[f"{name}_ms"] = round(ms, 1) if response.status_code == 200 else f"HTTP {response.status_code}"
        figures[f"{name}_kib"] = round(len(response.get_data()) / 1024, 1)
    app.extensions["yiyang.engine"].dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streets", type=int, default=3000)
    parser.add_argument("--elders", type=int, default=1000)
    parser.add_argument("--db", default=None, help="a PostgreSQL database of its own (dropped and created again)")
    args = parser.parse_args()
    db_url = demo_city("orgpicker", args.db, args.elders)
    ids = add_streets(db_url, args.streets) if args.streets else {"organisations": "demo"}
    figures: dict[str, Any] = {"database": db_url.split(":")[0], "organisations": ids["organisations"],
                               "load_average": round(os.getloadavg()[0], 1)}
    figures.update(time_pages(db_url))
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(f"target_list_ms: {TARGET_MS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
