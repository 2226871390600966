"""The pure freshness policy: no clock, no store, just a session and ``now``."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone

import pytest
from session_fakes import make_session

from sfbulk_sdk.errors import InvalidInputError
from sfbulk_sdk.sessions import SessionPolicy

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("seconds_valid", "margin", "touch"),
    [(7200, 300, 60), (900, 90, 60), (300, 30, 30), (28800, 300, 60)],
)
def test_margin_and_touch_interval_scale_with_the_timeout(
    seconds_valid: int, margin: float, touch: float
) -> None:
    policy = SessionPolicy()
    session = make_session(T0, seconds_valid=seconds_valid)
    assert policy.margin(session) == timedelta(seconds=margin)
    assert policy.touch_interval(session) == timedelta(seconds=touch)
    assert policy.touch_interval(session) <= policy.margin(session)


def test_a_session_is_fresh_until_the_margin_before_its_expiry() -> None:
    policy = SessionPolicy()
    session = make_session(T0)  # expires at T0 + 7200 s, margin 300 s
    assert session.expires_at == at(7200)
    assert policy.is_fresh(session, at(0))
    assert policy.is_fresh(session, at(6899.999))
    assert not policy.is_fresh(session, at(6900))
    assert not policy.is_expired(session, at(7199.999))
    assert policy.is_expired(session, at(7200))


def test_using_a_session_moves_its_expiry() -> None:
    policy = SessionPolicy()
    session = make_session(T0).touched(at(3600))
    assert session.expires_at == at(10800)
    assert policy.is_fresh(session, at(7200))
    assert policy.store_ttl(session, at(3600)) == 7200.0
    assert policy.store_ttl(session, at(10801)) == -1.0


def test_last_used_at_is_written_back_at_most_once_per_interval() -> None:
    policy = SessionPolicy()
    session = make_session(T0)
    assert not policy.needs_touch(session, at(0))
    assert not policy.needs_touch(session, at(59.9))
    assert policy.needs_touch(session, at(60))
    assert not policy.needs_touch(session.touched(at(60)), at(100))


def test_the_cache_is_reused_for_cache_seconds_only() -> None:
    policy = SessionPolicy(cache_seconds=5)
    assert policy.cache_valid(at(0), at(0))
    assert policy.cache_valid(at(0), at(4.999))
    assert not policy.cache_valid(at(0), at(5))
    assert not policy.cache_valid(at(10), at(0))  # the clock went back
    assert not SessionPolicy(cache_seconds=0).cache_valid(at(0), at(0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"margin_seconds": -1},
        {"touch_seconds": math.nan},
        {"cache_seconds": math.inf},
        {"margin_fraction": 1.0},
        {"touch_fraction": -0.1},
    ],
)
def test_policy_values_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        SessionPolicy(**kwargs)


def test_the_policy_is_immutable() -> None:
    policy = SessionPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.margin_seconds = 1  # type: ignore[misc]
