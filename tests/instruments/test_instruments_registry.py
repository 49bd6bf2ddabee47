"""The definition registry: seeding, versions side by side, and records pinned to their version."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

import instruments
from instruments import UnknownDefinitionError, registry
from scoring import DefinitionError
from tests.conftest import api_token
from tests.factories import UserFactory, make_id_number

BARTHEL = (instruments.resources.files("instruments") / "barthel.yaml").read_text(encoding="utf-8")
NEW_TITLE = "进食（二〇二六修订）"


def barthel_v2(version: str = "2") -> str:
    """Barthel with another version number, a renamed first item and a changed score."""
    text = BARTHEL.replace('version: "1"', f'version: "{version}"', 1)
    text = text.replace('title: {zh: "进食", en: "Feeding"}', f'title: {{zh: "{NEW_TITLE}", en: "Feeding"}}', 1)
    assert NEW_TITLE in text
    return text


def test_seed_adds_every_shipped_pack_once(db_session: Any) -> None:
    added = registry.seed_builtin(db_session)
    assert {(i, v) for i, v, what in added if what == "added"} == set(instruments.builtin_packs())
    assert registry.seed_builtin(db_session) == []
    listed = {(e.id, e.version): e for e in registry.entries(db_session)}
    assert listed[("barthel", "1")].status == "published" and listed[("barthel", "1")].row is not None


def test_draft_is_found_by_version_only_until_published(db_session: Any) -> None:
    row = registry.store(db_session, barthel_v2(), note="试行")
    assert (row.status, row.version, row.change_note) == ("draft", "2", "试行")
    assert registry.get_definition(db_session, "barthel").version == "1"
    assert registry.get_definition(db_session, "barthel", "2").item("feeding").title.zh == NEW_TITLE
    registry.publish_version(db_session, "barthel", "2")
    assert registry.get_definition(db_session, "barthel").version == "2"
    assert registry.published(db_session, "assessment")["barthel"].version == "2"
    registry.retire_version(db_session, "barthel", "2")
    assert registry.get_definition(db_session, "barthel").version == "1"
    assert registry.get_definition(db_session, "barthel", "2").version == "2"  # still opens
    with pytest.raises(registry.RegistryError):
        registry.publish_version(db_session, "barthel", "2")


def test_a_version_never_changes_content(db_session: Any) -> None:
    registry.store(db_session, barthel_v2())
    assert registry.store(db_session, barthel_v2()).version == "2"  # same content: no-op
    with pytest.raises(registry.RegistryError, match="已存在且内容不同"):
        registry.store(db_session, barthel_v2().replace("独立", "自理", 1))
    with pytest.raises(registry.RegistryError, match="内置版本"):
        registry.store(db_session, BARTHEL.replace("独立", "自理", 1))


def test_draft_only_definition_resolves_for_batch_but_not_for_new_records(db_session: Any) -> None:
    registry.store(db_session, barthel_v2().replace("id: barthel", "id: barthel-local", 1))
    with pytest.raises(UnknownDefinitionError):
        registry.get_definition(db_session, "barthel-local")
    assert registry.get_definition(db_session, "barthel-local", drafts=True).version == "2"
    assert "barthel-local" not in registry.published(db_session)


def test_bad_yaml_is_refused_with_lines_and_nothing_stored(db_session: Any) -> None:
    broken = barthel_v2().replace("type: single_choice", "type: single_choise", 1)
    with pytest.raises(DefinitionError) as caught:
        registry.store(db_session, broken)
    error = caught.value.errors[0]
    assert error["item"] == "feeding" and broken.splitlines()[error["line"] - 1].strip().startswith("type:")
    assert registry.get_definition(db_session, "barthel").version == "1"
    assert [e.version for e in registry.entries(db_session, "barthel")] == ["1"]


def test_parsed_definitions_are_cached_by_checksum(db_session: Any) -> None:
    registry.store(db_session, barthel_v2())
    first = registry.get_definition(db_session, "barthel", "2")
    assert registry.get_definition(db_session, "barthel", "2") is first


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_publishing_a_new_version_leaves_an_old_draft_on_its_version(client: Any, db_session: Any,
                                                                      org_tree: dict[str, Any]) -> None:
    """The record keeps (barthel, 1) for its form, its score and its PDF after barthel 2 ships."""
    district = org_tree["district1"]
    assessor = UserFactory(username="reg_assessor", roles="assessor", organisation=district)
    headers = api_token(client, assessor)
    elder = client.post("/api/v1/elders", headers=headers, json={
        "name": "赵桂兰", "gender": "female", "birth_date": "1949-12-31", "id_number": "11010519491231002X",
        "address": "和平街 2 号"})
    assert elder.status_code == 201, elder.get_json()
    old = client.post("/api/v1/assessments", headers=headers,
                      json={"elder_id": elder.get_json()["id"], "instrument": "barthel", "reason": "首次评估"})
    assert old.status_code == 201, old.get_json()
    old_id = old.get_json()["id"]

    registry.store(db_session, barthel_v2(), note="新版")
    registry.publish_version(db_session, "barthel", "2")
    db_session.commit()

    # Another elder: one elder has one open assessment per instrument, and the old draft is open.
    second = client.post("/api/v1/elders", headers=headers, json={
        "name": "钱玉珍", "gender": "female", "birth_date": "1950-01-01", "id_number": make_id_number("1950-01-01", 7),
        "address": "和平街 3 号"})
    assert second.status_code == 201, second.get_json()
    new = client.post("/api/v1/assessments", headers=headers,
                      json={"elder_id": second.get_json()["id"], "instrument": "barthel", "reason": "首次评估"})
    assert new.status_code == 201, new.get_json()
    detail = client.get(f"/api/v1/assessments/{new.get_json()['id']}", headers=headers).get_json()
    assert detail["instrument_version"] == "2"

    from tests.conftest import login

    login(client, assessor)
    form = client.get(f"/assessments/{old_id}/fill", follow_redirects=True).get_data(as_text=True)
    assert "进食" in form and NEW_TITLE not in form
    answers = {item.id: item.options[0].value for item in instruments.get("barthel", "1").items.values()}
    saved = client.put(f"/api/v1/assessments/{old_id}/answers", headers=headers,
                       json={"answers": answers, "version": 1})
    assert saved.status_code == 200, saved.get_json()
    submitted = client.post(f"/api/v1/assessments/{old_id}/submit", headers=headers,
                            json={"version": saved.get_json()["version"]})
    assert submitted.status_code == 200, submitted.get_json()
    result = submitted.get_json()["result"]
    assert (result["instrument"], result["version"], result["total"]) == ("barthel", "1", 100)
    pdf = client.get(f"/api/v1/assessments/{old_id}/report.pdf", headers=headers)
    assert pdf.status_code == 200
    text = re.sub(r"\s+", "", _pdf_text(pdf.data))
    assert "进食" in text and "二〇二六修订" not in text
