"""The definition registry: every (id, version) of every instrument and rating scheme.

Two layers, one lookup. The database table `definition_version` holds what `yiyang init` seeded
from the shipped packs and what analysts imported (drafts, published, retired). The shipped packs
themselves are the floor: a shipped (id, version) the table does not hold yet counts as published,
so a fresh database (or none, for `yiyang score`) still finds them. A row always wins over the
shipped file of the same (id, version).

`get_definition(session, id, version=None)` is the one lookup: a version named is returned
whatever its status (records keep the version they were captured with, retired or not); no
version means the newest published one. Parsed definitions are cached by (id, version, checksum).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlmodel import Session, col, select

from scoring import Definition, DefinitionError, load_definition_text

from . import UnknownDefinitionError, builtin_packs, checksum, version_key
from .models import DefinitionVersion

CACHE_SIZE = 256
_parsed: OrderedDict[tuple[str, str, str], Definition] = OrderedDict()


@dataclass(frozen=True)
class Entry:
    """One version in the registry, from a row or from a shipped pack."""

    id: str
    version: str
    kind: str
    title: str
    status: str
    checksum: str
    builtin: bool
    row: DefinitionVersion | None = None
    shipped: Definition | None = None


class RegistryError(ValueError):
    """A registry operation that cannot be done (the message says why, in Chinese)."""

    def __init__(self, message: str, message_en: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en
        self.status = status


def shipped() -> dict[tuple[str, str], Definition]:
    """The packs the running code ships, by (id, version); inside the app, what it loaded."""
    packs = {key: pack.definition for key, pack in builtin_packs().items()}
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - Flask is a dependency
        return packs
    if has_app_context():
        loaded = current_app.extensions.get("yiyang.definitions") or {}
        packs.update({(d.id, d.version): d for d in loaded.values()})
    return packs


@contextmanager
def lookup_session(session: Session | None = None) -> Iterator[Session | None]:
    """The session to read the registry with: the one given, else the request's (or the test's)
    session, else a short read-only one on the app's engine, else None (no app: shipped packs).

    Never opens the request session itself: `core.db.get_session()` has effects in tests."""
    if session is not None:
        yield session
        return
    from flask import current_app, g, has_app_context

    if not has_app_context():
        yield None
        return
    ambient = g.get("db")
    if ambient is None and current_app.config.get("DB_SESSION_FACTORY"):
        ambient = current_app.config["DB_SESSION_FACTORY"]()
    if ambient is not None:
        yield ambient
        return
    engine = current_app.extensions.get("yiyang.engine")
    if engine is None:
        yield None
        return
    with Session(engine, expire_on_commit=False) as temporary:
        yield temporary


def _rows(session: Session | None, definition_id: str | None = None) -> list[DefinitionVersion]:
    if session is None:
        return []
    stmt = select(DefinitionVersion)
    if definition_id is not None:
        stmt = stmt.where(DefinitionVersion.definition_id == definition_id)
    return list(session.exec(stmt.order_by(col(DefinitionVersion.id))))


def entries(session: Session | None, definition_id: str | None = None) -> list[Entry]:
    """Every version (rows and shipped packs not yet seeded), by id then newest version first."""
    found: dict[tuple[str, str], Entry] = {}
    for (pack_id, version), definition in shipped().items():
        if definition_id is None or pack_id == definition_id:
            pack = builtin_packs().get((pack_id, version))
            found[(pack_id, version)] = Entry(
                pack_id, version, definition.kind, definition.title.zh, "published",
                pack.checksum if pack else "", True, shipped=definition)
    for row in _rows(session, definition_id):
        found[(row.definition_id, row.version)] = Entry(
            row.definition_id, row.version, row.kind, row.title, row.status, row.checksum,
            row.builtin, row=row)
    newest_first = sorted(found.values(), key=lambda e: version_key(e.version), reverse=True)
    return sorted(newest_first, key=lambda e: e.id)


def definition_of(entry: Entry) -> Definition:
    """Parse (once per checksum) the definition an entry holds."""
    if entry.row is None:
        assert entry.shipped is not None
        return entry.shipped
    key = (entry.id, entry.version, entry.checksum)
    cached = _parsed.get(key)
    if cached is not None:
        _parsed.move_to_end(key)
        return cached
    definition = load_definition_text(entry.row.source, source=f"{entry.id}@{entry.version}")
    _parsed[key] = definition
    while len(_parsed) > CACHE_SIZE:
        _parsed.popitem(last=False)
    return definition


def choose(versions: Iterable[Entry], version: str | None, *, drafts: bool = False) -> Entry | None:
    """The entry for `version`, or the newest published (then, with `drafts`, the newest draft)."""
    ordered = sorted(versions, key=lambda e: version_key(e.version), reverse=True)
    if version is not None:
        return next((e for e in ordered if e.version == str(version)), None)
    published = [e for e in ordered if e.status == "published"]
    if published:
        return published[0]
    if drafts:
        return next((e for e in ordered if e.status == "draft"), None)
    return None


def get_entry(session: Session | None, definition_id: str, version: str | None = None, *,
              kind: str | None = None, drafts: bool = False) -> Entry:
    """The registry entry for (id, version); UnknownDefinitionError when there is none."""
    versions = entries(session, definition_id)
    entry = choose(versions, version, drafts=drafts)
    if entry is None or (kind is not None and entry.kind != kind):
        known = sorted({e.id for e in entries(session) if kind is None or e.kind == kind})
        raise UnknownDefinitionError(definition_id, version, known)
    return entry


def get_definition(session: Session | None, definition_id: str, version: str | None = None, *,
                   kind: str | None = None, drafts: bool = False) -> Definition:
    """The one lookup: (id, version) → Definition; version None = the newest published one."""
    return definition_of(get_entry(session, definition_id, version, kind=kind, drafts=drafts))


def published(session: Session | None, kind: str | None = None) -> dict[str, Definition]:
    """The newest published version of every id (of one kind), by id."""
    by_id: dict[str, list[Entry]] = {}
    for entry in entries(session):
        if kind is None or entry.kind == kind:
            by_id.setdefault(entry.id, []).append(entry)
    out: dict[str, Definition] = {}
    for definition_id, versions in sorted(by_id.items()):
        chosen = choose(versions, None)
        if chosen is not None:
            out[definition_id] = definition_of(chosen)
    return out


def source_of(entry: Entry) -> str:
    """The YAML text of an entry (the row's source, or the shipped file)."""
    if entry.row is not None:
        return entry.row.source
    pack = builtin_packs().get((entry.id, entry.version))
    if pack is not None:
        return pack.text
    from .yamlio import dump_yaml

    assert entry.shipped is not None
    return dump_yaml(entry.shipped)


# --- changes ----------------------------------------------------------------------------------


def _row(session: Session, definition_id: str, version: str) -> DefinitionVersion | None:
    return session.exec(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition_id,
        DefinitionVersion.version == str(version))).first()


def store(session: Session, text: str, *, user_id: int | None = None, note: str = "",
          publish: bool = False, builtin: bool = False,
          organisation_id: int | None = None) -> DefinitionVersion:
    """Store a new version from YAML text (validated first); DefinitionError lists every problem.

    An (id, version) already in the registry with other content is refused: a version's
    content never changes once stored. The same content again is a no-op.
    """
    from core.timeutil import utcnow

    from .yamlio import parse_yaml

    definition = parse_yaml(text)
    digest = checksum(text)
    existing = _row(session, definition.id, definition.version)
    if existing is not None:
        if existing.checksum != digest:
            raise RegistryError(
                f"{definition.id} 第 {definition.version} 版已存在且内容不同；请改用新的版本号",
                f"{definition.id} version {definition.version} exists with other content; "
                "use a new version number")
        if publish and existing.status == "draft":
            return publish_version(session, definition.id, definition.version, user_id=user_id)
        return existing
    pack = builtin_packs().get((definition.id, definition.version))
    if pack is not None and pack.checksum != digest and not builtin:
        raise RegistryError(
            f"{definition.id} 第 {definition.version} 版是内置版本；请改用新的版本号",
            f"{definition.id} version {definition.version} is a shipped version; use a new version number")
    row = DefinitionVersion(
        definition_id=definition.id, version=definition.version, kind=definition.kind,
        title=definition.title.zh[:200], source=text, checksum=digest,
        status="published" if publish else "draft", builtin=builtin, change_note=note[:1000],
        created_by_id=user_id, organisation_id=organisation_id)
    if publish:
        row.published_at, row.published_by_id = utcnow(), user_id
    session.add(row)
    session.flush()
    return row


def _existing(session: Session, definition_id: str, version: str) -> DefinitionVersion:
    row = _row(session, definition_id, version)
    if row is not None:
        return row
    if (definition_id, str(version)) in builtin_packs():
        seed_builtin(session, only={(definition_id, str(version))})
        row = _row(session, definition_id, version)
        if row is not None:
            return row
    raise RegistryError(f"没有 {definition_id} 第 {version} 版", f"no {definition_id} version {version}", 404)


def publish_version(session: Session, definition_id: str, version: str, *,
                    user_id: int | None = None) -> DefinitionVersion:
    """draft → published (new records use it from now on; old records keep theirs)."""
    from core.timeutil import utcnow

    row = _existing(session, definition_id, version)
    if row.status == "published":
        return row
    if row.status == "retired":
        raise RegistryError(f"{definition_id} 第 {version} 版已停用，不能再发布",
                            f"{definition_id} version {version} is retired and cannot be published again")
    row.status, row.published_at, row.published_by_id = "published", utcnow(), user_id
    session.add(row)
    session.flush()
    return row


def retire_version(session: Session, definition_id: str, version: str, *,
                   user_id: int | None = None) -> DefinitionVersion:
    """draft or published → retired: no new records use it; records captured with it still open."""
    from core.timeutil import utcnow

    row = _existing(session, definition_id, version)
    if row.status == "retired":
        return row
    row.status, row.retired_at, row.retired_by_id = "retired", utcnow(), user_id
    session.add(row)
    session.flush()
    return row


def seed_builtin(session: Session, only: set[tuple[str, str]] | None = None) -> list[tuple[str, str, str]]:
    """Store every shipped pack the table does not hold; returns (id, version, what) per change.

    A shipped version whose file changed since it was seeded is updated in place and reported
    ("updated"): shipped files are the code's to correct. Rows imported by people are never
    touched.
    """
    from core.timeutil import utcnow

    changes: list[tuple[str, str, str]] = []
    for (definition_id, version), pack in sorted(builtin_packs().items()):
        if only is not None and (definition_id, version) not in only:
            continue
        row = _row(session, definition_id, version)
        if row is None:
            definition = pack.definition
            session.add(DefinitionVersion(
                definition_id=definition_id, version=version, kind=definition.kind,
                title=definition.title.zh[:200], source=pack.text, checksum=pack.checksum,
                status="published", builtin=True, change_note=f"内置 {pack.file}",
                published_at=utcnow()))
            changes.append((definition_id, version, "added"))
        elif row.builtin and row.checksum != pack.checksum:
            row.source, row.checksum = pack.text, pack.checksum
            session.add(row)
            changes.append((definition_id, version, "updated"))
    session.flush()
    return changes


__all__ = [
    "DefinitionError",
    "Entry",
    "RegistryError",
    "choose",
    "definition_of",
    "entries",
    "get_definition",
    "get_entry",
    "lookup_session",
    "publish_version",
    "published",
    "retire_version",
    "seed_builtin",
    "shipped",
    "source_of",
    "store",
]
