"""Importing facilities: the registry's checks per row, unknown organisations, the same name
twice in one organisation, and a second import of the same list adds nothing."""

from __future__ import annotations

from sqlmodel import select

from rating.models import Facility, FacilityState
from tests.conftest import api_token
from tests.imports.conftest import to_csv
from tests.imports.test_imports_elders import cells, post

HEADER = ["机构名称", "机构类型", "所属机构", "床位数", "开业日期", "备案状态"]


def test_facilities_dry_run_commit_reimport(client, db_session, importer):
    headers = api_token(client, importer["admin"])
    rows = [
        ["幸福养老院", "养老机构", "测试一区", "120", "2015-06-01", ""],     # 2 valid
        ["阳光中心", "community_center", "", "", "", "已登记备案"],          # 3 valid (the caller's organisation)
        ["无类型", "敬老院", "", "10", "", ""],                              # 4 unknown kind
        ["床位错", "station", "", "很多", "", ""],                           # 5 beds
        ["外机构", "station", "无关机构", "", "", ""],                       # 6 not ours
        ["幸福 养老院", "养老机构", "测试一区", "", "", ""],                 # 7 same as row 2
        ["日期错", "station", "", "", "2015-13-01", ""],                      # 8 date
    ]
    data = to_csv(rows, header=HEADER)
    expected = {(4, "机构类型"), (5, "床位数"), (6, "所属机构"), (7, "机构名称"), (8, "开业日期")}
    dry = post(client, headers, data, kind="facilities").get_json()
    assert cells(dry) == expected, dry["errors"]
    assert dry["rows"] == 7 and dry["valid"] == 2
    done = post(client, headers, data, kind="facilities", dry_run="false").get_json()
    assert done["imported"] == 2 and done["duplicates"] == 1
    made = {f.name: f for f in db_session.exec(select(Facility)).all()}
    assert set(made) == {"幸福养老院", "阳光中心"}
    assert made["幸福养老院"].organisation_id == importer["district1"].id and made["幸福养老院"].beds == 120
    assert made["阳光中心"].organisation_id == importer["city"].id and made["阳光中心"].kind == "community_center"
    assert all(db_session.get(FacilityState, f.id) is not None for f in made.values())
    again = post(client, headers, data, kind="facilities", dry_run="false").get_json()
    assert again["imported"] == 0 and again["duplicates"] == 3


def test_english_headers_for_facilities(client, importer):
    headers = api_token(client, importer["admin"])
    body = post(client, headers, to_csv([["Sunrise Home", "institution", "30"]], header=["Name", "KIND", "beds"]),
                kind="facilities").get_json()
    assert body["valid"] == 1, body
