"""Shared test fixtures, and the check that every ``peer`` marker names its complaint.

Recorded Salesforce responses live in ``../shared/fixtures`` beside the
project; they are read in place and never copied. Where that folder is absent
(a user's clone) the tests that need it skip with a clear reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerProcess, start_mongo, start_redis
from tests.tls import Tls, make_tls

# Shared helpers that assert: their failures are explained as a test's own are.
pytest.register_assert_rewrite("tests.org_clients", "tests.client.mock_replies")

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


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A test-only CA and a certificate for 127.0.0.1, for the HTTPS tests."""
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ServerProcess]:
    """A real Redis-protocol server, started once for the run when a test first asks.

    Tests that share it keep apart by key prefix or database number. A server
    that cannot start is an error, never a skip: CI runs these tests for real.
    """
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[ServerProcess]:
    """A real MongoDB wire-protocol server (SecantusDB), started once for the run."""
    server = start_mongo()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio."""
    return "asyncio"


#: What a ``peer`` marker may name: a complaint of spec/peers.md section 3, and
#: peer issues or pull requests spelled ``project#number``. Complaints 12
#: (Bulk 2.0), 13 (async: ``AsyncBulk`` is the whole async twin, see
#: ``tests/package/test_public_api.py``) and 14 (Bulk 2.0 ``/resultPages``) are
#: about features outside Bulk API 1.0 and have no test.
PEER_COMPLAINTS: frozenset[int | str] = frozenset({*range(1, 16), "also"})
_PEER_SOURCE = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?#[0-9]+")


def _peer_marker_problem(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("peer")
    if marker is None:
        return None
    complaint = marker.kwargs.get("complaint")
    if complaint not in PEER_COMPLAINTS or set(marker.kwargs) != {"complaint"}:
        return f"complaint={complaint!r} is not a complaint of spec/peers.md section 3"
    bad = [s for s in marker.args if not isinstance(s, str) or not _PEER_SOURCE.fullmatch(s)]
    if bad:
        return f"sources {bad!r} are not spelled 'project#number'"
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    named = '"Also telling"' if complaint == "also" else f"Complaint {complaint}"
    if named not in doc:
        return f"its docstring does not say where it came from ({named})"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A ``peer`` marker names a real complaint, and the test's docstring names it too."""
    problems = [f"{item.nodeid}: {p}" for item in items if (p := _peer_marker_problem(item))]
    if problems:
        raise pytest.UsageError("bad peer markers:\n" + "\n".join(problems))
