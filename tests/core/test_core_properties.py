"""Property-based tests for the validators and helpers of the foundation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.passwords import MIN_LENGTH, common_passwords, password_problems
from core.crypto import FieldCipher, mask_id_number, mask_phone
from core.db import MAX_ID, valid_id

CIPHER = FieldCipher("property-key")


@given(st.text(max_size=200))
def test_encryption_round_trips_any_text(value: str) -> None:
    token = CIPHER.encrypt(value)
    assert CIPHER.decrypt(token) == (value or None)
    if len(value) >= 4:
        assert value not in (token or "")


@given(st.text(alphabet="0123456789X", min_size=11, max_size=18))
def test_masks_hide_the_middle_and_keep_length(value: str) -> None:
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    assert masked[:6] == value[:6] and masked[-4:] == value[-4:]
    assert set(masked[6:-4]) <= {"*"}
    phone = mask_phone(value)
    assert len(phone) == len(value) and phone[:3] == value[:3]


@given(st.text(max_size=40), st.text(max_size=20))
def test_password_policy_is_total_and_consistent(password: str, username: str) -> None:
    problems = password_problems(password, username=username)
    assert isinstance(problems, list) and all(isinstance(p, str) and p for p in problems)
    acceptable = (len(password) >= MIN_LENGTH and password.lower() not in common_passwords()
                  and (not username or password.lower() != username.lower()))
    assert (problems == []) == acceptable


@given(st.one_of(st.integers(), st.text(max_size=30), st.none(), st.booleans(), st.floats(allow_nan=True)))
@settings(max_examples=300)
def test_valid_id_accepts_only_database_keys(value: object) -> None:
    key = valid_id(value)
    assert key is None or (isinstance(key, int) and 0 < key <= MAX_ID)
