"""Single flight across real processes, and a holder killed with SIGKILL."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import ServerProcess, sync_redis
from session_fakes import FakeAuth, FakeSend

from sfbulk_sdk.sessions import SessionManager
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.stores.redis import RedisStore

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("session_worker.py")

pytestmark = pytest.mark.slow


@pytest.fixture(params=["file", "redis"])
def shared_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, object]]:
    """``(backend, target, store)``: a store other processes can reach."""
    if request.param == "file":
        directory = tmp_path / "sessions"
        yield "file", str(directory), FileStore(directory)
        return
    server: ServerProcess = request.getfixturevalue("redis_server")
    client = sync_redis(server)
    yield "redis", str(server.port), RedisStore(client)
    client.close()


def worker(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The next stdout line of ``process``, failing (not hanging) after ``timeout``."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            pytest.fail(f"worker printed nothing within {timeout}s")
    return process.stdout.readline()


def test_a_holder_killed_with_sigkill_blocks_others_only_until_the_lock_ttl(
    shared_store: tuple[str, str, object],
) -> None:
    backend, target, store = shared_store
    fingerprint = f"fp-{uuid.uuid4().hex}"
    holder = worker("hold", backend, target, fingerprint, "1.5")
    try:
        line = read_line(holder, 60)
        assert line.strip() == "LOCKED", holder.stderr.read() if holder.stderr else ""
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        if holder.stdout:
            holder.stdout.close()
        if holder.stderr:
            holder.stderr.close()
    assert holder.returncode == -signal.SIGKILL

    send = FakeSend()
    manager = SessionManager(
        FakeAuth(fingerprint),
        store=store,  # type: ignore[arg-type]
        send=send,
        lock_wait=20,  # far beyond the dead holder's 1.5 s lock ttl
    )
    session = manager.get()
    assert send.calls == 1
    assert session.session_id.get_secret_value() == send.ids[0]


def test_concurrent_processes_share_a_single_login(shared_store: tuple[str, str, object]) -> None:
    backend, target, _store = shared_store
    fingerprint = f"fp-{uuid.uuid4().hex}"
    processes = [worker("get", backend, target, fingerprint, "30") for _ in range(4)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["logins"] for r in results) == 1
    assert len({r["digest"] for r in results}) == 1
