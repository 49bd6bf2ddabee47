"""factory-boy factories. They flush into the test's session (rolled back after each test)."""

from __future__ import annotations

from typing import Any

import factory
from sqlmodel import Session

from accounts.models import Organisation, User
from accounts.passwords import hash_password

_CURRENT: dict[str, Session | None] = {"session": None}
TEST_PASSWORD = "Correct-Horse-42"
_PASSWORD_HASH = hash_password(TEST_PASSWORD)  # argon2 is slow on purpose: hash once


def bind(session: Session | None) -> None:
    _CURRENT["session"] = session


def current_session() -> Session:
    session = _CURRENT["session"]
    if session is None:
        raise RuntimeError("factories need the db_session fixture")
    return session


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"机构{n}")
    kind = "district"
    parent = None

    @classmethod
    def _create(cls, model_class: Any, *args: Any, parent: Organisation | None = None, **kwargs: Any) -> Any:
        session = current_session()
        org = model_class(parent_id=parent.id if parent else None, **kwargs)
        session.add(org)
        session.flush()
        org.path = f"{parent.path if parent else '/'}{org.id}/"
        session.flush()
        return org


class UserFactory(BaseFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: f"用户 {o.username}")
    password_hash = _PASSWORD_HASH
    roles = "assessor"
    organisation = factory.SubFactory(OrganisationFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, organisation: Organisation, **kwargs: Any) -> Any:
        session = current_session()
        user = model_class(organisation_id=organisation.id, **kwargs)
        session.add(user)
        session.flush()
        return user


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id_number(birth_date: str, serial: int) -> str:
    """A valid GB 11643 ID number (MOD 11-2 check digit) for birth_date 'YYYY-MM-DD'."""
    body = f"110105{birth_date.replace('-', '')}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]
