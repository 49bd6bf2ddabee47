"""The installable app's shell: the service worker at the root scope with a versioned cache, the
manifest with its icons, the offline page; pages link them and keep the CSP."""

from __future__ import annotations

import json

from tests.conftest import login


def test_the_service_worker_is_served_from_the_root_with_its_version_and_shell(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    first_line = response.get_data(as_text=True).splitlines()[0]
    config = json.loads(first_line.removeprefix("self.YIYANG_SW = ").rstrip(";"))
    assert len(config["version"]) == 16 and config["offlinePage"] == "/offline"
    assert "/static/js/form.js" in config["shell"] and "/static/css/app.css" in config["shell"]
    assert "/static/js/engine.js" in config["shell"]  # skip logic and the preview work offline
    assert "/static/fonts/NotoSansSC-Regular.woff2" in config["shell"]
    assert not any(url.startswith("http") for url in config["shell"])  # no CDN
    for url in config["shell"]:
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url


def test_the_shell_version_changes_with_the_static_files(monkeypatch, tmp_path):
    from core import offline

    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "sw.js").write_text("// worker")
    (tmp_path / "js" / "form.js").write_text("one")
    monkeypatch.setattr(offline, "resource_dir", lambda name: tmp_path)
    offline.shell_files.cache_clear()
    offline.shell_version.cache_clear()
    try:
        before = offline.shell_version()
        (tmp_path / "js" / "form.js").write_text("two")
        offline.shell_version.cache_clear()
        assert offline.shell_version() != before
    finally:
        offline.shell_files.cache_clear()
        offline.shell_version.cache_clear()


def test_the_manifest_names_the_app_in_both_languages_with_icons(client):
    zh = client.get("/manifest.webmanifest").get_json(force=True)
    assert zh["start_url"] == "/" and zh["display"] == "standalone" and zh["name"] == "颐养 养老评估评定"
    assert {"192x192", "512x512"} <= {i["sizes"] for i in zh["icons"]}
    for icon in zh["icons"]:
        response = client.get(icon["src"])
        response.close()
        assert response.status_code == 200
    en = client.get("/manifest.webmanifest?lang=en").get_json(force=True)
    assert en["name"].isascii()


def test_pages_link_the_manifest_and_register_the_worker(client, org_tree):
    from tests.factories import UserFactory

    login(client, UserFactory(organisation=org_tree["city"], roles="assessor"))
    page = client.get("/").get_data(as_text=True)
    assert 'rel="manifest"' in page and 'name="yiyang-service-worker" content="/sw.js"' in page and "js/offline.js" in page
    offline = client.get("/offline")
    assert offline.status_code == 200 and "offline-records" in offline.get_data(as_text=True)
    assert "script-src 'self' 'nonce-" in offline.headers["Content-Security-Policy"]
