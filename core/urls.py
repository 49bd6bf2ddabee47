"""URL converters."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

from core.db import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` limited to what a database key can hold, so /elders/99999999999999999999 is a
    plain 404 instead of an overflow deep in the driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
