"""One throttle for every password check: the login page, the API login, signing an assessment
and changing a password all count against it.

Per account: the first LOGIN_FAILURES_FREE failures within 15 minutes cost nothing; after that
each attempt must wait 30 s × 2**(n - free) since the last failure (capped at 15 minutes).
So a guesser gets a handful of tries an hour, while the owner, whom an attacker can only slow
down and never lock out for good, waits seconds to minutes. Per client address: at most
PASSWORD_FAILURES_PER_IP failures a minute, whatever the accounts, which stops one machine from
spraying many accounts. Counters are shared through Redis when it is configured.
"""

from __future__ import annotations

import math

from flask import current_app
from flask_babel import gettext as _

ACCOUNT_WINDOW_S = 15 * 60
ADDRESS_WINDOW_S = 60
FIRST_DELAY_S = 30
MAX_DELAY_S = 15 * 60


def _counter():  # type: ignore[no-untyped-def]
    return current_app.extensions["yiyang.login_counter"]


def _account_key(account: str) -> str:
    return f"login:{account.strip().lower()}"


def retry_after(account: str, address: str | None) -> int:
    """Seconds the caller must wait before the next password attempt (0: go ahead)."""
    counter = _counter()
    if address:
        limit = current_app.config["PASSWORD_FAILURES_PER_IP"]
        if counter.count(f"ip:{address}", ADDRESS_WINDOW_S) >= limit:
            return ADDRESS_WINDOW_S
    key = _account_key(account)
    failures = counter.count(key, ACCOUNT_WINDOW_S)
    free = current_app.config["LOGIN_FAILURES_FREE"]
    if failures < free:
        return 0
    delay = min(FIRST_DELAY_S * 2 ** (failures - free), MAX_DELAY_S)
    age = counter.age(key, ACCOUNT_WINDOW_S) or 0.0
    return max(0, math.ceil(delay - age))


def note_failure(account: str, address: str | None) -> None:
    """Count a wrong password for the account and the client address."""
    counter = _counter()
    counter.hit(_account_key(account), ACCOUNT_WINDOW_S)
    if address:
        counter.hit(f"ip:{address}", ADDRESS_WINDOW_S)


def clear(account: str) -> None:
    """The right password: the account's failures are forgotten (the address's are not)."""
    _counter().reset(_account_key(account))


def message(seconds: int) -> str:
    """What a person reads when they must wait."""
    return _("密码错误次数过多，请 %(seconds)s 秒后再试。", seconds=seconds)
