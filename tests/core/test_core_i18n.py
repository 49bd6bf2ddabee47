"""The English interface: the catalog in translations/ is loaded, pages switch language, and every
string in the source has an English translation (run `make translations` after adding strings)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import login
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
COMPILED = CATALOG.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
SKIP_DIRS = {".venv", "tests", "node_modules", "translations"}  # as in the Makefile's `translations`
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[sdif%]")
HAN = re.compile(r"[\u4e00-\u9fff]")
FIX = "run `make translations`, then translate the new entries in translations/en/LC_MESSAGES/messages.po"


def _source_msgids() -> dict[str, str]:
    """Every msgid in the source tree, extracted as babel.cfg says, with where it first occurs."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = _parse_mapping(cfg)

    def keep(dirpath: str) -> bool:
        name = os.path.basename(dirpath)
        return not name.startswith((".", "_")) and name not in SKIP_DIRS

    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=keep
    ):
        msgid = message[0] if isinstance(message, tuple) else message  # a plural is keyed by its singular
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _parse_mapping(fileobj: Any) -> tuple[Any, Any]:
    from babel.messages import frontend

    parse = getattr(frontend, "parse_mapping_cfg", None)
    return parse(fileobj, "babel.cfg") if parse else frontend.parse_mapping(fileobj)


def _strings(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def _catalog() -> Catalog:
    with open(CATALOG, "rb") as po:
        return read_po(po, locale="en")


def test_every_source_string_has_an_english_translation():
    catalog = _catalog()
    missing = []
    for msgid, where in sorted(_source_msgids().items(), key=lambda kv: kv[1]):
        entry = catalog.get(msgid)
        if entry is None or entry.fuzzy or not all(_strings(entry.string)):
            missing.append(f"  {where}: {msgid}")
    assert not missing, f"{len(missing)} strings have no English translation; {FIX}:\n" + "\n".join(missing)


def test_translations_are_english_and_keep_their_placeholders():
    problems = []
    for entry in _catalog():
        for msgid, string in zip(_strings(entry.id), _strings(entry.string), strict=False):
            if not msgid or not string:
                continue
            if HAN.search(string):
                problems.append(f"still Chinese: {msgid} -> {string}")
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(string)):
                problems.append(f"placeholders differ: {msgid} -> {string}")
    assert not problems, "\n".join(problems)


def test_compiled_catalog_matches_the_po_file():
    with open(COMPILED, "rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    wanted = {m.id: m.string for m in _catalog() if m.id and m.string and not m.fuzzy}
    assert compiled == wanted, "translations/en/LC_MESSAGES/messages.mo is stale: run `make translations`"


def test_app_loads_the_catalog_next_to_app_py(app):
    from flask_babel import force_locale, gettext

    assert [Path(d) for d in app.extensions["babel"].translation_directories] == [ROOT / "translations"]
    with app.test_request_context("/"), force_locale("en"):
        assert gettext("登录") == "Sign in"
    with app.test_request_context("/"), force_locale("zh"):
        assert gettext("登录") == "登录"


def _english(html: str, *english: str) -> None:
    assert '<html lang="en">' in html
    for text in english:
        assert text in html, text


def _absent(html: str, *chinese: str) -> None:
    for text in chinese:
        assert text not in html, text


def test_default_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录颐养" in html and "用户名" in html and "密码" in html
    _absent(html.replace("颐养 <small>Yiyang</small>", ""), "Sign in", "Username", "Password")


def test_login_page_in_english_with_query_parameter(client):
    html = client.get("/login?lang=en").get_data(as_text=True)
    _english(html, "Sign in to Yiyang", "Username", "Password", "中文")
    _absent(html, "登录颐养", "老年人能力评估与养老机构等级评定", "用户名", "密码", ">English<")
    # the choice sticks for the session, and ?lang=zh switches back
    assert "Sign in to Yiyang" in client.get("/login").get_data(as_text=True)
    assert "登录颐养" in client.get("/login?lang=zh").get_data(as_text=True)


def test_language_form_switches_the_whole_session(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    login(client, admin)
    assert "用户管理" in client.get("/").get_data(as_text=True)
    switched = client.post("/lang/en", data={"next": "/"})
    assert switched.status_code == 302
    html = client.get("/").get_data(as_text=True)
    _english(html, "Hello, ", "User management", "Audit log", "Rating overview", "Sign out")
    _absent(html, "用户管理", "审计日志", "评定总览", "您好", "退出", "首页")
    client.post("/lang/zh", data={"next": "/"})
    assert "用户管理" in client.get("/").get_data(as_text=True)


def test_assessment_page_in_english(client, org_tree):
    assessor = UserFactory(organisation=org_tree["district1"], roles="assessor")
    login(client, assessor)
    html = client.get("/elders?lang=en").get_data(as_text=True)
    _english(html, "Elders", "Register an elder", "Search", "No elders registered yet.", "Assessments")
    _absent(html, "老年人", "登记老年人", "查找", "还没有登记老年人。", "评估")


def test_rating_page_in_english(client, org_tree):
    from tests.rating.factories import FacilityFactory

    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    FacilityFactory(organisation=org_tree["district1"], name="阳光养老院")
    login(client, admin)
    html = client.get("/rating/facilities?lang=en").get_data(as_text=True)
    _english(html, "Care facilities", "Register facility", "Current grade", "Beds", "Not rated", "阳光养老院")
    _absent(html, "养老服务机构", "登记机构", "当前等级", "床位", "未评定", "检查计划", "整改")


def test_language_chosen_before_sign_in_survives_sign_in(client, org_tree):
    admin = UserFactory(organisation=org_tree["city"], roles="admin")
    client.get("/login?lang=en")
    login(client, admin)
    assert "User management" in client.get("/").get_data(as_text=True)
