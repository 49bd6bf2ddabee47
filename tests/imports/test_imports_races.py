"""Two administrators confirm the same file at the same moment: every elder is registered once.
The loser either waits and finds every row a duplicate (SQLite serialises writers) or is refused
whole by the unique (organisation, ID hash) index (409 duplicate, nothing of it kept)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlmodel import Session, func, select

from assessment.models import Elder, ElderState
from tests.factories import OrganisationFactory, UserFactory, make_id_number
from tests.imports.conftest import to_csv
from tests.race import race_app, race_database, seeded, signed_in_api, slow_commits, together


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_same_file_confirmed_twice_at_once(kind: str, tmp_path: Any, monkeypatch: Any) -> None:
    with race_database(kind, tmp_path) as url:
        app = race_app(url)
        with seeded(app):
            city = OrganisationFactory(name="竞赛市", kind="city")
            admins = [UserFactory(username=f"race_admin{n}", roles="admin", organisation=city) for n in (1, 2)]
        rows = [[f"竞赛{n}", "女", make_id_number("1940-01-01", 800 + n), "", "", "", ""] for n in range(40)]
        data = to_csv(rows)
        clients = [signed_in_api(app, admin) for admin in admins]

        def confirm(client: Any, headers: dict[str, str]) -> Any:
            return client.post("/api/v1/imports/elders", headers=headers, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(data), "elders.csv"), "dry_run": "false"})

        with slow_commits(monkeypatch):
            answers = together(*(lambda c=c: confirm(*c) for c in clients))
        statuses = sorted(a.status_code for a in answers)
        assert statuses in ([200, 200], [200, 409]), [a.get_json() for a in answers]
        imported = sorted(a.get_json().get("imported", 0) for a in answers if a.status_code == 200)
        assert imported[-1] == 40 and sum(imported) == 40
        with Session(app.extensions["yiyang.engine"]) as session:
            assert session.exec(select(func.count()).select_from(Elder)).one() == 40
            assert session.exec(select(func.count()).select_from(ElderState)).one() == 40
        app.extensions["yiyang.engine"].dispose()
