"""`yiyang demo --elders N`: a realistic city for measuring, written in bulk.

On top of the demo organisations: 20 districts, N elders spread over them (and the demo's own
district), about 3 assessments per elder over 3 years (mostly approved; some drafts, submitted,
signed and amended), and per 1,000 elders about 5 facilities, 20 inspections, 100 corrective
actions, their grades and certificates, and 10 staff accounts (assessors, reviewers, inspectors;
one in eight deactivated; they share the demo assessor's password hash). Every record gets its
audit events, chained through the audit module's own digest, so `yiyang audit verify` passes; the current-state tables are
written alongside. PostgreSQL is filled with COPY, SQLite with executemany (how, and what makes a
million elders fit in 20 minutes: core/city_writer.py and docs/performance.md, "Scale").
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from accounts.models import Organisation, User
from assessment.counts import rebuild_day_counts, rebuild_due_counts, rebuild_level_counts
from assessment.idnumber import check_digit
from assessment.models import (
    Assessment,
    AssessmentDayCount,
    Elder,
    ElderDueCount,
    ElderLevelCount,
    ElderNameGram,
    ElderState,
)
from assessment.names import gram_rows
from assessment.queries import add_months
from audit.models import AuditEvent
from core.city_writer import Chain, Writer
from core.crypto import FieldCipher, mask_id_number, mask_phone
from rating.models import Certificate, CorrectiveAction, Facility, FacilityState, Grade, Inspection

DISTRICTS = 20
CHUNK = 5000
REBUILD_AT = 50_000  # from this many elders (and at least as many as there are), indexes are rebuilt
BULK = [Elder, ElderNameGram, ElderState, Assessment, AuditEvent, Facility, FacilityState, Inspection, CorrectiveAction, Grade,
        Certificate]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰玉兰建国德明淑珍凤英志强国华丽华秀兰桂英金凤永福文华玉珍淑华振华春花海燕"


def _districts(session: Session, city: Organisation) -> list[Organisation]:
    from accounts import operations as account_ops

    found = list(session.scalars(select(Organisation).where(Organisation.parent_id == city.id,
                                                            Organisation.name.like("示例市第%区"))  # type: ignore[attr-defined]
                                 .order_by(Organisation.id)))
    for n in range(len(found) + 1, DISTRICTS + 1):
        found.append(account_ops.create_organisation(session=session, name=f"示例市第{n}区", kind="district",
                                                     parent=city))
    session.flush()
    return found


def _templates(definition: Any) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(answers, result, answers hash) for a few realistic answer patterns."""
    import hashlib

    from assessment.demo import _answers
    from scoring import score

    out = []
    for pick in range(4):
        answers = _answers(definition, pick)
        result = score(definition, answers).to_dict()
        blob = json.dumps({"instrument": definition.id, "version": definition.version, "answers": answers},
                          sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        out.append((answers, result, hashlib.sha256(blob.encode()).hexdigest()))
    return out


def vacuum_after_fill(engine: Any) -> None:
    """VACUUM ANALYZE the tables a fill wrote (PostgreSQL; after its commit, outside any
    transaction): rows written by COPY are not yet marked all-visible, so without it the planner
    reads the table behind every index-only scan (the statistics' due window: 240 ms instead of
    14 ms at a million elders) until autovacuum comes by, as it does on a live server."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    tables = [*BULK, User, AssessmentDayCount, ElderLevelCount, ElderDueCount]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for model in tables:
            conn.execute(text(f"VACUUM ANALYZE {model.__table__.name}"))


def fill_city(session: Session, context: Any, elders: int, *, seed: int = 42,
              progress: Callable[[str], None] = lambda _m: None, rebuild_indexes: bool | None = None,
              threaded: bool | None = None) -> dict[str, int]:
    """Add `elders` elders and everything in proportion; returns row counts written.

    On PostgreSQL the batches are written by a thread of their own while the next is generated
    (`threaded`, default on), and a large fill (`rebuild_indexes`, default from REBUILD_AT)
    drops the bulk tables' secondary indexes and foreign keys first and puts them back at the end."""
    import instruments
    from audit.operations import _lock_chain
    from core.crypto import cipher

    rng = random.Random(seed)
    definition = instruments.builtin()["gbt42195-2022"]
    templates = _templates(definition)
    orgs = context.organisations
    # plain copies: the writer thread owns the connection, so nothing here may load lazily
    districts = [SimpleNamespace(id=o.id, name=o.name) for o in (orgs["district1"], *_districts(session, orgs["city"]))]
    users = {name: SimpleNamespace(id=u.id, username=u.username, roles=u.roles, organisation_id=u.organisation_id)
             for name, u in context.users.items()}
    assessors, reviewer, inspector, admin = (users["assessor1"], users["assessor2"]), users["reviewer1"], \
        users["inspector1"], users["admin"]
    _lock_chain(session.connection())  # the chain has one writer while the city is appended
    conn = session.connection()
    writer = Writer(conn)
    chain = Chain(writer)
    field_cipher: FieldCipher = cipher()
    months = {o.id: o.reassessment_months or 12 for o in session.scalars(select(Organisation))}
    now = datetime.now(UTC)
    counts = {"elders": 0, "assessments": 0, "facilities": 0, "inspections": 0, "actions": 0, "grades": 0,
              "certificates": 0}
    elder_id, assessment_id = writer.next_id(Elder), writer.next_id(Assessment)
    rating_ids = tuple(writer.next_id(m) for m in (Facility, Inspection, CorrectiveAction, Grade, Certificate))
    staff_id = writer.next_id(User)
    staff_hash = session.scalar(select(User.password_hash).where(User.id == assessors[0].id)) or "!"
    start = elder_id
    if rebuild_indexes is None:
        rebuild_indexes = elders >= REBUILD_AT and elders >= writer.count(Elder)
    dropped = writer.drop_for_bulk(BULK) if rebuild_indexes else []
    if writer.pg and threaded is not False:
        writer.start()
    try:
        _elders(rng, writer, chain, elders, field_cipher, districts, now, elder_id, assessment_id, templates,
                definition, assessors, reviewer, months, counts, progress)
        _rating(rng, writer, chain, districts, elders, now, inspector, admin, counts, rating_ids)
        counts["users"] = _staff(writer, chain, districts, elders, now, admin, staff_hash, staff_id)
        chain.flush()
        writer.drain()
    finally:
        writer.close()
    if dropped:
        progress(f"indexes and foreign keys: {len(dropped)}")
        writer.restore(dropped)
    writer.reset_sequences([User, Elder, Assessment, AuditEvent, Facility, Inspection, CorrectiveAction, Grade,
                            Certificate])
    for rebuilt in (rebuild_day_counts, rebuild_level_counts, rebuild_due_counts):
        for _drift in rebuilt(session):  # the statistics' counters, from the rows written
            pass
    writer.analyze([*BULK, User, AssessmentDayCount, ElderLevelCount, ElderDueCount])
    counts["audit_events"] = chain.next_id - 1
    counts["first_elder_id"] = start
    return counts


def _elders(rng: random.Random, writer: Writer, chain: Chain, elders: int, field_cipher: FieldCipher,
            districts: list[Any], now: datetime, elder_id: int, assessment_id: int, templates: list[Any],
            definition: Any, assessors: tuple[Any, Any], reviewer: Any, months: dict[int, int],
            counts: dict[str, int], progress: Callable[[str], None]) -> None:
    """The elders, CHUNK at a time, each with its assessments, state and audit events."""
    for low in range(0, elders, CHUNK):
        size = min(CHUNK, elders - low)
        e_rows, a_rows, s_rows, g_rows = [], [], [], []
        for i in range(low, low + size):
            org = districts[i % len(districts)]
            birth = date(1930, 1, 1) + timedelta(days=elder_id % 9000)  # (birth, serial) unique per id
            number = f"110102{birth:%Y%m%d}{(elder_id // 9000) % 1000:03d}"  # not the demo's 110101
            number += check_digit(number)
            phone = f"139{elder_id % 10**8:08d}"
            created = now - timedelta(days=3 * 365 + rng.randint(0, 60), minutes=rng.randint(0, 600))
            name = rng.choice(SURNAMES) + GIVEN[2 * rng.randrange(len(GIVEN) // 2):][:2]
            e_rows.append({
                "id": elder_id, "organisation_id": org.id, "name": name,
                "gender": "female" if i % 2 else "male", "birth_date": birth,
                "id_number_enc": field_cipher.encrypt(number), "id_number_hash": field_cipher.lookup_hash(number),
                "id_number_masked": mask_id_number(number), "phone_enc": field_cipher.encrypt(phone),
                "phone_hash": field_cipher.lookup_hash(phone), "phone_masked": mask_phone(phone),
                "address": f"{org.name}幸福路 {i % 997 + 1} 号", "community": f"第{i % 37 + 1}社区",
                "contact_name": name[0] + "家属", "contact_phone_enc": None, "contact_phone_masked": None,
                "legal_basis": "statutory", "consent_by": "", "consent_at": None, "created_by_id": assessors[0].id,
                "created_at": created, "updated_at": created, "version": 1})
            g_rows += gram_rows(elder_id, name, org.id)  # name search (assessment.names)
            chain.add(created, assessors[0], "elder.register", "elder", elder_id,
                      {"name": name, "id_number": "***", "legal_basis": "statutory"})
            state = _assessments(rng, chain, a_rows, elder_id, org, created, now, assessment_id, templates,
                                 definition, assessors, reviewer, months[org.id])
            assessment_id += state.pop("_count")
            s_rows.append({"elder_id": elder_id, **state})
            elder_id += 1
        writer.write(Elder, e_rows)
        writer.write(ElderNameGram, g_rows)
        superseded = [{"i": r["id"], "s": r["superseded_by_id"]} for r in a_rows if r["superseded_by_id"]]
        for r in a_rows:
            r["superseded_by_id"] = None
        writer.write(Assessment, a_rows)
        # an amended version points at its successor, written in the same batch
        writer.execute("UPDATE assessment SET superseded_by_id = :s WHERE id = :i", superseded)
        writer.write(ElderState, s_rows)
        chain.flush()
        counts["elders"] += len(e_rows)
        counts["assessments"] += len(a_rows)
        progress(f"elders: {counts['elders']}/{elders}")


def _assessments(rng: random.Random, chain: Chain, rows: list[dict[str, Any]], elder_id: int, org: Any,
                 created: datetime, now: datetime, next_id: int, templates: list[Any], definition: Any,
                 assessors: tuple[Any, Any], reviewer: Any, months: int) -> dict[str, Any]:
    """About three assessments a year apart; returns the elder's state (with `_count` rows written)."""
    count = rng.choice((2, 3, 3, 3, 4))
    when = created + timedelta(days=1)
    state: dict[str, Any] = {"organisation_id": org.id, "latest_assessment_id": None, "instrument_id": None,
                             "level_code": None, "level_label": None, "approved_at": None, "next_due_on": None,
                             "open_assessment_id": None, "assessment_count": 0}
    first_id = next_id
    pick = rng.randrange(4)
    for n in range(count):
        last = n == count - 1
        roll = rng.random() if last else 0.0
        status = ("approved" if roll < 0.80 else "draft" if roll < 0.88 else "submitted" if roll < 0.93
                  else "signed" if roll < 0.97 else "amended")
        if when > now:
            when = now - timedelta(days=rng.randint(1, 20))
        answers, result, digest = templates[min(3, pick + (n // 2))]
        level = result.get("level") or {}
        approved = status in ("approved", "amended")
        row = {
            "id": next_id, "organisation_id": org.id, "elder_id": elder_id, "instrument_id": definition.id,
            "instrument_version": definition.version, "reason": "initial" if n == 0 else "routine",
            "status": "approved" if approved else status, "answers": answers if status != "draft" else {},
            "result": result if status != "draft" else None, "answers_hash": digest if status != "draft" else None,
            "version": 4, "current_section": None, "place": "老人家中", "submit_token": None, "revision": 1,
            "amends_id": None, "amendment_reason": None, "superseded_by_id": None,
            "created_by_id": assessors[0].id, "submitted_by_id": assessors[0].id if status != "draft" else None,
            "reviewer_id": reviewer.id if approved else None, "created_at": when,
            "updated_at": when + timedelta(hours=2), "submitted_at": when + timedelta(hours=1) if status != "draft" else None,
            "approved_at": when + timedelta(hours=2) if approved else None,
            "level_code": level.get("code") if status != "draft" else None}
        chain.add(when, assessors[0], "assessment.start", "assessment", next_id,
                  {"elder_id": elder_id, "instrument": definition.id, "reason": row["reason"]})
        if status != "draft":
            chain.add(when + timedelta(hours=1), assessors[0], "assessment.submit", "assessment", next_id,
                      {"level": level.get("code"), "total": result.get("total")})
        if approved:
            chain.add(when + timedelta(hours=2), reviewer, "assessment.approve", "assessment", next_id,
                      {"answers_hash": digest, "role": "reviewer"})
        rows.append(row)
        current = row
        next_id += 1
        if status == "amended":
            fixed = dict(row, id=next_id, revision=2, amends_id=row["id"], amendment_reason="录入错误更正",
                         created_at=when + timedelta(days=3), updated_at=when + timedelta(days=3, hours=2),
                         approved_at=when + timedelta(days=3, hours=2))
            row["superseded_by_id"] = next_id
            chain.add(fixed["created_at"], reviewer, "assessment.amend", "assessment", next_id,
                      {"amends": row["id"]})
            chain.add(fixed["approved_at"], reviewer, "assessment.approve", "assessment", next_id,
                      {"answers_hash": digest, "role": "reviewer"})
            rows.append(fixed)
            current = fixed
            next_id += 1
        if approved:
            label = level.get("label")
            state.update(latest_assessment_id=current["id"], instrument_id=definition.id,
                         level_code=level.get("code"),
                         level_label=(label.get("zh") if isinstance(label, dict) else label),
                         approved_at=current["approved_at"], open_assessment_id=None,
                         next_due_on=add_months(current["approved_at"].date(), months))
        else:
            state["open_assessment_id"] = current["id"]
        when = when + timedelta(days=330 + rng.randint(0, 60))
    state["assessment_count"] = next_id - first_id
    state["_count"] = next_id - first_id
    return state


def _staff(writer: Writer, chain: Chain, districts: list[Any], elders: int, now: datetime, admin: Any,
           password_hash: str, first: int) -> int:
    """10 staff accounts per 1,000 elders over the districts (the users list is measured too)."""
    count = max(1, elders * 10 // 1000)
    roles = ("assessor", "assessor", "assessor reviewer", "inspector", "reviewer")
    rows = []
    for n in range(count):
        org, created = districts[n % len(districts)], now - timedelta(days=n % 1000)
        rows.append({"id": first + n, "username": f"staff{first + n}", "display_name": f"职员{first + n}",
                     "password_hash": password_hash, "organisation_id": org.id, "roles": roles[n % len(roles)],
                     "is_active": n % 8 != 7, "password_changed_at": created, "must_change_password": False,
                     "version": 1, "created_at": created, "last_login_at": None, "email": "",
                     "notify_channels": "email", "bot_url": ""})
        chain.add(created, admin, "user.create", "user", first + n,
                  {"username": rows[-1]["username"], "roles": rows[-1]["roles"], "organisation_id": org.id})
    writer.write(User, rows)
    return count


def _rating(rng: random.Random, writer: Writer, chain: Chain, districts: list[Any], elders: int, now: datetime,
            inspector: Any, admin: Any, counts: dict[str, int], ids: tuple[int, ...]) -> None:
    """Facilities, inspections, corrective actions, grades and certificates in proportion."""
    from rating.signing import sign_payload

    facilities = max(1, elders * 5 // 1000)
    inspections = max(1, elders * 20 // 1000)
    actions = max(1, elders * 100 // 1000)
    fid, iid, aid, gid, cid = ids
    f_rows, i_rows, a_rows, g_rows, c_rows, s_rows = [], [], [], [], [], []
    by_facility: dict[int, list[dict[str, Any]]] = {}
    for n in range(facilities):
        org = districts[n % len(districts)]
        opened = now - timedelta(days=rng.randint(400, 4000))
        row = {"id": fid + n, "organisation_id": org.id, "operator_organisation_id": None,
               "name": f"{org.name}第{n + 1}社区养老服务站", "kind": "station", "district": org.name,
               "address": f"{org.name}康宁路 {n + 1} 号", "beds": rng.randint(0, 60), "operator": "示例运营方",
               "filing_status": "filed", "opened_on": opened.date(), "is_disqualified": False,
               "disqualified_at": None, "disqualified_reason": None, "version": 1, "created_at": opened}
        f_rows.append(row)
        by_facility[row["id"]] = []
        chain.add(opened, admin, "rating.facility.create", "rating_facility", row["id"], {"new": {"name": row["name"]}})
    for n in range(inspections):
        facility = f_rows[n % facilities]
        when = now - timedelta(days=30 + (inspections - n) * 1000 // inspections)
        stars = rng.choice((0, 3, 4, 5))
        row = {"id": iid + n, "organisation_id": facility["organisation_id"], "facility_id": facility["id"],
               "plan_id": None, "previous_inspection_id": None, "is_reinspection": False, "scheme": "community-star",
               "scheme_version": "1", "status": "approved", "answers": {}, "facts": {}, "auto_facts": {}, "notes": {},
               "inspector_ids": [inspector.id], "version": 3,
               "result": {"total": 60 + stars * 7, "grade": {"code": stars, "stars": stars}, "findings": []},
               "proposed_grade_code": stars, "is_unqualified": False, "rectification_due_at": None,
               "created_by_id": inspector.id, "submitted_by_id": inspector.id, "approved_by_id": admin.id,
               "created_at": when, "updated_at": when, "submitted_at": when, "approved_at": when + timedelta(days=2)}
        i_rows.append(row)
        by_facility[facility["id"]].append(row)
        chain.add(when, inspector, "rating.inspection.start", "rating_inspection", row["id"])
        chain.add(when, inspector, "rating.inspection.submit", "rating_inspection", row["id"])
        chain.add(row["approved_at"], admin, "rating.inspection.approve", "rating_inspection", row["id"],
                  {"new": {"grade": stars}})
    for facility_id, rows in by_facility.items():
        previous = None
        for inspection in rows:
            grade = {"id": gid, "organisation_id": inspection["organisation_id"], "facility_id": facility_id,
                     "inspection_id": inspection["id"], "plan_id": None, "scheme": "community-star",
                     "scheme_version": "1", "code": inspection["proposed_grade_code"],
                     "label": {0: "不评星", 3: "三星级", 4: "四星级", 5: "五星级"}[inspection["proposed_grade_code"]],
                     "stars": inspection["proposed_grade_code"] or None, "medal": None,
                     "awarded_at": inspection["approved_at"], "valid_from": inspection["approved_at"].date(),
                     "valid_until": inspection["approved_at"].date() + timedelta(days=364),
                     "superseded_by_id": None, "superseded_at": None, "approved_by_id": admin.id}
            if previous is not None:
                previous["superseded_by_id"], previous["superseded_at"] = gid, grade["awarded_at"]
            g_rows.append(grade)
            previous = grade
            gid += 1
        current = previous
        open_count = 0
        if current is not None and current["code"] > 0:
            code = secrets.token_urlsafe(18)
            serial = f"YY{current['awarded_at']:%Y}-COMMUN-{current['id']:06d}"
            payload = {"v": 1, "code": code, "serial": serial, "facility": f_rows[facility_id - fid]["name"],
                       "scheme": "community-star", "grade": current["code"], "label": current["label"],
                       "issued_on": current["valid_from"].isoformat(), "valid_until": current["valid_until"].isoformat(),
                       "issuer": districts[0].name}
            payload_text, signature = sign_payload(payload)
            c_rows.append({"id": cid, "organisation_id": current["organisation_id"], "grade_id": current["id"],
                           "facility_id": facility_id, "serial": serial, "code": code, "payload": payload_text,
                           "signature": signature, "issued_on": current["valid_from"],
                           "valid_until": current["valid_until"], "issued_at": current["awarded_at"],
                           "issued_by_id": admin.id, "revoked_at": None, "revoked_reason": None,
                           "revoked_by_id": None})
            chain.add(current["awarded_at"], admin, "rating.certificate.issue", "rating_certificate", cid,
                      {"new": {"serial": serial, "grade_id": current["id"]}})
            cid += 1
        s_rows.append({"facility_id": facility_id, "organisation_id": f_rows[facility_id - fid]["organisation_id"],
                       "grade_id": current["id"] if current else None, "grade_code": current["code"] if current else None,
                       "grade_label": current["label"] if current else None,
                       "grade_valid_until": current["valid_until"] if current else None,
                       "open_action_count": open_count, "inspection_count": len(rows)})
    open_by_facility: dict[int, int] = {}
    for n in range(actions):
        inspection = i_rows[n % inspections]
        due = inspection["submitted_at"] + timedelta(days=rng.choice((7, 30, 60)))
        status = "closed" if due < now - timedelta(days=30) and rng.random() < 0.9 else rng.choice(
            ("open", "open", "evidence_submitted", "closed"))
        a_rows.append({"id": aid + n, "organisation_id": inspection["organisation_id"],
                       "facility_id": inspection["facility_id"], "inspection_id": inspection["id"],
                       "item_id": f"S{n % 40 + 1}", "section": "S", "description": "消防通道堆放杂物（扣 2 分）",
                       "required_action": "清理通道并提交整改照片", "severity": rng.choice(("critical", "major", "minor")),
                       "points_lost": 2.0, "is_rectification": False, "due_at": due, "status": status,
                       "evidence_note": None, "evidence_at": None, "evidence_by_id": None,
                       "verified_at": due if status == "closed" else None,
                       "verified_by_id": inspector.id if status == "closed" else None, "escalated_at": None,
                       "created_at": inspection["submitted_at"]})
        if status != "closed":
            open_by_facility[inspection["facility_id"]] = open_by_facility.get(inspection["facility_id"], 0) + 1
    for row in s_rows:
        row["open_action_count"] = open_by_facility.get(row["facility_id"], 0)
    writer.write(Facility, f_rows)
    writer.write(Inspection, i_rows)
    writer.write(CorrectiveAction, a_rows)
    writer.write(Grade, g_rows[::-1])  # newest first: a superseded grade points at one already written
    writer.write(Certificate, c_rows)
    writer.write(FacilityState, s_rows)
    counts.update(facilities=len(f_rows), inspections=len(i_rows), actions=len(a_rows), grades=len(g_rows),
                  certificates=len(c_rows))

