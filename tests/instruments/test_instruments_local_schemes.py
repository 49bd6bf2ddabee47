"""The item-level local schemes from ../shared/standards/local/: maxima add up, every item of
the transcription is there, and a failed item is a finding with its own text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import instruments
from scoring import score

LOCAL = next((p / "shared" / "standards" / "local" for p in Path(__file__).resolve().parents
              if (p / "shared" / "standards" / "local").is_dir()), Path("/nonexistent"))
PACKS = {
    "nmg-institution-star": ("nmg-pension-institution-service-quality-star-rating.yaml", 1000, 79),
    "nmg-area-centre-star": ("nmg-pension-area-home-care-centre-star-rating.yaml", 1000, 60),
    "nmg-community-station-star": ("nmg-pension-community-station-star-rating.yaml", 500, 42),
}


@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_maxima_add_up_and_every_item_is_there(pack_id: str) -> None:
    _source, total, count = PACKS[pack_id]
    definition = instruments.get(pack_id)
    scored = [s for s in definition.sections if s.scored]
    assert sum(s.max or 0 for s in scored) == total
    for section in scored:
        assert sum(item.max_score for item in section.items) == section.max, section.id
    assert sum(len(s.items) for s in scored) == count
    full = {item.id: (item.max if item.type == "decimal" else item.options[0].value)
            for item in definition.items.values()}
    result = score(definition, full).to_dict()
    assert (result["total"], result["max_total"], result["findings"]) == (total, total, [])


@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_items_match_the_transcription(pack_id: str) -> None:
    path = LOCAL / PACKS[pack_id][0]
    if not path.exists():
        pytest.skip("the shared transcriptions are not on this machine")
    source = yaml.safe_load(path.read_text(encoding="utf-8"))
    definition = instruments.get(pack_id)
    for section in source["sections"]:
        for item in section["items"]:
            ours = definition.item(f"{section['id']}.{item['id']}")
            assert ours.max == item["points"] and ours.title.zh == " ".join(item["text_zh"].split())


def test_a_failed_item_is_a_finding_with_its_text() -> None:
    definition = instruments.get("nmg-community-station-star")
    answers = {item.id: item.max for item in definition.items.values()}
    answers["safety.1.1"] = 0
    answers["safety.1.2"] = 1
    result = score(definition, answers).to_dict()
    findings = {f["item"]: f for f in result["findings"]}
    assert findings["safety.1.1"]["label"] == "年内无责任事故" and findings["safety.1.1"]["points_lost"] == 10
    assert findings["safety.1.2"]["points_lost"] == 1 and "救护车" in findings["safety.1.2"]["label"]
    assert result["total"] == 489


def test_a_required_condition_below_one_star_is_stated() -> None:
    definition = instruments.get("nmg-institution-star")
    answers = {item.id: (item.max if item.type == "decimal" else 5) for item in definition.items.values()}
    assert not score(definition, answers).to_dict()["warnings"]
    answers["prerequisites.P2"] = 0
    assert any("无法通过评定" in w for w in score(definition, answers).to_dict()["warnings"])


# --- the county A/B/C checklist (no points; A/B/C and basic / improvement indicators) -------

CHECKLIST = "shexian-elderly-care-institution-service-quality-checklist.yaml"


def _all_a() -> dict[str, str]:
    return {item_id: "A" for item_id in instruments.get("shexian-quality-checklist").items}


def test_checklist_counts_add_up() -> None:
    definition = instruments.get("shexian-quality-checklist")
    counts = {s.id: len(s.items) for s in definition.sections}
    assert counts == {"basic-requirements": 61, "basic-services": 82, "general-services": 65}
    assert sum(counts.values()) == 208 == len(definition.items)
    for section in definition.sections:
        assert section.max == 2 * len(section.items) == sum(i.max_score for i in section.items)
    items = list(definition.items.values())
    assert all([o.value for o in i.options] == ["A", "B", "C"] for i in items)
    assert sum(1 for i in items if i.severity == "minor") == 92  # improvement indicators
    result = score(definition, _all_a()).to_dict()
    assert (result["grade"]["label"], result["total"], result["findings"]) == ("提升", None, [])


def test_checklist_items_match_the_transcription() -> None:
    path = LOCAL / CHECKLIST
    if not path.exists():
        pytest.skip("the shared transcriptions are not on this machine")
    source = yaml.safe_load(path.read_text(encoding="utf-8"))
    definition = instruments.get("shexian-quality-checklist")
    seen = 0
    for section in source["sections"]:
        for item in section["items"]:
            ours = definition.item(f"{section['id']}.{item['id']}")
            assert ours.title.zh == " ".join(item["text_zh"].split())
            assert ours.verification == " ".join(item["method_zh"].split())
            assert (ours.severity == "minor") == (item["indicator_type"] == "提升指标"), ours.id
            seen += 1
    assert seen == len(definition.items) == 208


def test_a_failed_checklist_item_is_a_finding_with_its_text() -> None:
    definition = instruments.get("shexian-quality-checklist")
    answers = _all_a() | {"basic-requirements.4": "C", "basic-services.62": "B"}
    result = score(definition, answers).to_dict()
    findings = {f["item"]: f for f in result["findings"]}
    assert set(findings) == {"basic-requirements.4", "basic-services.62"}
    assert findings["basic-requirements.4"]["label"].startswith("委托第三方服务的第三方服务机构应资质齐备")
    assert (findings["basic-requirements.4"]["points_lost"], findings["basic-requirements.4"]["severity"]) == (2, "minor")
    assert (findings["basic-services.62"]["points_lost"], findings["basic-services.62"]["severity"]) == (1, "major")
    assert findings["basic-services.62"]["label"] == definition.item("basic-services.62").title.zh


def test_checklist_result_rule_and_its_policy() -> None:
    definition = instruments.get("shexian-quality-checklist")
    # an improvement indicator C does not make the result rectify; a basic indicator C does
    improve = score(definition, _all_a() | {"basic-requirements.4": "C"}).to_dict()
    assert improve["grade"]["label"] == "提升" and not improve["warnings"]
    rectify = score(definition, _all_a() | {"basic-requirements.1": "C"}).to_dict()
    assert rectify["grade"]["label"] == "整改"
    # a basic B without any C: the app's code says improve (default); the comment's wording rectify
    partial = _all_a() | {"basic-requirements.1": "B"}
    default = score(definition, partial).to_dict()
    assert default["grade"]["label"] == "提升"
    assert "basic_partial_result = improve" in default["explanation"][-1]
    strict = score(definition.with_policies(basic_partial_result="rectify"), partial).to_dict()
    assert strict["grade"]["label"] == "整改"
    assert "basic_partial_result = rectify" in strict["explanation"][-1]
