"""The statistics page: every figure links to the list it counts, and that list counts the same;
the monthly report PDF renders with extractable text in Chinese and in English."""

from __future__ import annotations

import html as htmllib
import io
import re
from typing import Any

from pypdf import PdfReader

from tests.conftest import login
from tests.factories import UserFactory

CELL = re.compile(r'<td class="num"><a href="([^"]+)">([\d,]+)</a></td>')


def _listed(client: Any, url: str) -> int:
    html = client.get(url).get_data(as_text=True)
    if url.startswith("/assessments/due"):
        return len(set(re.findall(r'href="/elders/(\d+)"', html)))
    found = re.search(r"共 (\d+) 条", html)
    if found is None:  # an empty list shows its empty state instead of a count
        assert 'class="empty-state"' in html, url
        return 0
    return int(found.group(1))


def test_every_figure_links_to_a_list_with_the_same_count(client: Any, world: dict[str, Any]) -> None:
    login(client, world["admin"])
    page = client.get("/stats?from=2026-03&to=2026-05")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    cells = [(htmllib.unescape(url), int(value.replace(",", ""))) for url, value in CELL.findall(html)]
    assert len(cells) > 30
    endpoints = {url.split("?")[0] for url, _v in cells}
    assert endpoints == {"/assessments", "/elders", "/assessments/due", "/rating/facilities", "/rating/actions"}
    for url, value in cells:
        assert _listed(client, url) == value, url
    assert 'id="assessments_month"' in html and "<svg" in html
    assert "测试市（本级）" in html  # the city's own record: a row of its own, without a link


def test_a_scope_sent_as_one_array_gives_the_same_figures_and_lists(client: Any, world: dict[str, Any],
                                                                   monkeypatch: Any) -> None:
    """A province's scope (more than core.paging.IN_ARRAY_AT organisations) goes to PostgreSQL as
    one array parameter instead of one parameter per id: the same cells, and each linked list
    counts the same, whichever way the ids travel."""
    from core import paging

    login(client, world["admin"])
    before = CELL.findall(client.get("/stats?from=2026-03&to=2026-05").get_data(as_text=True))
    monkeypatch.setattr(paging, "IN_ARRAY_AT", 0)  # every scope as an array (on PostgreSQL)
    after = CELL.findall(client.get("/stats?from=2026-03&to=2026-05").get_data(as_text=True))
    assert after == before and len(after) > 30
    for url, value in after:
        assert _listed(client, htmllib.unescape(url)) == int(value.replace(",", "")), url
    for url in ("/rating/inspections", "/rating/certificates", "/api/v1/elders?q=老", "/assessments/due?kind=soon"):
        assert client.get(url).status_code == 200, url


def test_in_ids_is_an_array_on_postgresql_only_for_long_scopes(app: Any, db_session: Any) -> None:
    from sqlalchemy import select

    from accounts.models import Organisation
    from core.paging import IN_ARRAY_AT, in_ids

    def sql(ids: list[int]) -> str:
        stmt = select(Organisation.id).where(in_ids(db_session, Organisation.id, ids))
        return str(stmt.compile(dialect=db_session.get_bind().dialect))

    postgres = db_session.get_bind().dialect.name == "postgresql"
    assert "IN" in sql(list(range(IN_ARRAY_AT)))
    assert ("ANY" in sql(list(range(IN_ARRAY_AT + 1)))) is postgres
    long = list(range(1, IN_ARRAY_AT + 40))
    assert set(db_session.execute(select(Organisation.id).where(in_ids(db_session, Organisation.id, long))).scalars()) \
        == set(db_session.execute(select(Organisation.id).where(Organisation.id.in_(long))).scalars())


def test_figures_count_the_planted_records(client: Any, world: dict[str, Any]) -> None:
    login(client, world["admin"])
    html = client.get("/stats?from=2026-03&to=2026-05").get_data(as_text=True)
    levels = html[html.index('id="levels_now"'):html.index('id="reassessments"')]
    assert re.findall(r'level=(\d)[^"]*">(\d+)<', htmllib.unescape(levels)).count(("2", "1")) == 2  # 一区, 二区
    money = html[html.index('id="entitlements"'):]
    rows = re.findall(r"<td>(测试[一二]区)</td>.*?<td class=\"num\">([\d,.]+)</td></tr>", money, re.S)
    assert dict(rows) == {"测试一区": "400.00", "测试二区": "300.00"}  # 一区: levels 1 and 2; 二区: level 2


def test_outsider_page_counts_only_its_own(client: Any, world: dict[str, Any]) -> None:
    login(client, world["outsider"])
    html = client.get("/stats?from=2026-03&to=2026-05").get_data(as_text=True)
    assert "测试一区" not in html and "测试二区" not in html
    cells = [int(v) for _u, v in CELL.findall(html)]
    assert cells and max(cells) == 1


def test_bad_filters_are_listed_on_the_page(client: Any, world: dict[str, Any]) -> None:
    login(client, world["admin"])
    response = client.get("/stats?from=2026-99&to=x&org=999999")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert text.count("<li>") >= 3 and 'value="2026-99"' in text


def test_assessor_cannot_open_statistics(client: Any, world: dict[str, Any]) -> None:
    login(client, UserFactory(organisation=world["city"], roles="assessor"))
    assert client.get("/stats").status_code == 403


def _text(data: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_monthly_report_pdf(client: Any, world: dict[str, Any]) -> None:
    login(client, world["reviewer"])
    response = client.get("/stats/monthly.pdf?month=2026-04")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _text(response.data)
    assert "月报" in text and "2026-04" in text and "测试一区" in text and "测试市" in text
    english = _text(client.get("/stats/monthly.pdf?month=2026-04&lang=en").data)
    assert "Monthly report" in english and "月报" not in english
    assert client.get("/stats/monthly.pdf?month=2026-4x").status_code == 422
