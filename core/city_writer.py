"""How `yiyang demo --elders N` (core/city.py) writes: rows into tables with COPY on PostgreSQL
(executemany elsewhere), from a writer thread so that the next batch is generated while the
database takes the previous one; for a large fill the secondary indexes of the bulk tables are
dropped first and built again at the end (one sorted build instead of a million single-row
insertions, a GIN trigram index above all); audit events chained with the audit module's digest.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from audit.chain import Digester, audit_key
from audit.models import AuditEvent

DEPTH = 2  # batches waiting for the writer thread: one being written, one ready
_JSON = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(…, ensure_ascii=False) builds one per call


class Writer:
    """Rows into tables: COPY on PostgreSQL, executemany elsewhere. After `start`, `write` and
    `execute` queue their work for one writer thread (the only user of the connection until
    `close`); an error there is raised again in the caller at its next call or at `drain`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self._dumped: dict[int, tuple[Any, str]] = {}
        self._queue: queue.Queue[tuple[Callable[..., None], tuple[Any, ...]] | None] | None = None
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        """Write from a thread of its own from now on (the caller generates meanwhile)."""
        self._queue = queue.Queue(maxsize=DEPTH)
        self._thread = threading.Thread(target=self._run, name="city-writer", daemon=True)
        self._thread.start()

    # --- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self.error is None:  # after a failure the rest is dropped, never waited for
                    work, args = item
                    work(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.error = exc
            finally:
                self._queue.task_done()

    def _submit(self, work: Callable[..., None], *args: Any) -> None:
        self._raise()
        if self._queue is None:
            work(*args)
            return
        self._queue.put((work, args))

    def _raise(self) -> None:
        if self.error is not None:
            error = self.error
            self.close()  # what is still queued is dropped while error is set
            self.error = None
            raise error

    def drain(self) -> None:
        """Wait until everything queued is written; raise the writer's error if there was one."""
        if self._queue is not None:
            self._queue.join()
        self._raise()

    def close(self) -> None:
        """Stop the writer thread (after what is queued); the connection is the caller's again."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None

    # --- writing ---------------------------------------------------------------------------

    def write(self, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        if rows:
            self._submit(self._write, model, rows)

    def execute(self, statement: str, parameters: list[dict[str, Any]]) -> None:
        if parameters:
            self._submit(lambda: self.conn.execute(text(statement), parameters))

    def _write(self, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        columns = list(rows[0])
        if not self.pg:
            self.conn.execute(table.insert(), rows)
            return
        json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
        plain = [c not in json_columns for c in columns]
        values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f'COPY {table.name} ({", ".join(columns)}) FROM STDIN') as copy:
            if all(plain):
                for row in rows:
                    copy.write_row(values(row))
                return
            for row in rows:
                copy.write_row([value if keep or value is None else self._json(value)
                                for keep, value in zip(plain, values(row), strict=True)])

    def _json(self, value: Any) -> str:
        """JSON text; the answer and result templates shared by many rows are encoded once."""
        if isinstance(value, dict | list) and len(value) > 8:
            found = self._dumped.get(id(value))
            if found is None or found[0] is not value:
                found = self._dumped[id(value)] = (value, _JSON(value))
            return found[1]
        return _JSON(value)

    # --- before and after the fill (never while the thread writes) --------------------------

    def next_id(self, model: type[SQLModel]) -> int:
        table = model.__table__  # type: ignore[attr-defined]
        return int(self.conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1

    def count(self, model: type[SQLModel]) -> int:
        return int(self.conn.execute(select(func.count()).select_from(model.__table__)).scalar_one())  # type: ignore[attr-defined]

    def analyze(self, models: list[type[SQLModel]]) -> None:
        """Fresh statistics, so the planner picks the list indexes right after a bulk fill."""
        if self.pg:
            names = ", ".join(model.__table__.name for model in models)  # type: ignore[attr-defined]
            self.conn.execute(text(f"ANALYZE {names}"))

    def reset_sequences(self, models: list[type[SQLModel]]) -> None:
        if not self.pg:
            return
        for model in models:
            name = model.__table__.name  # type: ignore[attr-defined]
            self.conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                   f"(SELECT coalesce(max(id), 1) FROM {name}))"))

    def drop_for_bulk(self, models: list[type[SQLModel]]) -> list[str]:
        """Drop what a bulk load pays for row by row and a bulk build does far cheaper: the
        secondary indexes of these tables (primary keys, unique constraints and unique indexes
        stay, they check the rows as they come) and their foreign keys (each a lookup per row).
        Returns the statements that put them back exactly as the database had them (the
        migrated schema: GIN operator classes, partial predicates, ON DELETE rules), for
        `restore`, which checks every row against every foreign key again. PostgreSQL only;
        the tables stay locked against other sessions until the transaction ends."""
        if not self.pg:
            return []
        names = {"names": [model.__table__.name for model in models]}  # type: ignore[attr-defined]
        indexes = self.conn.execute(text(
            "SELECT format('%I.%I', n.nspname, c.relname), pg_get_indexdef(c.oid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE n.nspname = current_schema() AND t.relname = ANY(:names) AND NOT i.indisunique"
            " AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)"
            " ORDER BY t.relname, c.relname"), names).all()
        keys = self.conn.execute(text(
            "SELECT format('%I.%I', n.nspname, t.relname), format('%I', k.conname), pg_get_constraintdef(k.oid)"
            " FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE k.contype = 'f' AND n.nspname = current_schema() AND t.relname = ANY(:names)"
            " ORDER BY t.relname, k.conname"), names).all()
        for table, name, _definition in keys:
            self.conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
        for index, _definition in indexes:
            self.conn.execute(text(f"DROP INDEX {index}"))
        return ([definition for _index, definition in indexes]
                + [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for table, name, definition in keys])

    def restore(self, statements: list[str]) -> None:
        """Run what `drop_for_bulk` returned (indexes built in one sort each, foreign keys
        validated in one join each)."""
        if statements:
            self.conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))  # sorts in memory
        for statement in statements:
            self.conn.execute(text(statement))


class Chain:
    """Audit events appended after the newest one, hashed with the audit module's digest."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.next_id = writer.next_id(AuditEvent)
        last = writer.conn.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()  # type: ignore[union-attr]
        self.prev = last or ""
        self.rows: list[dict[str, Any]] = []
        self.digester = Digester(audit_key())

    def add(self, at: datetime, actor: Any, action: str, target_type: str, target_id: int,
            changes: dict[str, Any] | None = None) -> None:
        event = {"id": self.next_id, "at": at, "user_id": actor.id, "username": actor.username,
                 "roles": actor.roles, "organisation_id": actor.organisation_id, "action": action,
                 "target_type": target_type, "target_id": str(target_id), "changes": changes, "reason": None,
                 "client_address": None, "request_id": "demo-city", "prev_hash": self.prev}
        event["hash"] = self.prev = self.digester.digest(event)  # the digest reads only its own fields
        self.rows.append(event)
        self.next_id += 1

    def flush(self) -> None:
        self.writer.write(AuditEvent, self.rows)
        self.rows = []

