"""Inspection plans and the 双随机 draw: targets and two inspectors drawn at random.

The server draws the seed, never the client. When a plan is created the server commits to its
seed (SHA-256, shown and audited at once) before the candidates and the inspector pool are
fixed; the draw fixes them, reveals the seed, and anyone can check that the seed matches the
commitment and that the seed repeats the draw (`verify_draw`)."""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from accounts.models import User
from accounts.queries import subtree_ids
from audit import record_event
from core.i18n import N_
from core.timeutil import utcnow
from rating.models import Facility, Inspection, InspectionPlan
from rating.operations.facilities import RatingError
from rating.schemes import facility_kinds_for, get_scheme

INSPECTORS_PER_PLAN = 2


def draw(candidate_ids: Sequence[int], pool_ids: Sequence[int], *, seed: str, method: str,
         share: float | None = None, count: int | None = None,
         manual_ids: Sequence[int] = ()) -> tuple[list[int], list[int]]:
    """(targets, inspectors) for this seed: random.Random(seed) over the sorted lists, targets
    first, then the inspectors; the same inputs always give the same draw."""
    rng = random.Random(seed)
    candidates = sorted(set(candidate_ids))
    if method == "manual":
        targets = sorted(set(manual_ids))
    else:
        if method == "share":
            wanted = math.ceil(len(candidates) * float(share or 0))
        else:
            wanted = int(count or 0)
        wanted = max(0, min(wanted, len(candidates)))
        targets = sorted(rng.sample(candidates, wanted))
    pool = sorted(set(pool_ids))
    inspectors = sorted(rng.sample(pool, min(INSPECTORS_PER_PLAN, len(pool))))
    return targets, inspectors


def eligible_facility_ids(*, session: Session, organisation_id: int, scheme: str) -> list[int]:
    """Facilities under the organisation that the scheme can grade and that still may serve."""
    definition = get_scheme(scheme, session=session)
    ids = subtree_ids(session, organisation_id)
    rows = session.exec(select(Facility.id).where(
        Facility.organisation_id.in_(ids),  # type: ignore[attr-defined]
        Facility.kind.in_(facility_kinds_for(definition)),  # type: ignore[attr-defined]
        Facility.is_disqualified == False,  # noqa: E712
    ))
    return sorted(r for r in rows if r is not None)


def inspector_pool_ids(*, session: Session, organisation_id: int) -> list[int]:
    """Active inspectors of the organisation's subtree (the enforcement pool)."""
    ids = subtree_ids(session, organisation_id)
    users = session.exec(select(User).where(User.organisation_id.in_(ids), User.is_active == True))  # type: ignore[attr-defined]  # noqa: E712
    return sorted(u.id for u in users if u.has_role("inspector") and u.id is not None)


def seed_commitment(seed: str) -> str:
    """The published commitment: SHA-256 of the seed (hex)."""
    return hashlib.sha256(seed.encode()).hexdigest()


def _check_inputs(*, session: Session, name: str, scheme: str, method: str, share: Any, count: Any,
                  facility_ids: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if not name.strip():
        errors.append({"item": "name", "message": N_("请填写计划名称")})
    try:
        get_scheme(scheme, session=session)
    except LookupError as exc:
        errors.append({"item": "scheme", "message": str(exc)})
    if method not in ("manual", "share", "count"):
        errors.append({"item": "method", "message": "抽取方式应为 manual / share / count"})
    numeric = isinstance(share, int | float) and not isinstance(share, bool)
    if method == "share" and not (numeric and 0 < share <= 1):
        errors.append({"item": "share", "message": "抽取比例应大于 0 且不超过 1（例如 0.3）"})
    if method == "count" and not (isinstance(count, int) and not isinstance(count, bool) and count > 0):
        errors.append({"item": "count", "message": "抽取数量应为正整数"})
    if method == "manual" and not facility_ids:
        errors.append({"item": "facility_ids", "message": "请至少选择一个检查对象"})
    return errors


def create_plan(*, session: Session, actor: Any, organisation_id: int, name: str, scheme: str,
                method: str, share: float | None = None, count: int | None = None,
                facility_ids: Sequence[int] = (), draw_now: bool = True,
                seed: str | None = None) -> InspectionPlan:
    """Create a plan committed to a fresh server seed and, unless `draw_now` is false, draw it.
    `seed` is for the demo's repeatable data only; no client ever supplies it."""
    errors = _check_inputs(session=session, name=name, scheme=scheme, method=method, share=share, count=count,
                           facility_ids=facility_ids)
    if errors:
        raise RatingError(errors)
    seed = seed or secrets.token_hex(16)
    plan = InspectionPlan(organisation_id=organisation_id, name=name.strip(), scheme=scheme,
                          method=method, share=share, count=count, seed=seed,
                          seed_commitment=seed_commitment(seed),
                          target_ids=sorted(set(facility_ids)) if method == "manual" else [],
                          created_by_id=getattr(actor, "id", None))
    session.add(plan)
    session.flush()
    record_event(session=session, action="rating.plan.create", target=plan, actor=actor,
                 changes={"new": {"scheme": scheme, "method": method, "seed_commitment": plan.seed_commitment}})
    if draw_now:
        draw_plan(session=session, actor=actor, plan=plan)
    return plan


def draw_plan(*, session: Session, actor: Any, plan: InspectionPlan, now: datetime | None = None) -> InspectionPlan:
    """Fix the candidates and the inspector pool now, draw with the committed seed and reveal it."""
    if plan.drawn_at is not None:
        raise RatingError("该计划已抽取，不能重抽", status=409)
    errors: list[dict[str, Any]] = []
    candidates = eligible_facility_ids(session=session, organisation_id=plan.organisation_id, scheme=plan.scheme)
    manual = list(plan.target_ids) if plan.method == "manual" else []
    stray = sorted(set(manual) - set(candidates))
    if stray:
        errors.append({"item": "facility_ids", "message": f"这些机构不在本机构范围或不适用该方案：{stray}"})
    pool = inspector_pool_ids(session=session, organisation_id=plan.organisation_id)
    if len(pool) < INSPECTORS_PER_PLAN:
        errors.append({"item": "inspectors", "message": N_("检查员库不足两人，无法随机抽取检查员")})
    if errors:
        raise RatingError(errors)
    targets, inspectors = draw(candidates, pool, seed=plan.seed, method=plan.method, share=plan.share,
                               count=plan.count, manual_ids=manual)
    plan.candidate_ids, plan.inspector_pool_ids = candidates, pool
    plan.target_ids, plan.inspector_ids = targets, inspectors
    plan.drawn_at = now or utcnow()
    session.add(plan)
    session.flush()
    record_event(session=session, action="rating.plan.draw", target=plan, actor=actor,
                 changes={"new": {"seed": plan.seed, "seed_commitment": plan.seed_commitment,
                                  "candidates": len(candidates), "targets": targets, "inspectors": inspectors}})
    return plan


def verify_draw(plan: InspectionPlan) -> bool:
    """The revealed seed matches the commitment made at creation, and repeating the draw from
    it and the recorded inputs gives the same result."""
    if plan.drawn_at is None:
        return False
    if plan.seed_commitment != seed_commitment(plan.seed):
        return False
    return redraw_matches(plan)


def redraw_matches(plan: InspectionPlan) -> bool:
    """Repeat the draw from the recorded seed and inputs: True when it gives the same result."""
    targets, inspectors = draw(plan.candidate_ids, plan.inspector_pool_ids, seed=plan.seed,
                               method=plan.method, share=plan.share, count=plan.count,
                               manual_ids=plan.target_ids)
    return targets == sorted(plan.target_ids) and inspectors == sorted(plan.inspector_ids)


def publish_plan(*, session: Session, actor: Any, plan: InspectionPlan, results: bool = False,
                 now: datetime | None = None) -> InspectionPlan:
    """Publish the plan (双随机一公开) or, later, its results."""
    now = now or utcnow()
    if results:
        if plan.results_published_at is None:
            plan.results_published_at = now
    elif plan.published_at is None:
        plan.is_published = True
        plan.published_at = now
    session.add(plan)
    session.flush()
    record_event(session=session, action="rating.plan.publish_results" if results else "rating.plan.publish",
                 target=plan, actor=actor)
    return plan


def start_plan_inspections(*, session: Session, actor: Any, plan: InspectionPlan) -> list[Inspection]:
    """One inspection per target not yet started, assigned to the drawn inspectors."""
    if plan.drawn_at is None:
        raise RatingError("计划尚未抽取，请先抽取检查对象和检查员", status=409)
    from rating.operations.inspections import start_inspection

    started = {i.facility_id for i in session.exec(select(Inspection).where(Inspection.plan_id == plan.id))}
    created = []
    for facility_id in plan.target_ids:
        if facility_id in started:
            continue
        facility = session.get(Facility, facility_id)
        if facility is None or facility.is_disqualified:
            continue
        created.append(start_inspection(session=session, actor=actor, facility=facility,
                                        scheme=plan.scheme, plan=plan,
                                        inspector_ids=list(plan.inspector_ids)))
    return created
