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
