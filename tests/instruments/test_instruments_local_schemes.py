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
