"""Schemathesis against /api/v1/openapi.json, in process: generated requests (valid and
invalid) for every operation must never produce a server error, an undocumented status code or
content type, or a body outside the documented schema; every method a path does not document is
a 405 with `Allow`.

Cases per operation: YIYANG_FUZZ_EXAMPLES (default 40 on SQLite, a quarter on PostgreSQL);
`make fuzz` sets it high enough that one run exceeds 10,000 cases and prints the count."""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory

EXAMPLES = int(os.environ.get("YIYANG_FUZZ_EXAMPLES", "40"))


def test_api_never_answers_with_a_server_error(app: Any, db_session: Any, org_tree: dict[str, Any],
                                               database_url: str) -> None:
    user = UserFactory(organisation=org_tree["city"], roles="admin assessor reviewer inspector", username="fuzzer")
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": user.username, "password": TEST_PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    examples = EXAMPLES if database_url.startswith("sqlite") else max(EXAMPLES // 4, 5)
    counted = {"cases": 0}
    failures: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/auth/login":
            continue  # argon2 makes every login slow on purpose; login is covered by its own tests

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            counted["cases"] += 1
            try:
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                         content_type_conformance, response_schema_conformance])
            except (Exception, BaseExceptionGroup) as error:  # collect all, report together
                failures.append(f"{case.method.upper()} {case.formatted_path} {case.body!r:.200}: "
                                f"{type(error).__name__}: {str(error)[:300]}")

        run()
    wrong_methods = _every_other_method_is_a_405_with_allow(client, headers, failures)
    print(f"\nfuzzed {counted['cases']} API cases and {wrong_methods} undocumented methods on "
          f"{database_url.split(':')[0]}: {len(failures)} failures")
    assert counted["cases"] > 0
    assert not failures, "\n".join(failures[:60])


def _every_other_method_is_a_405_with_allow(client: Any, headers: dict[str, str], failures: list[str]) -> int:
    """Each path of the document called with each method it does not list: a 405 whose `Allow`
    names exactly the documented methods (HEAD and OPTIONS aside). Returns the number of calls."""
    document = client.get("/api/v1/openapi.json", headers=headers).get_json()
    calls = 0
    for path, operations in document["paths"].items():
        documented = {m.upper() for m in operations if m in {"get", "put", "post", "delete", "patch"}}
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in sorted({"GET", "PUT", "POST", "DELETE", "PATCH"} - documented):
            calls += 1
            response = client.open(url, method=method, headers=headers)
            allowed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            if response.status_code != 405 or allowed - {"HEAD", "OPTIONS"} != documented:
                failures.append(f"{method} {url}: {response.status_code}, Allow: {sorted(allowed)}, "
                                f"documented: {sorted(documented)}")
    return calls
