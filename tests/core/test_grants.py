"""Refresh-token grants under rotation: which token is sent, what the store records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr

from sfbulk_sdk.core.grants import MAX_HISTORY, GrantRecord, choose_token
from sfbulk_sdk.errors import InvalidInputError, RefreshTokenRevokedError

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
T0, T1, T2 = (SecretStr(f"5Aep-refresh-{i}") for i in range(3))


def _rotated(*tokens: SecretStr) -> GrantRecord:
    record = GrantRecord(refresh_token=tokens[0], updated_at=NOW)
    for token in tokens[1:]:
        record = record.sending(NOW).rotated(token, NOW)
    return record


def test_a_first_refresh_seeds_the_record_with_the_given_token() -> None:
    choice = choose_token(None, T0, now=NOW)
    assert choice.reset and choice.token is T0
    assert choice.record.history == () and choice.record.rotations == 0


def test_a_worker_holding_a_rotated_token_sends_the_stores_current_one() -> None:
    stored = _rotated(T0, T1, T2)
    for given in (T0, T1, T2):
        choice = choose_token(stored, given, now=NOW)
        assert choice.token.get_secret_value() == T2.get_secret_value()
        assert not choice.reset
    assert stored.rotations == 2 and len(stored.history) == 2


def test_a_token_the_store_never_saw_is_a_new_authorisation() -> None:
    stored = _rotated(T0, T1).revoked("expired access/refresh token", NOW)
    fresh = SecretStr("5Aep-after-reauthorisation")
    choice = choose_token(stored, fresh, now=NOW)
    assert choice.reset and choice.token is fresh and choice.record.revoked_at is None
    # the old tokens stay known, so a worker still holding one is not taken for new
    assert choice.record.knows(stored.digest) and all(
        choice.record.knows(d) for d in stored.history
    )


def test_a_revoked_grant_is_never_sent_again() -> None:
    stored = _rotated(T0, T1).revoked("expired access/refresh token", NOW)
    for given in (T0, T1):
        with pytest.raises(RefreshTokenRevokedError, match="Re-authorise the app") as caught:
            choose_token(stored, given, now=NOW)
        assert caught.value.error == "invalid_grant"
        assert T1.get_secret_value() not in str(caught.value)


def test_an_unanswered_refresh_is_reported_to_the_next_worker() -> None:
    sent_at = NOW - timedelta(seconds=40)
    stored = GrantRecord(refresh_token=T0, updated_at=NOW).sending(sent_at)
    choice = choose_token(stored, T0, now=NOW)
    assert choice.unanswered_since == sent_at and choice.token is stored.refresh_token


def test_a_refresh_without_rotation_keeps_the_token_and_clears_the_marker() -> None:
    record = GrantRecord(refresh_token=T0, updated_at=NOW).sending(NOW)
    kept = record.rotated(SecretStr(T0.get_secret_value()), NOW)
    assert kept.pending_since is None and kept.rotations == 0 and kept.history == ()


def test_the_history_is_bounded() -> None:
    record = GrantRecord(refresh_token=T0, updated_at=NOW)
    for i in range(MAX_HISTORY + 10):
        record = record.rotated(SecretStr(f"t{i}"), NOW)
    assert len(record.history) == MAX_HISTORY and record.rotations == MAX_HISTORY + 10


def test_records_round_trip_through_the_store_form_and_hide_the_token() -> None:
    record = _rotated(T0, T1).sending(NOW)
    data = record.to_store_dict()
    assert GrantRecord.from_store_dict(data) == record
    assert T1.get_secret_value() not in repr(record)
    with pytest.raises(InvalidInputError) as caught:
        GrantRecord.from_store_dict({**data, "updated_at": 3})
    assert T1.get_secret_value() not in str(caught.value)
    with pytest.raises(InvalidInputError, match="not a version 1 grant record"):
        GrantRecord.from_store_dict({"v": 2})
