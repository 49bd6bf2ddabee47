"""core.paging: opaque cursors, limits, keyset order with ties, and literal search text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from core.paging import (
    MAX_LIMIT,
    PageParams,
    PagingError,
    Sort,
    capped_count,
    decode_cursor,
    encode_cursor,
    literal_contains,
    page_params,
    paginate,
)

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)),
               Column("rank", Integer))


@pytest.fixture()
def conn():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as connection:
        connection.execute(insert(things), [{"id": i, "name": ["a%", "b_", "ab", "c"][i % 4], "rank": i % 3}
                                            for i in range(1, 41)])
        yield connection
    engine.dispose()


def test_cursor_round_trip_and_tampering():
    key = [datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), date(2026, 1, 2), "名", 7, None]
    assert decode_cursor(encode_cursor(key, "p")) == (key, "p")
    for bad in ("", "!!", "e30", encode_cursor([1])[:-2] + "xx", "A" * 3000):
        with pytest.raises(PagingError) as error:
            decode_cursor(bad)
        assert error.value.item == "cursor"


def test_limit_bounds():
    assert page_params({}).limit == 50 and page_params({"limit": "500"}).limit == MAX_LIMIT
    for bad in ("0", "501", "-1", "1.5", "x", "１"):
        with pytest.raises(PagingError) as error:
            page_params({"limit": bad})
        assert error.value.item == "limit"


@pytest.mark.parametrize("desc", [False, True])
def test_pages_forward_and_back_cover_every_row_once(conn, desc):
    sort = [Sort(things.c.rank, desc=desc), Sort(things.c.id, desc=desc)]
    stmt = select(things)

    def key(row):
        return (row.rank, row.id)

    forward, params, pages = [], PageParams(limit=7), []
    while True:
        page = paginate(conn, stmt, sort, key, params)
        pages.append(page)
        forward += [row.id for row in page.items]
        if page.next_cursor is None:
            break
        params = PageParams(cursor=page.next_cursor, limit=7)
    everything = [row.id for row in conn.execute(select(things).order_by(
        *(c.column.desc() if desc else c.column for c in sort)))]
    assert forward == everything
    # Walk back from the last page with the previous cursors: the same pages in reverse.
    back, page = [], pages[-1]
    while page.prev_cursor:
        page = paginate(conn, stmt, sort, key, PageParams(cursor=page.prev_cursor, limit=7))
        back = [row.id for row in page.items] + back
    assert back + [row.id for row in pages[-1].items] == everything


def test_capped_count_and_literal_search(conn):
    assert capped_count(conn, select(things), cap=10) == (10, True)
    assert capped_count(conn, select(things), cap=100) == (40, False)
    names = {row.name for row in conn.execute(select(things).where(literal_contains(things.c.name, "%")))}
    assert names == {"a%"}
    names = {row.name for row in conn.execute(select(things).where(literal_contains(things.c.name, "_")))}
    assert names == {"b_"}
