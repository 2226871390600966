"""Worker processes for the refresh-token rotation tests (``test_grant_rotation_processes.py``).

Each is the ``target`` of a ``forkserver`` process: it builds its own store
from a :class:`~client_workers.StoreSpec` (or a private memory store, for the
control run), a :class:`~sfbulk_sdk.Bulk` with a
:class:`~sfbulk_sdk.auth.RefreshToken` against the served fake org, runs a
job per phase and reports plain dicts through a queue. No worker reports or
prints a token.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event

import httpx
from client_workers import FAST_POLL, SYNC_TIMEOUT, Report, StoreSpec, insert_contacts, last_names

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import RefreshToken
from sfbulk_sdk.errors import SfBulkError
from sfbulk_sdk.stores import MemoryStore, SessionStore


@contextmanager
def _store(spec: StoreSpec | None) -> Iterator[SessionStore | None]:
    if spec is None:  # the control run: every worker on a private memory store
        yield MemoryStore()
        return
    with spec.open() as store:
        yield store


def _bulk(
    auth: RefreshToken,
    store: SessionStore | None,
    prefix: str,
    transport: httpx.BaseTransport | None = None,
) -> Bulk:
    http = httpx.Client(transport=transport, timeout=30) if transport else httpx.Client(timeout=30)
    return Bulk(
        auth=auth,
        store=store,
        http_client=http,
        poll=FAST_POLL,
        # lock_ttl: at least the login timeout (27 s), as a refresh-token grant requires
        session_options={"key_prefix": prefix, "lock_ttl": 27.0, "lock_wait": 120.0},
    )


def rotation_worker(
    spec: StoreSpec | None,
    url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    worker: int,
    phases: int,
    start: Barrier,
    phase_done: Barrier,
    go: list[Event],
    results: Queue[Report],
) -> None:
    """Run one job per phase; between phases the test expires every access token."""
    auth = RefreshToken(client_id, refresh_token, client_secret=client_secret, login_url=url)
    prefix = spec.key_prefix if spec is not None else f"private-{worker}:"
    try:
        with _store(spec) as store, _bulk(auth, store, prefix) as bulk:
            for phase in range(phases):
                if phase == 0:
                    start.wait(SYNC_TIMEOUT)
                elif not go[phase].wait(SYNC_TIMEOUT):
                    raise TimeoutError(f"phase {phase} never started")
                try:
                    ids = insert_contacts(bulk, last_names(worker, phase, 2))
                except SfBulkError as exc:
                    results.put({"worker": worker, "phase": phase, "refused": type(exc).__name__})
                    phase_done.wait(SYNC_TIMEOUT)
                    continue
                results.put({"worker": worker, "phase": phase, "ids": ids})
                phase_done.wait(SYNC_TIMEOUT)
    except BaseException:
        results.put({"worker": worker, "error": traceback.format_exc(), "broken": False})


class DieAfterTokenReply(httpx.BaseTransport):
    """Forwards requests; kills this process as soon as a token reply has arrived.

    That is the worst moment to die: Salesforce has rotated the refresh token,
    and the new one has not reached the store.
    """

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.url.path.endswith("/services/oauth2/token"):
            response.read()
            os.kill(os.getpid(), signal.SIGKILL)
        return response

    def close(self) -> None:
        self._inner.close()


def dying_refresher(
    spec: StoreSpec, url: str, client_id: str, client_secret: str, refresh_token: str
) -> None:
    """Refresh the grant, and die (SIGKILL) right after the token endpoint answered."""
    auth = RefreshToken(client_id, refresh_token, client_secret=client_secret, login_url=url)
    with spec.open() as store, _bulk(auth, store, spec.key_prefix, DieAfterTokenReply()) as bulk:
        bulk.create_job("insert", "Contact")  # never returns: the process is killed


def next_worker(
    spec: StoreSpec,
    url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    results: Queue[Report],
) -> None:
    """The worker after the dead one: what does the refresh do now?"""
    auth = RefreshToken(client_id, refresh_token, client_secret=client_secret, login_url=url)
    try:
        with spec.open() as store, _bulk(auth, store, spec.key_prefix) as bulk:
            try:
                job = bulk.create_job("insert", "Contact")
            except SfBulkError as exc:
                results.put({"worker": 1, "refused": type(exc).__name__, "message": str(exc)})
                return
            results.put({"worker": 1, "job": job.id})
    except BaseException:
        results.put({"worker": 1, "error": traceback.format_exc(), "broken": False})
