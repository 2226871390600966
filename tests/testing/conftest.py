"""Fixtures for the fake org's tests."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pytest

from sfbulk_sdk.testing import FakeOrg, ManualClock

if TYPE_CHECKING:
    from oauth_support import KeyPair

START = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def org(clock: ManualClock) -> FakeOrg:
    """An org on a manual clock with instant processing."""
    return FakeOrg(clock=clock)


@pytest.fixture(scope="session")
def keys() -> KeyPair:
    """An RSA key pair with a self-signed certificate, for an app's JWT bearer flow."""
    from oauth_support import make_key_pair  # skips without PyJWT / cryptography

    return make_key_pair("app-key")


@pytest.fixture(scope="session")
def other_keys() -> KeyPair:
    """A second key pair, which no app holds."""
    from oauth_support import make_key_pair

    return make_key_pair("stranger")
