"""Factories and helpers for the rating tests."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import factory
from pypdf import PdfReader

from rating.models import Facility
from tests.factories import BaseFactory


class FacilityFactory(BaseFactory):
    class Meta:
        model = Facility

    name = factory.Sequence(lambda n: f"测试养老院{n}")
    kind = "institution"
    district = "测试一区"
    address = "幸福路 1 号"
    beds = 120
    operator = "测试运营公司"
    filing_status = "filed"
    opened_on = date(2015, 3, 1)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, organisation: Any, **kwargs: Any) -> Any:
        from tests.factories import current_session

        session = current_session()
        facility = model_class(organisation_id=organisation.id, **kwargs)
        session.add(facility)
        session.flush()
        return facility


GBT_LEVEL4 = {"environment": 100, "facilities": 110, "operations": 130, "services": 500}
GBT_LEVEL5 = {"environment": 115, "facilities": 125, "operations": 145, "services": 580}

STAR_PASS = {
    "facilities.F1": "pass", "facilities.F2": 0, "facilities.F3": 0, "facilities.F4": "pass", "facilities.F5": 0,
    "operations.O1": "pass", "operations.O2": 0, "operations.O3": 0, "operations.O4": "pass", "operations.O5": "pass",
    "services": 38,
}
STAR_FAIL = {
    "facilities.F1": "fail", "facilities.F2": 4, "facilities.F3": 2, "facilities.F4": "partial", "facilities.F5": 2,
    "operations.O1": "partial", "operations.O2": 3, "operations.O3": 0, "operations.O4": "pass", "operations.O5": "fail",
    "services": 20,
}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() or "" for page in reader.pages)
