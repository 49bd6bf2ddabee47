"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 8
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common_passwords.txt"
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """Every reason the password is refused, in the request's language (Chinese outside one);
    empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("密码至少需要 %(n)s 个字符。", n=MIN_LENGTH))
    if password.lower() in common_passwords():
        problems.append(_("这个密码太常见，容易被猜到，请换一个。"))
    if username and password.lower() == username.lower():
        problems.append(_("密码不能与用户名相同。"))
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so both failures take as long.
DUMMY_HASH = _hasher.hash("yiyang-no-such-user")
