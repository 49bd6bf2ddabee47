"""Re-scoring an inspection under another version of its rating scheme: the result is kept
beside the inspection's own, which never changes; the record pages link to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from instruments import registry
from instruments.models import Rescore
from rating.models import Inspection
from tests.conftest import api_token, login
from tests.rating.factories import STAR_FAIL
from tests.rating.test_rating_workflow import _submitted

PACK = Path(__file__).resolve().parents[2] / "instruments" / "community-star.yaml"


def test_inspection_rescored_under_a_new_version_keeps_its_own_result(client: Any, rating_world: dict[str, Any],
                                                                       db_session: Any) -> None:
    inspector = api_token(client, rating_world["inspector"])
    iid = _submitted(client, inspector, rating_world["station"], "community-star", STAR_FAIL)
    own = db_session.get(Inspection, iid)
    db_session.refresh(own)
    original = dict(own.result)
    # version 2 renames "no star": the same answers, another label
    text = PACK.read_text(encoding="utf-8").replace('version: "1"', 'version: "2"', 1)
    text = text.replace("{zh: 不评星, en: No star}", "{zh: 未达星级, en: Below the stars}", 1)
    registry.store(db_session, text, publish=True)
    db_session.commit()

    login(client, rating_world["admin"])
    page = client.get(f"/rating/inspections/{iid}").get_data(as_text=True)
    assert f"/admin/instruments/rescore/inspections/{iid}" in page
    shown = client.post(f"/admin/instruments/rescore/inspections/{iid}", data={"version": "2"},
                        follow_redirects=True).get_data(as_text=True)
    rescore = db_session.exec(select(Rescore).where(Rescore.record_kind == "inspection",
                                                    Rescore.record_id == iid)).one()
    assert (rescore.definition_id, rescore.from_version, rescore.to_version) == ("community-star", "1", "2")
    assert rescore.errors is None
    assert rescore.result["total"] == original["total"]
    assert original["grade"]["label"] == "不评星" and rescore.result["grade"]["label"] == "未达星级"
    assert "原结果（第 1 版）" in shown and "重新计分（第 2 版）" in shown
    db_session.refresh(own)
    assert own.result == original and own.scheme_version == "1"


def test_rescore_of_another_organisations_inspection_is_a_404(client: Any, rating_world: dict[str, Any]) -> None:
    inspector = api_token(client, rating_world["inspector"])
    iid = _submitted(client, inspector, rating_world["station"], "community-star", STAR_FAIL)
    login(client, rating_world["outsider"])
    assert client.get(f"/admin/instruments/rescore/inspections/{iid}").status_code == 404
    assert client.post(f"/admin/instruments/rescore/inspections/{iid}", data={"version": "1"}).status_code == 404
    assert client.get("/admin/instruments/rescore/elders/1").status_code == 404
