"""`yiyang demo` shows a populated dashboard: every statistics figure has data and every role's
inbox has work; `yiyang stats monthly` writes the report of the demo city."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from app import create_app


def test_demo_fills_every_figure_and_the_monthly_command(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("YIYANG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("YIYANG_DEMO_PASSWORD", "Demo-Stats-2026")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}", "SECRET_KEY": "x", "DATA_KEY": "y",
                      "WTF_CSRF_ENABLED": False})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    client = app.test_client()
    assert client.post("/login", data={"username": "admin", "password": "Demo-Stats-2026"}).status_code == 302
    html = client.get("/stats").get_data(as_text=True)
    sections = re.findall(r'<section class="stats-section" id="(\w+)">(.*?)</section>', html, re.S)
    assert len(sections) == 9
    for key, body in sections:
        assert "empty-state" not in body, key
        numbers = [int(n) for n in re.findall(r'<td class="num">(?:<a href="[^"]+">)?([\d]+)<', body)]
        assert "<svg" in body or sum(numbers) > 0, key
    for username in ("admin", "assessor1", "reviewer1", "inspector1"):
        client.post("/logout")
        assert client.post("/login", data={"username": username, "password": "Demo-Stats-2026"}).status_code == 302
        counts = client.get("/api/v1/inbox").get_json()["counts"]
        assert counts and sum(counts.values()) > 0, (username, counts)
    with app.app_context():
        from sqlmodel import Session, select

        from accounts.models import Organisation

        with Session(app.extensions["yiyang.engine"]) as session:
            city = session.exec(select(Organisation).where(Organisation.name == "示例市")).one()
    out = tmp_path / "monthly.pdf"
    result = runner.invoke(args=["stats", "monthly", "--org", str(city.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "月报" in text and "示例市东城区" in text
    bad = runner.invoke(args=["stats", "monthly", "--org", str(city.id), "--month", "2026-13", "-o", str(out)])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
    app.extensions["yiyang.engine"].dispose()
