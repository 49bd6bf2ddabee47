"""The score / rate / instruments commands, through click's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from instruments.cli import instruments_group, rate_command, score_command

GBT_ANSWERS = {f"B.1.{i}": 4 for i in range(1, 9)} | {"B.2.1": 4, "B.2.2": 4, "B.2.3": 4,
                                                      "B.2.4": 3} | {
    f"B.3.{i}": 4 for i in range(1, 7)} | {"B.3.7": 1, "B.3.8": 1, "B.3.9": 2, "B.4.1": 2,
                                           "B.4.2": 2, "B.4.3": 4, "B.4.4": 3, "B.4.5": 4}


def run(command, args, stdin=None):
    return CliRunner().invoke(command, args, input=stdin)


def test_score_from_stdin() -> None:
    payload = {"answers": {**GBT_ANSWERS, "A.4.1": ["F00-F03"]}}
    result = run(score_command, ["gbt42195-2022", "-"], json.dumps(payload))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["instrument"] == "gbt42195-2022" and data["total"] == 90
    assert data["preliminary_level"]["code"] == 0 and data["level"]["code"] == 1
    assert "能力完好" in result.output  # ensure_ascii=False


def test_score_bad_input_lists_every_error(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"answers": {"B.1.1": 9, "nope": 1}}), encoding="utf-8")
    result = run(score_command, ["gbt42195-2022", str(path)])
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    items = [e["item"] for e in errors]
    assert "B.1.1" in items and "nope" in items and "B.1.2" in items
    assert all("message" in e for e in errors)


def test_unknown_instrument_and_bad_json() -> None:
    result = run(score_command, ["nhsa-ltc-2021", "-"], "{}")
    assert result.exit_code == 2 and "nhsa-ltc-2021" in json.loads(result.output)["errors"][0][
        "message"]
    result = run(score_command, ["gbt42195-2022", "-"], "{not json")
    assert result.exit_code == 2 and json.loads(result.output)["errors"]
    result = run(rate_command, ["gbt42195-2022", "-"], "{}")
    assert result.exit_code == 2


def test_rate_with_sections_and_veto() -> None:
    payload = {"answers": {"environment": 110, "facilities": 120, "operations": 140,
                           "services": 560}, "facts": {"veto": ["major_accident_3y"]}}
    result = run(rate_command, ["gbt37276-2018", "-"], json.dumps(payload))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scheme"] == "gbt37276-2018" and data["vetoed"] is True
    assert data["grade"]["code"] == 0 and data["vetoes"][0]["code"] == "major_accident_3y"
    community = run(rate_command, ["community-star", "-"],
                    json.dumps({"answers": {"facilities": 27.5, "operations": 30,
                                            "services": 32.5}}))
    assert json.loads(community.output)["grade"]["stars"] == 5


def test_instruments_list_show_validate(tmp_path: Path) -> None:
    listed = run(instruments_group, ["list", "--json"])
    assert {row["id"] for row in json.loads(listed.output)} >= {"gbt42195-2022", "community-star"}
    shown = run(instruments_group, ["show", "mzt039-2013"])
    assert shown.exit_code == 0 and json.loads(shown.output)["policies"]["combination_gaps"]
    assert run(instruments_group, ["show", "nope"]).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\nkind: rating\n", encoding="utf-8")
    result = run(instruments_group, ["validate", str(bad)])
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["source"] == str(bad)
    pack = Path(__file__).parents[2] / "instruments" / "barthel.yaml"
    assert run(instruments_group, ["validate", str(pack)]).exit_code == 0


def test_python_dash_m_fallback() -> None:
    payload = json.dumps({"answers": GBT_ANSWERS})
    done = subprocess.run([sys.executable, "-m", "instruments", "score", "gbt42195-2022", "-"],
                          input=payload, capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["level"]["code"] == 0
