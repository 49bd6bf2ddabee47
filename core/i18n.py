"""Labels kept as data (code → Chinese label) and translated when a page shows them.

`N_()` marks a string for extraction without translating it at import time (the module is
imported before any request has a language). `Labels` wraps such a table for templates: every
label read through it comes back in the request's language.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping


def N_(message: str) -> str:
    """Mark a string for the translation catalog; it is translated where it is shown."""
    return message


class Labels(Mapping[str, str]):
    """A read-only code → label table whose labels are translated on every read."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = dict(table)

    def __getitem__(self, key: str) -> str:
        from flask_babel import gettext

        return str(gettext(self._table[key]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)
