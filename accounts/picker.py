"""The organisation picker: the one rule for every page that chooses an organisation (a list's
`org` filter, the statistics, the reward table, the organisation of a user, an elder or a
facility, a facility's operator).

A scope says which organisations may be chosen (visible or managed, active only, one kind). When
it holds at most THRESHOLD of them (a capped count: never the whole tree) the page keeps its
<select> of them all; above (a province) the field is a text box that searches
GET /api/v1/organisations (static/js/org-picker.js, templates/_org_picker.html) and a hidden input
that carries the chosen id under the field's own name. Without JavaScript the text typed into the
box arrives as `<field>_text`; the server takes it as a name or an id, found uniquely within the
same scope, or refuses it with a reason that lists what it could mean. Whatever the page shows,
the submitted id is checked here (`allowed`) against the same scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_
from sqlmodel import Session, select

from accounts.models import Organisation, User
from accounts.queries import scope_roots, under_any
from accounts.tree import is_visible, path_ids
from core.db import valid_id
from core.paging import PagingError, capped_count, literal_contains
from forms.common import choices

THRESHOLD = 200  # more organisations than this to choose from: a search box instead of a <select>
SUFFIX = "_text"  # the text box's field: `org_text` beside the hidden `org`
SUGGESTIONS = 5  # how many organisations a refusal names


@dataclass(frozen=True)
class Scope:
    """Which organisations a field offers and accepts."""

    managed: bool = False  # the user's own subtree only (accounts.queries.managed_org_ids), else visible
    active: bool = False  # active organisations only
    kind: str | None = None  # one kind (ORG_KINDS), e.g. "operator"
    keep: int | None = None  # also this one whatever `active` says (the record's current organisation)

    def api_args(self) -> dict[str, str]:
        """The same scope as GET /api/v1/organisations filters (the page's script searches with them)."""
        return {**({"managed": "1"} if self.managed else {}), **({"active": "1"} if self.active else {}),
                **({"kind": self.kind} if self.kind else {})}


VISIBLE = Scope()


@dataclass
class Picker:
    """What templates/_org_picker.html draws for one field."""

    name: str  # the form field: "org", "organisation_id"
    scope: Scope
    options: list[Organisation] | None  # the <select>'s organisations; None: the search box
    selected: Organisation | None = None
    text: str = ""  # what the search box shows: the chosen organisation's name, or what was typed
    blank: str | None = None  # the empty choice ("全部", "无"); None: one must be chosen
    problem: str | None = None
    api_args: dict[str, str] = field(default_factory=dict)

    @property
    def is_search(self) -> bool:
        return self.options is None

    @property
    def is_invalid(self) -> bool:
        """The box shows a refused text (only a refusal keeps what was typed)."""
        return self.problem is not None or self.text != (self.selected.name if self.selected else "")


def _where(scope: Scope, roots: list[Organisation]) -> list[Any]:
    clauses = [under_any(roots)]
    if scope.kind:
        clauses.append(Organisation.kind == scope.kind)
    if scope.active:
        active = Organisation.is_active.is_(True)  # type: ignore[attr-defined]
        clauses.append(or_(active, Organisation.id == scope.keep) if scope.keep else active)
    return clauses


def _fits(org: Organisation, scope: Scope, roots: list[Organisation]) -> bool:
    return (is_visible(org, roots) and (not scope.kind or org.kind == scope.kind)
            and (not scope.active or org.is_active or org.id == scope.keep))


def allowed(session: Session, user: User, scope: Scope, org_id: Any) -> Organisation | None:
    """The organisation `org_id` names when the scope accepts it, else None (one row and the roots)."""
    key = valid_id(org_id.strip() if isinstance(org_id, str) else org_id)
    org = session.get(Organisation, key) if key is not None else None
    return org if org is not None and _fits(org, scope, scope_roots(session, user, managed=scope.managed)) else None


def build(session: Session, user: User, *, name: str, scope: Scope = VISIBLE, selected: Any = None,
          typed: str | None = None, blank: str | None = None, problem: str | None = None) -> Picker:
    """The picker for one field: the <select>'s organisations in tree order when the scope holds
    at most THRESHOLD (as the pages always listed them), else the search box with the selected
    organisation's name (or, after a refusal, what was typed)."""
    roots = scope_roots(session, user, managed=scope.managed)
    stmt = select(Organisation).where(*_where(scope, roots))
    _count, more = capped_count(session, stmt, THRESHOLD)
    options = None if more else list(session.exec(stmt.order_by(Organisation.path)))  # type: ignore[arg-type]
    key = valid_id(selected.strip() if isinstance(selected, str) else selected)
    chosen = None
    if key is not None:
        if options is not None:
            chosen = next((o for o in options if o.id == key), None)
        else:
            row = session.get(Organisation, key)
            chosen = row if row is not None and _fits(row, scope, roots) else None
    text = typed if typed is not None else (chosen.name if chosen else "")
    return Picker(name=name, scope=scope, options=options, selected=chosen, text=text, blank=blank,
                  problem=problem, api_args=scope.api_args())


def resolve(session: Session, user: User, scope: Scope, text: str) -> tuple[Organisation | None, str | None]:
    """What a typed name or id means within the scope: (organisation, None), or (None, a Chinese
    reason naming up to SUGGESTIONS organisations it could mean, with their ids)."""
    text = " ".join(text.split())
    roots = scope_roots(session, user, managed=scope.managed)
    if text.isdigit():
        org = allowed(session, user, scope, text)
        if org is not None:
            return org, None
    clauses = _where(scope, roots)
    exact = list(session.exec(select(Organisation).where(*clauses, Organisation.name == text)
                              .order_by(Organisation.path).limit(SUGGESTIONS)))  # type: ignore[arg-type]
    if len(exact) == 1:
        return exact[0], None
    if exact:
        return None, _("有多个名为“%(text)s”的机构：%(hits)s。请改填其中一个的编号，或从查找结果中选择。",
                       text=text, hits=_named(session, roots, exact))
    like = list(session.exec(select(Organisation).where(*clauses, literal_contains(Organisation.name, text))
                             .order_by(Organisation.name, Organisation.id).limit(SUGGESTIONS)))  # type: ignore[arg-type]
    if like:
        return None, _("找不到名为“%(text)s”的机构。名称中含有它的有：%(hits)s。请填写完整名称或编号。",
                       text=text, hits=_named(session, roots, like))
    return None, _("找不到名为“%(text)s”的机构（或它不在可选范围内）。", text=text)


def _named(session: Session, roots: list[Organisation], orgs: list[Organisation]) -> str:
    """"上级 / 名称（编号 12）" for each, the names above limited to what the user may see (one query)."""
    above = {i for o in orgs for i in path_ids(o.path)[:-1]}
    names = {o.id: o.name for o in session.exec(select(Organisation).where(Organisation.id.in_(above)))  # type: ignore[union-attr]
             if is_visible(o, roots)} if above else {}
    return "、".join(" / ".join([*(names[i] for i in path_ids(o.path)[:-1] if i in names), o.name])
                    + _("（编号 %(id)s）", id=o.id) for o in orgs)


def read(session: Session, user: User, values: Mapping[str, Any], name: str,
         scope: Scope = VISIBLE) -> tuple[str, Organisation | None, str | None]:
    """A submitted field: (the id it stands for, "" for none; the organisation; a reason it was
    refused). The id comes from `name`, unless `name_text` was sent and does not show the name of
    that organisation: then the text is what the person meant (typed without JavaScript, or not
    picked from the list)."""
    raw = str(values.get(name) or "").strip()
    if name + SUFFIX not in values:
        return raw, allowed(session, user, scope, raw) if raw else None, None
    text = " ".join(str(values.get(name + SUFFIX) or "").split())
    if not text:
        return "", None, None
    shown = allowed(session, user, scope, raw) if raw else None
    if shown is not None and shown.name == text:
        return raw, shown, None
    org, problem = resolve(session, user, scope, text)
    return (str(org.id), org, None) if org is not None else ("", None, problem)


def filter_target(session: Session, user: User, args: Any, name: str = "org") -> dict[str, Any] | None:
    """A list's filter typed as text (`org_text`, no JavaScript): the same query arguments with the
    organisation's id instead, to redirect to (so the pager, the exports and the links all carry
    the id); None when no text was sent. A text that names no visible organisation (or several) is
    a PagingError naming the field, as every bad filter is."""
    if name + SUFFIX not in args:
        return None
    value, _org, problem = read(session, user, args, name, VISIBLE)
    if problem is not None:
        raise PagingError(name, problem)
    target = {k: v for k, v in args.to_dict(flat=False).items() if k not in (name, name + SUFFIX, "cursor")}
    return target | ({name: value} if value else {})


def bind(session: Session, user: User, select_field: Any, scope: Scope, *, formdata: Mapping[str, Any] | None = None,
         blank: str | None = None) -> Picker:
    """A form's SelectField and its picker. The field's choices are the <select>'s organisations,
    or (the search box, or a name typed into it) the one organisation the submission means, so
    WTForms' choice check refuses anything outside the scope as it always did."""
    text_name = select_field.name + SUFFIX
    typed = formdata is not None and text_name in formdata
    problem = None
    if typed:
        _value, org, problem = read(session, user, formdata or {}, select_field.name, scope)
        if org is None and problem is None and blank is None:
            problem = _("请填写机构名称或编号，或从查找结果中选择。")
        select_field.process_errors = []  # the id was read from the text, not coerced from the hidden input
        select_field.data = org.id if org is not None else None
    picker = build(session, user, name=select_field.name, scope=scope, selected=select_field.data, blank=blank)
    if problem is not None:  # the box keeps the refused text, the field says why
        select_field.invalid_choice_message = picker.problem = problem
        picker.text = str((formdata or {}).get(text_name) or "")
    if picker.options is not None and not typed:
        select_field.choices = choices((o.id, o.name) for o in picker.options)
    else:
        chosen = picker.selected
        select_field.choices = choices([(chosen.id, chosen.name)]) if chosen is not None else []
    return picker
