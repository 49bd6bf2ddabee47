"""Fixtures for the assessment tests: people in two organisations, an elder, full answers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.factories import UserFactory

ID_NUMBER = "11010519491231002X"  # GB 11643 example, born 1949-12-31
OTHER_ID_NUMBER = "440524188001010014"


def full_answers(definition: Any, pick: str = "first") -> dict[str, Any]:
    """A complete answer set: every scored single choice at its first (or last) option."""
    answers: dict[str, Any] = {}
    for item in definition.items.values():
        if item.type == "single_choice" and item.options:
            option = item.options[0] if pick == "first" else item.options[-1]
            answers[item.id] = option.value
    return answers


@pytest.fixture()
def people(org_tree: dict[str, Any]) -> dict[str, Any]:
    district = org_tree["district1"]
    return {
        "assessor1": UserFactory(username="pg_assessor1", roles="assessor", organisation=district),
        "assessor2": UserFactory(username="pg_assessor2", roles="assessor", organisation=district),
        "reviewer": UserFactory(username="pg_reviewer", roles="reviewer", organisation=org_tree["city"]),
        "admin": UserFactory(username="pg_admin", roles="admin", organisation=org_tree["city"]),
        "outsider": UserFactory(username="pg_outsider", roles="assessor reviewer admin",
                                organisation=org_tree["other"]),
        "district": district,
        **org_tree,
    }


@pytest.fixture()
def gbt(app: Any) -> Any:
    return app.extensions["yiyang.definitions"]["gbt42195-2022"]


@pytest.fixture()
def elder(app: Any, db_session: Any, people: dict[str, Any]) -> Any:
    from assessment import operations as ops
    from core.crypto import FieldCipher

    with app.test_request_context():
        return ops.register_elder(
            session=db_session, actor=people["assessor1"], organisation=people["district"],
            data=ops.ElderInput(name="王秀英", gender="female", birth_date=date(1949, 12, 31),
                                id_number=ID_NUMBER, phone="13812345678", address="和平街 1 号"),
            cipher=FieldCipher(app.config["DATA_KEY"]), duplicate_scope=[people["district"].id])
