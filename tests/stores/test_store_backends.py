"""What only one backend can show: file modes and crash safety, Redis native
expiry, the MongoDB TTL index, connection failures, optional extras."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pymongo
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from servers import ServerProcess, free_port, sync_mongo, sync_redis
from session_fakes import SECRET_MARK, FakeClock, make_session

import sfbulk_sdk.stores as stores
import sfbulk_sdk.stores.base as stores_base
from sfbulk_sdk.errors import InvalidInputError, LockTimeoutError, SessionStoreError
from sfbulk_sdk.stores import DEFAULT_KEY_PREFIX, session_key
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.stores.memory import AsyncMemoryStore, MemoryStore
from sfbulk_sdk.stores.mongodb import AsyncMongoStore, MongoStore
from sfbulk_sdk.stores.redis import RedisStore

ROOT = Path(__file__).resolve().parents[2]


def new_key() -> str:
    return f"sfbulk:session:test-{uuid.uuid4().hex}"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- key naming and package exports ---------------------------------------------


def test_session_key_is_prefix_plus_fingerprint() -> None:
    assert DEFAULT_KEY_PREFIX == "sfbulk:session:"
    assert session_key("abc123") == "sfbulk:session:abc123"
    assert session_key("abc123", prefix="myapp:") == "myapp:abc123"
    for bad in ("", "has space"):
        with pytest.raises(InvalidInputError):
            session_key(bad)
    with pytest.raises(InvalidInputError):
        session_key("abc", prefix="bad prefix")


def test_the_stores_package_exports_eagerly_and_lazily() -> None:
    # The package lists its in-process stores, then sfbulk_sdk.stores.base's names
    # (the protocols, records and key helpers), each once and each the same object.
    assert stores.__all__ == ["AsyncMemoryStore", "MemoryStore", *stores_base.__all__]
    assert len(set(stores.__all__)) == len(stores.__all__) == 16
    for name in stores_base.__all__:
        assert getattr(stores, name) is getattr(stores_base, name), name
    assert (stores.MemoryStore, stores.AsyncMemoryStore) == (MemoryStore, AsyncMemoryStore)
    assert stores.RedisStore is RedisStore
    assert stores.MongoStore is MongoStore
    assert stores.FileStore is FileStore
    assert {"AsyncRedisStore", "AsyncMongoStore", "AsyncFileStore"} <= set(dir(stores))
    with pytest.raises(AttributeError):
        _ = stores.NoSuchStore  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("sfbulk_sdk.stores.redis", "redis", "redis"),
        ("sfbulk_sdk.stores.mongodb", "pymongo", "mongodb"),
        ("sfbulk_sdk.stores.file", "filelock", "file"),
    ],
)
def test_a_missing_extra_is_an_import_error_naming_it(
    module: str, blocked: str, extra: str
) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules[{blocked!r}] = None
        import sfbulk_sdk.stores as s
        try:
            import {module}
        except ImportError as exc:
            print("IMPORT-ERROR:", exc)
        try:
            s.{ {"redis": "RedisStore", "mongodb": "MongoStore", "file": "FileStore"}[extra] }
        except ImportError as exc:
            print("LAZY-ERROR:", exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    hint = f"pip install 'sfbulk-sdk[{extra}]'"
    assert f"IMPORT-ERROR: sfbulk_sdk.stores.{module.rsplit('.', 1)[1]} needs" in done.stdout
    assert done.stdout.count(hint) == 2, done.stdout + done.stderr


# -- file store -------------------------------------------------------------------


def test_file_store_creates_a_private_directory_and_private_files(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "sessions"
    store = FileStore(directory)
    assert mode_of(directory) == 0o700
    key = new_key()
    session = make_session(FakeClock()())
    store.set(key, session, 600)
    with store.lock(key, ttl=30, wait=0):
        files = sorted(p for p in directory.iterdir())
        suffixes = {p.suffix for p in files}
        # The per-key ".lock" file may or may not outlive its release.
        assert {".json", ".lease"} <= suffixes <= {".json", ".lease", ".lock"}
        for path in files:
            assert mode_of(path) == 0o600, path.name
    data = next(directory.glob("*.json"))
    assert session.session_id.get_secret_value() in data.read_text()
    assert SECRET_MARK not in data.name
    assert data.name.startswith("sfbulk_session_test-")


def test_file_store_warns_about_a_shared_existing_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    with caplog.at_level(logging.WARNING, logger="sfbulk_sdk"):
        FileStore(directory)
    assert "accessible to other users (mode 755)" in caplog.text


def test_file_store_refuses_a_path_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "not-a-dir"
    path.write_text("x")
    with pytest.raises(SessionStoreError, match="not a directory"):
        FileStore(path)


def test_a_failed_replace_keeps_the_previous_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path / "s")
    key = new_key()
    clock = FakeClock()
    old = make_session(clock())
    store.set(key, old, 600)
    new = make_session(clock())

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(SessionStoreError, match="No space left on device") as caught:
        store.set(key, new, 600)
    monkeypatch.undo()
    assert new.session_id.get_secret_value() not in str(caught.value)
    found = store.get(key)
    assert found is not None
    assert found.session_id.get_secret_value() == old.session_id.get_secret_value()
    assert not list((tmp_path / "s").glob(".tmp-*")), "the temporary file was not removed"


def test_a_process_killed_mid_write_leaves_the_previous_session_readable(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    store = FileStore(directory)
    key = new_key()
    old = make_session(FakeClock()())
    store.set(key, old, 600)
    # The child writes a new session and is SIGKILLed after writing the
    # temporary file, before os.replace.
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from session_fakes import FakeClock, make_session
        from sfbulk_sdk.stores.file import FileStore

        def die(fd):
            os.kill(os.getpid(), signal.SIGKILL)

        store = FileStore({str(directory)!r})
        os.fsync = die
        store.set({key!r}, make_session(FakeClock()()), 600)
        print("NOT KILLED")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    leftovers = list(directory.glob(".tmp-*"))
    assert len(leftovers) == 1  # the torn write is left behind, never read
    found = store.get(key)
    assert found is not None
    assert found.session_id.get_secret_value() == old.session_id.get_secret_value()
    # And the store keeps working (the per-key lock died with the process).
    newer = make_session(FakeClock()())
    store.set(key, newer, 600)
    assert store.get(key) == newer


def test_an_unreadable_file_counts_as_absent_until_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore(tmp_path / "s")
    key = new_key()
    store.set(key, make_session(FakeClock()()), 600)
    path = next((tmp_path / "s").glob("*.json"))
    path.write_text("{ torn")
    with caplog.at_level(logging.WARNING, logger="sfbulk_sdk"):
        assert store.get(key) is None
    assert f"file store ({path.name}): ignoring an unreadable stored session" in caplog.text
    assert "not valid JSON" in caplog.text
    assert path.read_text() == "{ torn"  # left alone: only a login replaces it
    fresh = make_session(FakeClock()())
    store.set(key, fresh, 600)
    assert store.get(key) == fresh


def test_an_expired_file_is_removed_when_read(tmp_path: Path) -> None:
    clock = FakeClock()
    store = FileStore(tmp_path / "s", clock=clock)
    key = new_key()
    store.set(key, make_session(clock()), 60)
    assert len(list((tmp_path / "s").glob("*.json"))) == 1
    clock.advance(61)
    assert store.get(key) is None
    assert list((tmp_path / "s").glob("*.json")) == []


# -- Redis ------------------------------------------------------------------------


@pytest.fixture
def redis_client(redis_server: ServerProcess) -> Iterator[redis.Redis]:
    client = sync_redis(redis_server)
    yield client
    client.close()


def test_redis_expires_entries_natively(redis_client: redis.Redis) -> None:
    store = RedisStore(redis_client)
    key = new_key()
    session = make_session(FakeClock()())
    store.set(key, session, 600)
    assert 590_000 < int(redis_client.pttl(key)) <= 600_000  # type: ignore[arg-type]
    store.renew(key, session, 1200)
    assert 1_190_000 < int(redis_client.pttl(key)) <= 1_200_000  # type: ignore[arg-type]
    with store.lock(key, ttl=30, wait=0):
        assert 29_000 < int(redis_client.pttl(f"{key}:lock")) <= 30_000  # type: ignore[arg-type]
    assert redis_client.exists(f"{key}:lock") == 0


def test_redis_store_works_with_decoded_responses(redis_server: ServerProcess) -> None:
    client = sync_redis(redis_server, decode_responses=True)
    try:
        store = RedisStore(client)
        key = new_key()
        session = make_session(FakeClock()())
        store.set(key, session, 600)
        assert store.get(key) == session
        assert store.renew(key, session, 600) is True
        with store.lock(key, ttl=5, wait=0), pytest.raises(LockTimeoutError):
            store.lock(key, ttl=5, wait=0).__enter__()
        assert store.compare_and_delete(key, session.session_id.get_secret_value()) is True
    finally:
        client.close()


def test_redis_conditional_writes_never_match_a_foreign_value(redis_client: redis.Redis) -> None:
    store = RedisStore(redis_client)
    key = new_key()
    redis_client.set(key, "not json", px=60_000)
    assert store.compare_and_delete(key, "x") is False
    assert store.renew(key, make_session(FakeClock()()), 600) is False
    assert redis_client.get(key) == b"not json"


def test_an_unreachable_redis_is_a_store_error() -> None:
    client = redis.Redis(
        host="127.0.0.1",
        port=free_port(),
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    store = RedisStore(client)
    session = make_session(FakeClock()())
    with pytest.raises(SessionStoreError, match="redis store: GET failed: ConnectionError"):
        store.get(new_key())
    with pytest.raises(SessionStoreError, match="SET failed") as caught:
        store.set(new_key(), session, 60)
    assert session.session_id.get_secret_value() not in str(caught.value)
    with pytest.raises(SessionStoreError, match="cannot take lock"):
        store.lock(new_key(), ttl=5, wait=0).__enter__()
    client.close()


# -- MongoDB ----------------------------------------------------------------------


@pytest.fixture
def mongo_collection(
    mongo_server: ServerProcess,
) -> Iterator[pymongo.collection.Collection[dict[str, Any]]]:
    client = sync_mongo(mongo_server)
    collection = client["sfbulk_tests"][f"b_{uuid.uuid4().hex[:12]}"]
    yield collection
    collection.drop()
    client.close()


def test_mongo_creates_a_ttl_index_and_dates_the_documents(
    mongo_collection: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    clock = FakeClock()
    store = MongoStore(mongo_collection, clock=clock)
    key = new_key()
    session = make_session(clock())
    store.set(key, session, 600)
    indexes = {ix["name"]: ix for ix in mongo_collection.list_indexes()}
    assert indexes["expires_at_1"]["expireAfterSeconds"] == 0
    assert dict(indexes["expires_at_1"]["key"]) == {"expires_at": 1}
    doc = mongo_collection.find_one({"_id": key})
    assert doc is not None
    expected = (clock() + timedelta(seconds=600)).replace(tzinfo=None)
    assert abs(doc["expires_at"] - expected) < timedelta(seconds=5)
    with store.lock(key, ttl=30, wait=0):
        lock_doc = mongo_collection.find_one({"_id": f"lock:{key}"})
        assert lock_doc is not None
        assert lock_doc["kind"] == "lock"
        assert len(lock_doc["token"]) == 32
    assert mongo_collection.find_one({"_id": f"lock:{key}"}) is None


@pytest.mark.parametrize(
    "damaged",
    [
        {"expires_at": "2020-01-01T00:00:00Z"},  # a string, in the past
        {"expires_at": "9999-12-31T00:00:00Z"},  # a string, "in the future"
        {"expires_at": 9e12},  # a number, not a date
        {"expires_at": None},
        {},  # no expiry at all
    ],
    ids=["string-past", "string-future", "number", "null", "missing"],
)
def test_mongo_takes_over_a_lock_whose_expiry_is_not_a_date(
    mongo_collection: pymongo.collection.Collection[dict[str, Any]], damaged: dict[str, Any]
) -> None:
    # The TTL index never removes such a document and no expiry comparison
    # matches it: left alone it would block every worker forever. It is taken
    # over, as the file store replaces an unreadable lease file.
    store = MongoStore(mongo_collection, lock_poll=0.01)
    key = new_key()
    mongo_collection.insert_one({"_id": f"lock:{key}", "kind": "lock", "token": "x", **damaged})
    with store.lock(key, ttl=30, wait=0):
        lock_doc = mongo_collection.find_one({"_id": f"lock:{key}"})
        assert lock_doc is not None
        assert lock_doc["token"] != "x"
        assert isinstance(lock_doc["expires_at"], datetime)
    assert mongo_collection.find_one({"_id": f"lock:{key}"}) is None


@pytest.mark.anyio
async def test_the_async_mongo_store_takes_over_a_lock_without_an_expiry(
    mongo_server: ServerProcess,
) -> None:
    client: pymongo.AsyncMongoClient[dict[str, Any]] = pymongo.AsyncMongoClient(
        mongo_server.host, mongo_server.port, directConnection=True, serverSelectionTimeoutMS=5000
    )
    collection = client["sfbulk_tests"][f"b_{uuid.uuid4().hex[:12]}"]
    try:
        store = AsyncMongoStore(collection, lock_poll=0.01)
        key = new_key()
        await collection.insert_one({"_id": f"lock:{key}", "token": "x", "expires_at": "soon"})
        async with store.lock(key, ttl=30, wait=0):
            lock_doc = await collection.find_one({"_id": f"lock:{key}"})
            assert lock_doc is not None and lock_doc["token"] != "x"
    finally:
        await collection.drop()
        await client.close()


def test_mongo_still_waits_for_a_live_lock_dated_in_the_future(
    mongo_collection: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    store = MongoStore(mongo_collection, lock_poll=0.01)
    key = new_key()
    future = datetime.now(timezone.utc) + timedelta(minutes=5)
    mongo_collection.insert_one({"_id": f"lock:{key}", "token": "x", "expires_at": future})
    with pytest.raises(LockTimeoutError):
        store.lock(key, ttl=30, wait=0.05).__enter__()
    lock_doc = mongo_collection.find_one({"_id": f"lock:{key}"})
    assert lock_doc is not None and lock_doc["token"] == "x"


def test_mongo_can_leave_index_creation_to_the_operator(
    mongo_collection: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    store = MongoStore(mongo_collection, create_index=False)
    store.set(new_key(), make_session(FakeClock()()), 600)
    assert [ix["name"] for ix in mongo_collection.list_indexes()] == ["_id_"]


def test_mongo_filters_carry_a_digest_not_the_session_id(
    mongo_collection: pymongo.collection.Collection[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # pymongo's DEBUG command log shows whole documents written and read (the
    # session id among them: docs/sessions.md says to keep it off), but the
    # filters of reads, compare-and-delete and the lock never carry the id.
    store = MongoStore(mongo_collection)
    key = new_key()
    session = make_session(FakeClock()())
    store.set(key, session, 600)
    with caplog.at_level(logging.DEBUG, logger="pymongo.command"):
        store.get(key)
        assert store.compare_and_delete(key, session.session_id.get_secret_value()) is True
        with store.lock(key, ttl=5, wait=0):
            pass
    started = [
        r.getMessage()
        for r in caplog.records
        if r.name == "pymongo.command" and "Command started" in r.getMessage()
    ]
    assert len(started) == 4  # find, delete, lock upsert, lock delete
    for text in started:
        assert session.session_id.get_secret_value() not in text


def test_an_unreachable_mongodb_is_a_store_error() -> None:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        "127.0.0.1", free_port(), directConnection=True, serverSelectionTimeoutMS=300
    )
    store = MongoStore(client["db"]["sessions"])
    with pytest.raises(SessionStoreError, match="cannot create the TTL index: ServerSelection"):
        store.get(new_key())
    client.close()


def test_a_pymongo_collection_of_any_document_type_type_checks_as_the_stores_collection(
    tmp_path: Path,
) -> None:
    # The stores take a Protocol of the collection methods they call (no Any in
    # their signatures); what users pass, ``client.db.sessions``, must still
    # type-check, and an async collection handed to the sync store must not.
    user_code = tmp_path / "user_code.py"
    text = textwrap.dedent(
        """
        from typing import Any

        import pymongo
        from bson.raw_bson import RawBSONDocument

        from sfbulk_sdk.stores import AsyncMongoStore, MongoStore


        def dicts(client: pymongo.MongoClient[dict[str, Any]]) -> MongoStore:
            return MongoStore(client.db.sessions)


        def raw(client: pymongo.MongoClient[RawBSONDocument]) -> MongoStore:
            return MongoStore(client["db"]["sessions"])


        def in_async(client: pymongo.AsyncMongoClient[dict[str, Any]]) -> AsyncMongoStore:
            return AsyncMongoStore(client.db.sessions)


        def crossed(client: pymongo.AsyncMongoClient[dict[str, Any]]) -> MongoStore:
            return MongoStore(client.db.sessions)  # the one error
        """
    )
    user_code.write_text(text)
    line = next(n for n, code in enumerate(text.splitlines(), 1) if "the one error" in code)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary"]
    done = subprocess.run(
        [*command, "--cache-dir", str(tmp_path / "cache"), str(user_code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    errors = [out for out in done.stdout.splitlines() if ": error:" in out]
    assert len(errors) == 1, done.stdout + done.stderr
    assert f'user_code.py:{line}: error: Argument 1 to "MongoStore"' in errors[0]
    assert '"MongoCollection"' in errors[0]


def test_mongo_store_repr_names_the_collection(
    mongo_collection: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    assert repr(MongoStore(mongo_collection)) == f"MongoStore({mongo_collection.full_name!r})"


def test_a_backend_error_quoting_the_session_leaves_no_trace_of_it_in_the_chain() -> None:
    session = make_session(FakeClock()())
    secret = session.session_id.get_secret_value()

    class _EchoingRedis:  # a backend (or proxy) whose refusal quotes the command
        def register_script(self, script: str) -> object:
            return lambda **kwargs: None

        def set(self, key: str, value: object, **options: object) -> None:
            raise redis.exceptions.ResponseError(f"refused SET {key} {value!r}")

    with pytest.raises(SessionStoreError, match="SET failed") as caught:
        RedisStore(_EchoingRedis()).set(new_key(), session, 60)  # type: ignore[arg-type]
    error = caught.value
    assert error.__cause__ is None
    for link in (error, error.__context__):
        assert secret not in str(link) and secret not in repr(link)
