"""Reminders: who is told what, one digest per user and run, nothing twice in a day, the
group-bot formats, the notices page and the settings page."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.timeutil import utcnow
from jobs.models import Notice
from jobs.notify import bot_payload, parse_smtp_url
from rating import operations as ops
from rating.models import CorrectiveAction
from tests.conftest import api_token, login
from tests.factories import UserFactory
from tests.rating.factories import STAR_FAIL


def _overdue_actions(app, db_session, world):
    with app.test_request_context():
        inspection = ops.start_inspection(session=db_session, actor=world["inspector"],
                                          facility=world["station"], scheme="community-star",
                                          inspector_ids=[world["inspector"].id])
        ops.save_answers(session=db_session, actor=world["inspector"], inspection=inspection,
                         answers=STAR_FAIL, version=inspection.version)
        ops.submit_inspection(session=db_session, actor=world["inspector"], inspection=inspection)
    actions = db_session.exec(select(CorrectiveAction)).all()
    for action in actions:
        action.due_at = utcnow() - timedelta(days=2)
        db_session.add(action)
    db_session.commit()
    return inspection, actions


def test_reminders_send_one_chinese_digest_per_user_and_never_repeat(app, client, db_session, rating_world,
                                                                     smtp_server):
    operator_org = rating_world["district2"]
    rating_world["station"].operator_organisation_id = operator_org.id
    db_session.add(rating_world["station"])
    operator = UserFactory(organisation=operator_org, roles="operator", email="op@example.org")
    silent = UserFactory(organisation=operator_org, roles="operator", email="quiet@example.org", notify_channels="")
    inspector = rating_world["inspector"]
    inspector.email = "inspector@example.org"
    db_session.add(inspector)
    inspection, actions = _overdue_actions(app, db_session, rating_world)
    admin = rating_world["admin"]
    admin.email = "admin@example.org"
    db_session.add(admin)
    db_session.commit()

    headers = api_token(client, admin)
    job = client.post("/api/v1/jobs", json={"kind": "reminders"}, headers=headers).get_json()
    shown = client.get(f"/api/v1/jobs/{job['id']}", headers=headers).get_json()
    assert shown["status"] == "finished", shown
    by_rcpt = {m["To"]: m for m in smtp_server.messages}
    # the operator and the inspector hear of the overdue actions; the admin of the approval waiting
    assert set(by_rcpt) == {"op@example.org", "inspector@example.org", "admin@example.org"}
    mail = by_rcpt["op@example.org"]
    assert mail["Subject"].startswith(f"颐养提醒：{len(actions)} 项待办")
    assert mail["From"] == "yiyang@example.org"
    body = mail.get_content()
    assert "已逾期" in body and rating_world["station"].name in body and "/notices" in body
    assert "等待审批" in by_rcpt["admin@example.org"].get_content()
    assert shown["result"]["emails"] == 3 and shown["result"]["errors"] == []
    # in-app notices for everyone concerned, the silent operator included (no email)
    assert len(db_session.exec(select(Notice).where(Notice.user_id == silent.id)).all()) == len(actions)

    # the same day again: no new notice and no email
    count = len(db_session.exec(select(Notice)).all())
    again = client.post("/api/v1/jobs", json={"kind": "reminders"}, headers=headers).get_json()
    assert client.get(f"/api/v1/jobs/{again['id']}", headers=headers).get_json()["result"]["notices"] == 0
    assert len(db_session.exec(select(Notice)).all()) == count and len(smtp_server.messages) == 3

    # the page and the badge
    login(client, operator)
    home = client.get("/notices").get_data(as_text=True)
    assert "已逾期" in home and 'class="badge warn"' in home
    assert client.post("/notices/read").status_code == 302
    assert all(n.read_at for n in db_session.exec(select(Notice).where(Notice.user_id == operator.id)))


def test_settings_page_checks_email_and_bot_url(app, client, db_session, rating_world):
    user = rating_world["inspector"]
    login(client, user)
    answer = client.post("/notices/settings", data={"email": "not an email", "channels": ["bot"], "bot_url": ""})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "电子邮箱" in text and "群机器人地址" in text
    answer = client.post("/notices/settings", data={"email": "i@example.org", "channels": ["bot"],
                                                    "bot_url": "http://192.168.1.5/robot"})
    assert answer.status_code == 422 and "YIYANG_WEBHOOK_ALLOW_HOSTS" in answer.get_data(as_text=True)
    answer = client.post("/notices/settings", data={"email": "i@example.org", "channels": ["email", "bot"],
                                                    "bot_url": "https://8.8.8.8/robot/send?access_token=x"})
    assert answer.status_code == 302
    db_session.refresh(user)
    assert (user.email, user.notify_channels) == ("i@example.org", "email bot")


def test_group_bot_formats_and_smtp_url():
    assert bot_payload("https://open.feishu.cn/open-apis/bot/v2/hook/x", "你好") == \
        {"msg_type": "text", "content": {"text": "你好"}}
    assert bot_payload("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "你好") == \
        {"msgtype": "text", "text": {"content": "你好"}}
    assert bot_payload("https://oapi.dingtalk.com/robot/send?access_token=t", "你好")["msgtype"] == "text"
    assert parse_smtp_url("smtp://u%40x:p%3Aw@mail.example.org:587?starttls=1") == {
        "ssl": False, "host": "mail.example.org", "port": 587, "user": "u@x", "password": "p:w", "starttls": True}
    assert parse_smtp_url("smtps://mail.example.org")["port"] == 465


def test_bot_channel_posts_the_digest(app, client, db_session, rating_world, receiver):
    operator_org = rating_world["district2"]
    rating_world["station"].operator_organisation_id = operator_org.id
    db_session.add(rating_world["station"])
    UserFactory(organisation=operator_org, roles="operator", notify_channels="bot", bot_url=receiver.url)
    _overdue_actions(app, db_session, rating_world)
    headers = api_token(client, rating_world["admin"])
    job = client.post("/api/v1/jobs", json={"kind": "reminders"}, headers=headers).get_json()
    result = client.get(f"/api/v1/jobs/{job['id']}", headers=headers).get_json()["result"]
    assert result["bot_messages"] == 1
    (message,) = receiver.received
    assert message["json"]["msgtype"] == "text" and "已逾期" in message["json"]["text"]["content"]


def test_reassessments_due_reach_the_organisations_assessors(app, db_session, people, elder, gbt):
    from assessment import operations as aops
    from assessment.state import refresh_elder_state
    from jobs.notify import collect
    from tests.assessment.conftest import full_answers

    with app.test_request_context():
        a = aops.start_assessment(session=db_session, actor=people["assessor1"], elder=elder, definition=gbt,
                                  reason="initial")
        aops.save_answers(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt,
                          answers=full_answers(gbt), version=a.version)
        aops.submit_assessment(session=db_session, actor=people["assessor1"], assessment=a, definition=gbt)
    a.status, a.approved_at = "approved", utcnow() - timedelta(days=400)  # a year and a month ago
    db_session.add(a)
    refresh_elder_state(db_session, a.elder_id)  # approved by hand here, not through sign_assessment
    with app.app_context():
        found = collect(db_session, [people["district"].id, people["city"].id], utcnow().date())
    for key in ("assessor1", "assessor2"):
        (item,) = found[people[key].id]
        assert item.category == "reassessment" and "已逾期" in item.text and elder.name in item.text
    assert people["outsider"].id not in found and people["reviewer"].id not in found
