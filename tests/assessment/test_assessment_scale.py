"""Current state kept by the operations, repair-state, and the paged lists (filters, cursors)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from assessment import operations as ops
from assessment.models import ElderState
from assessment.state import rebuild_states
from core.crypto import FieldCipher
from tests.assessment.conftest import full_answers
from tests.conftest import api_token
from tests.factories import TEST_PASSWORD, make_id_number


def _register(app: Any, db: Any, people: dict[str, Any], name: str, serial: int, org: Any = None,
              community: str = "") -> Any:
    with app.test_request_context():
        return ops.register_elder(
            session=db, actor=people["assessor1"], organisation=org or people["district"],
            data=ops.ElderInput(name=name, gender="female", birth_date=date(1940, 1, 1),
                                id_number=make_id_number("1940-01-01", serial), community=community),
            cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[])


def _approve(app: Any, db: Any, people: dict[str, Any], elder: Any, gbt: Any, **start: Any) -> Any:
    with app.test_request_context():
        a = ops.start_assessment(session=db, actor=people["assessor1"], elder=elder, definition=gbt,
                                 reason="initial", **start)
        ops.save_answers(session=db, actor=people["assessor1"], assessment=a, definition=gbt,
                         answers=full_answers(gbt), version=a.version)
        ops.submit_assessment(session=db, actor=people["assessor1"], assessment=a, definition=gbt)
        for who in ("assessor1", "assessor2", "reviewer"):
            ops.sign_assessment(session=db, actor=people[who], assessment=a, password=TEST_PASSWORD,
                                required_signatures=2)
        return a


def test_state_follows_start_submit_approve_and_amend(app, db_session, people, elder, gbt):
    state = db_session.get(ElderState, elder.id)
    assert state is not None and state.latest_assessment_id is None and state.next_due_on is None
    with app.test_request_context():
        draft = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                     definition=gbt, reason="initial")
    assert state.open_assessment_id == draft.id and state.assessment_count == 1
    db_session.delete(state)
    db_session.flush()
    first = _approve(app, db_session, people, elder, gbt)
    state = db_session.get(ElderState, elder.id)
    # Starting again opened the same draft (one open assessment per elder and instrument), which
    # is now approved; the deleted row came back.
    assert first.id == draft.id
    assert state.latest_assessment_id == first.id and state.open_assessment_id is None
    assert state.level_code == first.result["level"]["code"]
    assert state.next_due_on == date(first.approved_at.year + 1, first.approved_at.month, first.approved_at.day)
    with app.test_request_context():
        amendment = ops.amend_assessment(session=db_session, actor=people["reviewer"], assessment=first,
                                         reason="录入错误")
        assert state.latest_assessment_id == first.id  # an amendment under way changes nothing yet
        ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=amendment, definition=gbt)
        for who in ("assessor1", "assessor2", "reviewer"):
            ops.sign_assessment(session=db_session, actor=people[who], assessment=amendment,
                                password=TEST_PASSWORD, required_signatures=2)
    assert state.latest_assessment_id == amendment.id and state.assessment_count == 2
    with app.test_request_context():
        routine = ops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder,
                                       definition=gbt, reason="routine")
        assert state.open_assessment_id == routine.id  # no longer due: a reassessment is under way
        ops.save_answers(session=db_session, actor=people["assessor1"], assessment=routine, definition=gbt,
                         answers=full_answers(gbt, "last"), version=routine.version)
        ops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=routine, definition=gbt)
        ops.reopen_assessment(session=db_session, actor=people["assessor1"], assessment=routine)
    assert state.open_assessment_id == routine.id and state.latest_assessment_id == amendment.id
    assert [d for d in rebuild_states(db_session, fix=False)] == []


def test_repair_state_reports_and_fixes_drift(app, db_session, people, elder, gbt, runner):
    _approve(app, db_session, people, elder, gbt)
    other = _register(app, db_session, people, "李四", 7)
    good = db_session.get(ElderState, elder.id)
    expected_due = good.next_due_on
    db_session.execute(text("UPDATE elder_state SET next_due_on = :d, level_code = 9 WHERE elder_id = :e"),
                       {"d": date(1999, 1, 1), "e": elder.id})
    db_session.execute(text("DELETE FROM elder_state WHERE elder_id = :e"), {"e": other.id})
    db_session.expire_all()
    drifts = {d.elder_id: d.fields for d in rebuild_states(db_session, fix=False)}
    assert drifts[other.id] == {} and set(drifts[elder.id]) == {"next_due_on", "level_code"}
    db_session.commit()
    result = runner.invoke(args=["repair-state"])
    assert result.exit_code == 1, result.output
    assert f"elder_state #{elder.id}" in result.output and "1999-01-01" in result.output
    db_session.expire_all()
    assert db_session.get(ElderState, elder.id).next_due_on == expected_due
    assert db_session.get(ElderState, other.id) is not None
    again = runner.invoke(args=["repair-state", "--check"])
    assert again.exit_code == 0, again.output
    assert "elder_state: 0" in again.output


def _walk(client: Any, headers: dict[str, str], url: str, between: Any = None) -> list[Any]:
    seen: list[Any] = []
    cursor = None
    for _round in range(50):
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between:
            between()
    raise AssertionError("paging did not end")


def test_paging_loses_and_repeats_nothing_while_rows_are_added(app, db_session, people, client):
    made = [_register(app, db_session, people, f"张{chr(0x4e00 + i)}", 100 + i) for i in range(23)]
    db_session.commit()
    headers = api_token(client, people["assessor1"])
    added: list[Any] = []

    def add_some() -> None:  # one sorts before the cursor, one after: neither may disturb the walk
        n = len(added)
        added.append(_register(app, db_session, people, f"阿{n}", 300 + n))
        added.append(_register(app, db_session, people, f"张{chr(0x9000 + n)}", 400 + n))
        db_session.commit()

    seen = _walk(client, headers, "/api/v1/elders?limit=5", add_some)
    assert len(seen) == len(set(seen))
    assert {e.id for e in made} <= set(seen)
    # Backwards from the last page gives the same rows in the same order.
    body = client.get("/api/v1/elders?limit=500", headers=headers).get_json()
    everything = [i["id"] for i in body["items"]]
    assert body["next_cursor"] is None and len(everything) == len(made) + len(added) + 0
    assert everything == sorted(everything, key=lambda i: (body["items"][everything.index(i)]["name"], i))


def test_filters_on_elders_assessments_and_due(app, db_session, people, client, gbt):
    a = _register(app, db_session, people, "100%_老人", 11, community="和平社区")
    b = _register(app, db_session, people, "1000老人", 12, community="幸福社区")
    c = _register(app, db_session, people, "市直老人", 13, org=people["city"])
    approved = _approve(app, db_session, people, a, gbt)
    approved.approved_at = datetime(2020, 3, 1, tzinfo=UTC)
    db_session.add(approved)
    from assessment.state import refresh_elder_state

    refresh_elder_state(db_session, a.id)  # an old approval: due long ago
    db_session.commit()
    assessor, admin = api_token(client, people["assessor1"]), api_token(client, people["admin"])

    def ids(url: str, headers: dict[str, str]) -> set[int]:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        return {i["id"] if "id" in i else i["elder"]["id"] for i in response.get_json()["items"]}

    assert ids("/api/v1/elders?q=100%25_", admin) == {a.id}  # % and _ are literal
    assert ids("/api/v1/elders?q=%25", admin) == {a.id}
    assert ids("/api/v1/elders?community=幸福社区", admin) == {b.id}
    assert ids(f"/api/v1/elders?org={people['district'].id}", admin) == {a.id, b.id}
    assert c.id in ids("/api/v1/elders", admin) and c.id not in ids("/api/v1/elders", assessor)
    assert ids(f"/api/v1/elders?level={approved.result['level']['code']}", admin) == {a.id}
    assert ids("/api/v1/assessments?status=approved", assessor) == {approved.id}
    assert ids("/api/v1/assessments?status=draft", assessor) == set()
    assert ids(f"/api/v1/assessments?assessor={people['assessor1'].id}&instrument={gbt.id}", admin) == {approved.id}
    assert ids("/api/v1/assessments?from=2000-01-01&to=2000-12-31", admin) == set()
    assert ids("/api/v1/assessments/due?kind=overdue", assessor) == {a.id}
    assert ids("/api/v1/assessments/due?kind=soon", assessor) == set()
    assert ids("/api/v1/assessments/due", api_token(client, people["outsider"])) == set()
    due = client.get("/api/v1/assessments/due", headers=assessor).get_json()
    assert [row["elder"]["id"] for row in due["overdue"]] == [a.id] and due["next_cursor"] is None


@pytest.mark.parametrize(("url", "item"), [
    ("/api/v1/elders?limit=0", "limit"), ("/api/v1/elders?limit=501", "limit"),
    ("/api/v1/elders?limit=abc", "limit"), ("/api/v1/assessments?cursor=%21%21", "cursor"),
    ("/api/v1/assessments?status=nope", "status"), ("/api/v1/assessments?from=2024-13-01", "from"),
    ("/api/v1/assessments/due?kind=later", "kind"), ("/api/v1/elders?org=999999", "org"),
    ("/api/v1/elders?level=x", "level"),
])
def test_bad_list_arguments_are_a_422_naming_the_field(client, people, url, item):
    response = client.get(url, headers=api_token(client, people["admin"]))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["item"] == item


def test_pages_show_filters_count_and_next(app, db_session, people, client):
    from tests.conftest import login

    for i in range(4):
        _register(app, db_session, people, f"翻页{i}", 500 + i)
    db_session.commit()
    login(client, people["assessor1"])
    first = client.get("/elders?limit=3").get_data(as_text=True)
    assert "共 4 条" in first and 'rel="next"' in first and 'rel="prev"' not in first
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert "翻页3" in second and "翻页0" not in second and 'rel="prev"' in second
    assert client.get("/elders?limit=9999").status_code == 422
    assert client.get("/assessments?status=approved").status_code == 200
    assert client.get("/assessments/due?kind=overdue").status_code == 200


def test_name_search_of_one_two_or_more_characters_finds_every_name_containing_it(app, db_session, people,
                                                                                    client):
    """One or two characters go through elder_name_gram, more through ILIKE: the same answer as
    `text in name` over every visible elder, in name order, paged without loss while elders are
    added; a renamed elder is found by its new name only."""
    names = ["王秀英", "秀王", "王王", "李秀兰", "Wang Li", "wANG", "张国华", "100%_王", "欧阳秀", "王"]
    made = [_register(app, db_session, people, name, 600 + i, community="和平社区" if i % 2 else "")
            for i, name in enumerate(names)]
    outside = _register(app, db_session, people, "王市直", 690, org=people["city"])
    db_session.commit()
    assessor, admin = api_token(client, people["assessor1"]), api_token(client, people["admin"])
    mine = dict(zip(names, made, strict=True))
    added: list[Any] = []

    def add_one() -> None:
        added.append(_register(app, db_session, people, f"{'阿王' if len(added) % 2 else '王嘉'}{len(added)}",
                               700 + len(added)))
        db_session.commit()

    for text_ in ("王", "秀", "王王", "秀英", "ng", "Wa", "%", "%_", "王秀英", "wang", "国华", "ang L", "无"):
        query = text_.replace("%", "%25")
        expected = sorted((e.name, e.id) for e in made if text_.lower() in e.name.lower())
        body = client.get(f"/api/v1/elders?q={query}&limit=500", headers=assessor).get_json()
        assert [(i["name"], i["id"]) for i in body["items"]] == expected, text_
        assert outside.id not in {i["id"] for i in body["items"]}
    everything = _walk(client, admin, "/api/v1/elders?q=王&limit=2", add_one)
    assert len(everything) == len(set(everything))
    assert {mine[n].id for n in names if "王" in n} | {outside.id} <= set(everything)
    assert set(everything) <= {e.id for e in made + added + [outside]}
    assert {i["id"] for i in client.get("/api/v1/elders?q=秀&community=和平社区", headers=admin).get_json()["items"]} \
        == {mine[n].id for i, n in enumerate(names) if "秀" in n and i % 2}
    assert {i["id"] for i in client.get(f"/api/v1/elders?q=王&org={people['city'].id}&limit=500",
                                        headers=admin).get_json()["items"]} >= {outside.id, mine["王"].id}
    with app.test_request_context():
        renamed = mine["王王"]
        ops.update_elder(session=db_session, actor=people["assessor1"], elder=renamed,
                         data=ops.ElderInput(name="赵六", gender="female", birth_date=date(1940, 1, 1),
                                             id_number=make_id_number("1940-01-01", 602)),
                         cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[])
    db_session.commit()
    assert renamed.id not in {i["id"] for i in client.get("/api/v1/elders?q=王王", headers=admin).get_json()["items"]}
    assert [i["id"] for i in client.get("/api/v1/elders?q=赵", headers=admin).get_json()["items"]] == [renamed.id]
    from tests.conftest import login

    login(client, people["assessor1"])  # the page reads the same list
    page = client.get("/elders?q=秀英").get_data(as_text=True)
    assert "王秀英" in page and "李秀兰" not in page and "共 1 条" in page


def test_repair_state_rebuilds_the_name_grams(app, db_session, people, runner):
    from assessment.models import ElderNameGram
    from assessment.names import name_grams, rebuild_name_grams

    kept = _register(app, db_session, people, "王秀英", 800)
    lost = _register(app, db_session, people, "李四", 801)
    db_session.execute(text("DELETE FROM elder_name_gram WHERE elder_id = :e"), {"e": lost.id})
    db_session.execute(text("UPDATE elder_name_gram SET name = 'x' WHERE elder_id = :e AND gram = '秀'"),
                       {"e": kept.id})
    db_session.commit()
    assert sorted(d[0] for d in rebuild_name_grams(db_session, fix=False)) == sorted([kept.id, lost.id])
    result = runner.invoke(args=["repair-state"])
    assert result.exit_code == 1 and f"elder_name_gram #{lost.id}" in result.output, result.output
    db_session.expire_all()
    stored = set(db_session.exec(text("SELECT gram FROM elder_name_gram WHERE elder_id = :e").bindparams(e=lost.id)))
    assert {row[0] for row in stored} == name_grams("李四") == {"李", "四", "李四"}
    assert db_session.get(ElderNameGram, ("秀", "王秀英", kept.id)) is not None
    assert "elder_name_gram: 0" in runner.invoke(args=["repair-state", "--check"]).output


def test_name_grams_follow_the_elder_to_another_organisation(app, db_session, people, client, runner):
    """The grams carry the elder's organisation (a district's search and its count read only its
    own grams): an elder moved to the city is found there and no longer in the district, and a
    gram whose organisation drifted is reported and fixed by repair-state."""
    from assessment.names import rebuild_name_grams

    moved = _register(app, db_session, people, "王迁出", 820)
    stays = _register(app, db_session, people, "王留下", 821)
    db_session.commit()
    assessor, admin = api_token(client, people["assessor1"]), api_token(client, people["admin"])
    found = client.get("/api/v1/elders?q=王", headers=assessor).get_json()
    assert {moved.id, stays.id} <= {i["id"] for i in found["items"]}
    with app.test_request_context():
        moved.organisation_id = people["city"].id  # as the elder form does before update_elder
        ops.update_elder(session=db_session, actor=people["admin"], elder=moved,
                         data=ops.ElderInput(name="王迁出", gender="female", birth_date=date(1940, 1, 1),
                                             id_number=make_id_number("1940-01-01", 820)),
                         cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[])
    db_session.commit()
    orgs = {row[0] for row in db_session.exec(
        text("SELECT DISTINCT organisation_id FROM elder_name_gram WHERE elder_id = :e").bindparams(e=moved.id))}
    assert orgs == {people["city"].id}
    district = client.get("/api/v1/elders?q=王", headers=assessor).get_json()
    assert moved.id not in {i["id"] for i in district["items"]} and stays.id in {i["id"] for i in district["items"]}
    city = client.get(f"/api/v1/elders?q=王&org={people['city'].id}&limit=500", headers=admin).get_json()
    assert moved.id in {i["id"] for i in city["items"]}
    db_session.execute(text("UPDATE elder_name_gram SET organisation_id = :o WHERE elder_id = :e"),
                       {"o": people["district"].id, "e": moved.id})
    db_session.commit()
    assert [d[0] for d in rebuild_name_grams(db_session, fix=False)] == [moved.id]
    assert runner.invoke(args=["repair-state"]).exit_code == 1
    assert "elder_name_gram: 0" in runner.invoke(args=["repair-state", "--check"]).output
