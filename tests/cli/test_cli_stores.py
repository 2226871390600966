"""``--store`` / ``SFBULK_STORE``: the session lives in a real Redis or MongoDB, not in a file.

The servers are the run's shared ones (``tests/conftest.py``); each test keeps
to a database of its own (Redis database 7, MongoDB database
``sfbulk_cli_test``), emptied first, so what it counts is only what the CLI wrote.
"""

from __future__ import annotations

import json
import socket

from tests.cli.conftest import InProcess
from tests.servers import ServerProcess, sync_mongo, sync_redis

REDIS_DB = 7
MONGO_DB = "sfbulk_cli_test"


def _login_and_query(inproc: InProcess, store: str) -> None:
    """Log in through ``store``, then query with no secrets given (the stored session serves)."""
    env = {"SFBULK_STORE": store}
    done = inproc("login", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["store"] == store
    assert not (inproc.home / "sessions").exists()  # nothing on disk but the profile
    bare = {**env, "SFBULK_PASSWORD": "", "SFBULK_SECURITY_TOKEN": ""}
    done = inproc("query", "SELECT Id FROM Account", "-o", "-", env=bare)
    assert done.returncode == 0, done.stderr


def test_login_and_query_through_a_redis_store(
    redis_server: ServerProcess, inproc: InProcess
) -> None:
    store = f"{redis_server.url}/{REDIS_DB}"
    client = sync_redis(redis_server, db=REDIS_DB)
    try:
        client.flushdb()
        _login_and_query(inproc, store)
        keys = [k.decode() if isinstance(k, bytes) else k for k in client.keys("sfbulk:session:*")]
        assert len(keys) == 1
        stored = client.get(keys[0])
        assert stored is not None and b"session_id" in (
            stored if isinstance(stored, bytes) else stored.encode()
        )
        done = inproc("--store", store, "logout", "--json")
        assert done.returncode == 0 and json.loads(done.stdout)["forgotten"] is True
        assert client.keys("sfbulk:session:*") == []
    finally:
        client.close()


def test_login_and_query_through_a_mongodb_store(
    mongo_server: ServerProcess, inproc: InProcess
) -> None:
    store = f"{mongo_server.url}/{MONGO_DB}?directConnection=true"
    client = sync_mongo(mongo_server)
    try:
        sessions = client[MONGO_DB]["sessions"]
        sessions.delete_many({})
        _login_and_query(inproc, store)
        docs = list(sessions.find({}))
        assert len(docs) == 1
        assert "session_id" in json.dumps(docs[0], default=str)
        done = inproc("--store", store, "logout", "--json")
        assert done.returncode == 0 and json.loads(done.stdout)["forgotten"] is True
        assert sessions.count_documents({}) == 0
    finally:
        client.close()


def test_a_store_urls_password_is_never_shown(
    redis_server: ServerProcess, inproc: InProcess
) -> None:
    # a Redis user of its own, with a password (the server's default user keeps none)
    client = sync_redis(redis_server, db=REDIS_DB)
    secret = "redis-Pa55-for-the-cli"
    try:
        client.flushdb()
        client.execute_command("ACL", "SETUSER", "clitest", "on", f">{secret}", "~*", "&*", "+@all")
        host = redis_server.url.split("://", 1)[1]
        store = f"redis://clitest:{secret}@{host}/{REDIS_DB}"
        done = inproc("login", "--json", env={"SFBULK_STORE": store})
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["store"] == f"redis://clitest:***@{host}/{REDIS_DB}"
        shown = inproc("login", env={"SFBULK_STORE": store})  # the summary table too
        assert shown.returncode == 0 and "clitest:***@" in shown.stdout + shown.stderr
        assert secret not in "".join(inproc.seen) + done.stderr + shown.stdout + shown.stderr
        assert len(client.keys("sfbulk:session:*")) == 1
        # the profile keeps the store without its password: later commands ask for it
        bare = inproc("query", "SELECT Id FROM Account", "-o", "-")
        assert bare.returncode == 2 and "--store or SFBULK_STORE" in bare.stderr
        assert f"clitest:***@{host}" in bare.stderr and secret not in bare.stderr
        assert secret not in (inproc.home / "profile.json").read_text()
    finally:
        client.execute_command("ACL", "DELUSER", "clitest")
        client.close()


def test_a_store_that_cannot_be_reached_is_named_not_blamed_on_the_login(
    inproc: InProcess,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends
    done = inproc("login", env={"SFBULK_STORE": f"redis://127.0.0.1:{port}/0"})
    assert done.returncode == 5, done.stderr
    assert "check --store" in done.stderr and "sfbulk login' again" not in done.stderr


def test_a_damaged_grant_record_asks_to_authorise_again() -> None:
    from sfbulk_sdk.cli.exits import ExitCode, describe
    from sfbulk_sdk.core.grants import UnreadableGrantError

    error = describe(UnreadableGrantError("the grant record sfbulk:grant:x", "not JSON"))
    assert error.code == ExitCode.AUTH and "sfbulk login" in error.hint
