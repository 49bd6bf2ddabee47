"""Counting the SQL statements a request sends, for tests that hold a page to a fixed number of
queries whatever its size (no statement per row)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def counted(engine: Any) -> Iterator[list[str]]:
    """The statements sent through `engine` inside the block (savepoints left out)."""
    seen: list[str] = []

    def _note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "SAVEPOINT" not in statement.upper():
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", _note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _note)


def statements_per_page(client: Any, session: Any, url: str, headers: dict[str, str] | None = None) -> int:
    """How many statements one GET of `url` sends, starting from an empty session (nothing cached)."""
    session.expunge_all()
    engine = session.get_bind()
    engine = getattr(engine, "engine", engine)
    with counted(engine) as seen:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(seen)
