"""Idempotency keys for API POSTs and PUTs: a request resent with the same `Idempotency-Key` is
applied once and gets the first answer back. The key belongs to the caller, whether a bearer
token or a signed-in page whose write carries its CSRF token (the offline outbox sends so).

The key's row is written in the same transaction as the work it protects (the request's unit of
work commits both or neither), so a crash or a lock error never leaves a key that claims work that
was not done. While the first request runs, the row is uncommitted: a copy sent at the same time
waits on the unique (user, key) index and then gets the first answer replayed. A key that still
reads "pending" (only possible if a request committed without an answer) expires after
IDEMPOTENCY_PENDING_SECONDS instead of answering 409 for ever. The same key with a different
body is a 422. `prune` deletes answers older than IDEMPOTENCY_KEEP_HOURS (`yiyang idempotency
prune`; a job may call it).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, timedelta

import click
from flask import Response, current_app, g, request
from flask.cli import with_appcontext
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.errors import DomainError
from core.i18n import N_
from core.models import IdempotentRequest
from core.timeutil import utcnow

KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
METHODS = ("POST", "PUT")
PENDING = 0  # status of a key whose request has not answered yet


def fingerprint() -> str:
    """What the key promises to repeat: the method, the path and the exact body."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _find(db: Session, user_id: int, key: str) -> IdempotentRequest | None:
    return db.exec(select(IdempotentRequest).where(IdempotentRequest.user_id == user_id,
                                                   IdempotentRequest.key == key)).first()


def _in_progress() -> DomainError:
    return DomainError(N_("同一请求正在处理中，请稍后再试。"), status=409, code="request_in_progress")


def _answer(found: IdempotentRequest, print_: str) -> Response:
    if found.path != request.path or (found.fingerprint and found.fingerprint != print_):
        raise DomainError(N_("这个 Idempotency-Key 已用于另一个请求（内容不同），请换一个新的键。"),
                          status=422, code="idempotency_key_reused",
                          errors=[{"item": "Idempotency-Key", "message": N_("已用于内容不同的请求")}])
    replay = current_app.response_class(found.body, status=found.status, mimetype="application/json")
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def _is_stale(found: IdempotentRequest) -> bool:
    created = found.created_at if found.created_at.tzinfo else found.created_at.replace(tzinfo=UTC)
    age = utcnow() - created
    return age > timedelta(seconds=current_app.config.get("IDEMPOTENCY_PENDING_SECONDS", 60))


def replay_or_claim() -> Response | None:
    """Before an API POST or PUT: replay the stored answer, refuse a reused key, or claim the key."""
    from core.auth import current_actor

    key = request.headers.get("Idempotency-Key")
    if request.method not in METHODS or key is None:
        return None
    # A bearer token's user, or the page's signed-in user (cookie plus the CSRF header: the fill
    # page's scripts and the offline outbox send their uploads that way).
    user = current_actor()
    if user is None:
        return None
    if not KEY.match(key):
        raise DomainError(N_("Idempotency-Key 只能包含字母、数字和 _.:-，最长 100 个字符。"),
                          status=422, code="invalid_idempotency_key")
    from core.db import get_session

    db = get_session()
    print_ = fingerprint()
    found = _find(db, user.id, key)
    if found is not None and found.status == PENDING:
        if not _is_stale(found):
            raise _in_progress()
        db.delete(found)  # left behind by a request that never answered: take the key over
        db.flush()
        found = None
    if found is not None:
        return _answer(found, print_)
    claim = IdempotentRequest(user_id=user.id, key=key, method=request.method, path=request.path[:300],
                              status=PENDING, body="", fingerprint=print_)
    db.add(claim)
    try:
        db.flush()  # a copy running at the same time holds the key: wait for its outcome
    except IntegrityError:
        db.rollback()
        found = _find(db, user.id, key)
        if found is None or found.status == PENDING:
            raise _in_progress() from None
        return _answer(found, print_)
    g.idempotent_request = claim
    return None


def answer_holds_secret() -> None:
    """This request's answer carries a one-time secret (a generated password): it is sent once
    and never stored under an Idempotency-Key; a replay gets a 409 saying so instead."""
    g.idempotent_secret = True


SECRET_NOT_KEPT = json.dumps({
    "error": "not_replayed",
    "message": "该答复含只显示一次的密码，不再重发；请在原答复中查看，或重新重置密码。",
    "message_en": "That answer carried a password shown once; it is not replayed. Reset the password again if it was lost.",
}, ensure_ascii=False)


def remember(response: Response) -> Response:
    """After an API POST or PUT: store the answer under the key, in the transaction of the work."""
    from core.unitofwork import keep_writes

    claim = g.pop("idempotent_request", None)
    if claim is None or response.status_code >= 500:
        return response  # a server error is no answer: the unit of work rolls back, the key is free
    from core.db import get_session

    db = get_session()
    failed = response.status_code >= 400 or g.get("unit_refused", False)
    if failed and not g.get("unit_keep", False):
        # The work rolls back, but a refusal is an answer too: keep it alone.
        db.rollback()
        claim = IdempotentRequest(user_id=claim.user_id, key=claim.key, method=claim.method, path=claim.path,
                                  status=PENDING, body="", fingerprint=claim.fingerprint)
        db.add(claim)
        keep_writes()
    if g.pop("idempotent_secret", False) and response.status_code < 400:
        claim.status, claim.body = 409, SECRET_NOT_KEPT  # the password is never kept in the table
    else:
        claim.status = response.status_code
        claim.body = response.get_data(as_text=True)
    db.add(claim)
    return response


def prune(*, session: Session, older_than: timedelta | None = None) -> int:
    """Delete stored answers older than `older_than` (IDEMPOTENCY_KEEP_HOURS); returns how many."""
    if older_than is None:
        older_than = timedelta(hours=current_app.config.get("IDEMPOTENCY_KEEP_HOURS", 24))
    result = session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@click.group("idempotency")
def idempotency_group() -> None:
    """幂等键 / idempotency keys of the API."""


@idempotency_group.command("prune")
@click.option("--hours", type=click.IntRange(min=0), default=None,
              help="保留最近几小时的记录 / keep this many hours (default IDEMPOTENCY_KEEP_HOURS)")
@with_appcontext
def prune_command(hours: int | None) -> None:
    """删除过期的幂等键 / delete old idempotency keys."""
    from core.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        count = prune(session=session, older_than=timedelta(hours=hours) if hours is not None else None)
    click.echo(f"已删除 {count} 个过期的幂等键 / deleted {count} old idempotency keys")
