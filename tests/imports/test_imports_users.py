"""Importing users: roles in Chinese or English, passwords checked by the policy or generated and
reported once, everyone must change the password at the first sign-in, a taken username is a
duplicate, and a second import adds nothing."""

from __future__ import annotations

from sqlmodel import select

from accounts.models import User
from accounts.passwords import verify_password
from audit.models import AuditEvent
from tests.conftest import api_token
from tests.imports.conftest import to_csv
from tests.imports.test_imports_elders import cells, post

HEADER = ["用户名", "姓名", "所属机构", "角色", "初始密码"]


def test_users_dry_run_commit_reimport(client, db_session, importer):
    headers = api_token(client, importer["admin"])
    rows = [
        ["pg_new1", "新评估员", "测试一区", "评估员、审核员", "Quite-Long-Pass-81"],  # 2 valid, given password
        ["pg_new2", "", "", "inspector", ""],                                         # 3 valid, generated
        ["import_admin", "", "", "管理员", ""],                                      # 4 username taken
        ["pg_new3", "", "", "厨师", ""],                                             # 5 unknown role
        ["pg_new4", "", "无关机构", "评估员", ""],                                    # 6 not ours
        ["pg_new5", "", "", "评估员", "123"],                                         # 7 weak password
        ["PG_NEW1", "", "", "评估员", ""],                                           # 8 same as row 2
    ]
    data = to_csv(rows, header=HEADER)
    expected = {(4, "用户名"), (5, "角色"), (6, "所属机构"), (7, "初始密码"), (8, "用户名")}
    dry = post(client, headers, data, kind="users").get_json()
    assert cells(dry) == expected, dry["errors"]
    assert dry["valid"] == 2 and "passwords" not in dry
    done = post(client, headers, data, kind="users", dry_run="false").get_json()
    assert done["imported"] == 2 and cells(done) == expected
    made = {u.username: u for u in db_session.exec(select(User).where(User.username.in_(["pg_new1", "pg_new2"])))}
    assert made["pg_new1"].roles == "assessor reviewer" and made["pg_new1"].organisation_id == importer["district1"].id
    assert made["pg_new2"].roles == "inspector" and made["pg_new2"].organisation_id == importer["city"].id
    assert all(u.must_change_password for u in made.values())
    assert verify_password(made["pg_new1"].password_hash, "Quite-Long-Pass-81")
    assert [name for name, _ in done["passwords"]] == ["pg_new2"]
    assert verify_password(made["pg_new2"].password_hash, done["passwords"][0][1])
    event = db_session.exec(select(AuditEvent).where(AuditEvent.action == "user.import")).one()
    assert done["passwords"][0][1] not in str(event.changes) and "Quite-Long-Pass-81" not in str(event.changes)
    again = post(client, headers, data, kind="users", dry_run="false").get_json()
    assert again["imported"] == 0 and "passwords" not in again
