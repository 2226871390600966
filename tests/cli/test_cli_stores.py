"""``--store`` / ``SFBULK_STORE``: the session lives in a real Redis instead of the file store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import InProcess
from tests.servers import ServerProcess, start_redis, sync_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ServerProcess]:
    """A real Redis for this module (stopped at its end)."""
    server = start_redis()
    yield server
    server.stop()


def test_login_and_query_through_a_redis_store(
    redis_server: ServerProcess, inproc: InProcess, tmp_path: Path
) -> None:
    env = {"SFBULK_STORE": redis_server.url}
    done = inproc("login", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["store"] == redis_server.url
    client = sync_redis(redis_server)
    try:
        keys = [k.decode() if isinstance(k, bytes) else k for k in client.keys("sfbulk:session:*")]
        assert len(keys) == 1
        stored = client.get(keys[0])
    finally:
        client.close()
    assert stored is not None and b"session_id" in (
        stored if isinstance(stored, bytes) else stored.encode()
    )
    assert not (inproc.home / "sessions").exists()  # nothing on disk but the profile
    bare = {**env, "SFBULK_PASSWORD": "", "SFBULK_SECURITY_TOKEN": ""}
    done = inproc("query", "SELECT Id FROM Account", "-o", "-", env=bare)
    assert done.returncode == 0, done.stderr
    done = inproc("--store", redis_server.url, "logout", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["forgotten"] is True
