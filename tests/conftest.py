"""Shared test fixtures.

Recorded Salesforce responses live in ``../shared/fixtures`` beside the
project; they are read in place and never copied. Where that folder is absent
(a user's clone) the tests that need it skip with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = Path(
    os.environ.get("SFBULK_SHARED_FIXTURES", _ROOT.parent / "shared" / "fixtures")
)


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The folder of recorded responses, or skip when it is not there."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"recorded fixtures not present at ../shared/fixtures ({SHARED_FIXTURES.name})")
    return SHARED_FIXTURES


def read_fixture(name: str) -> bytes:
    """Read one recorded response by its path under ``../shared/fixtures``."""
    path = SHARED_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"recorded fixture {name} not present (../shared/fixtures is absent)")
    return path.read_bytes()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"
