"""The real clients in many OS processes, sharing one session through a store.

One fake org is served over real HTTP on 127.0.0.1 (a uvicorn thread of the
test process); worker processes are started with the ``forkserver`` method (fresh
processes forked from a clean server process, never from the test process), reach
it by URL with ``SoapLogin(login_url=...)`` and build their own store client
(a directory, a ``redis.Redis``, a pymongo collection). What the workers did
is checked against the fake org's tables, and its login counter (read over
HTTP from ``/_fake/stats``) says how many logins it took.

Elapsed times are printed for information (``pytest -s``), never asserted.
The ``mp`` and ``store_spec`` fixtures are in ``conftest.py``, the process
helpers in ``process_helpers.py``.
"""

from __future__ import annotations

import signal
import time
from multiprocessing.queues import Queue
from threading import BrokenBarrierError
from typing import Any

import pytest
from client_workers import (
    SYNC_TIMEOUT,
    Report,
    StoreSpec,
    hanging_holder,
    job_after_go_worker,
    many_jobs_worker,
    soap_login,
    two_phase_worker,
)
from process_helpers import collect, join_all, logins, processes, served

from sfbulk_sdk.errors import LockTimeoutError
from sfbulk_sdk.stores import session_key
from sfbulk_sdk.testing import FakeOrg

pytestmark = pytest.mark.slow

WORKERS = 16
#: The dead holder's lock lives this long; the others may wait this plus a margin.
LOCK_TTL = 2.0
LOCK_MARGIN = 20.0


def contacts(org: FakeOrg) -> dict[str, str]:
    """``{Id: LastName}`` of every Contact in the org."""
    return {str(row["Id"]): str(row["LastName"]) for row in org.records("Contact")}


@pytest.mark.parametrize(
    "every_request",
    [
        pytest.param(False, id="default-policy"),
        pytest.param(True, id="store-read-and-written-on-every-request"),
    ],
)
def test_sixteen_processes_log_in_once_then_refresh_once_after_the_org_expires_sessions(
    mp: Any, store_spec: StoreSpec, every_request: bool
) -> None:
    """16 processes share one login; when the org ends every session between two
    phases of work, exactly one of them logs in again and all finish their jobs.

    The second variant turns the cache and the touch throttle off, so the
    conditional writes (renew, compare-and-delete) race with the refresh."""
    org = FakeOrg(query_result_file_rows=2)
    results: Queue[Report] = mp.Queue()
    start = mp.Barrier(WORKERS)
    phase_one_done = mp.Barrier(WORKERS + 1)
    phase_two = mp.Event()
    with served(org) as (url, control), processes(mp) as launch:
        workers = [
            launch(
                two_phase_worker,
                store_spec,
                url,
                worker,
                start,
                phase_one_done,
                phase_two,
                results,
                every_request,
            )
            for worker in range(WORKERS)
        ]
        try:
            phase_one_done.wait(SYNC_TIMEOUT)
        except BrokenBarrierError:
            collect(results, WORKERS, workers)  # fails with the worker's traceback
            raise
        phase_one = collect(results, WORKERS, workers)
        assert logins(control) == 1

        expired = control.post("/_fake/expire-sessions")
        assert expired.status_code == 200
        assert expired.json()["expired"] == 1  # the one shared session
        phase_two.set()
        phase_two_reports = collect(results, WORKERS, workers)
        join_all(workers)
        assert logins(control) == 2
        stats = control.get("/_fake/stats").json()

    table = contacts(org)
    assert len(table) == WORKERS * 6
    by_worker = {r["worker"]: r for r in phase_one}
    assert sorted(by_worker) == list(range(WORKERS))
    for report in phase_two_reports:
        first = by_worker[report["worker"]]
        expected = dict(zip(first["ids"], first["names"], strict=True))
        expected.update(zip(report["ids"], report["names"], strict=True))
        assert {i: table[i] for i in expected} == expected
        queried = [row["Id"] for row in report["query"]]
        assert len(queried) == len(set(queried)) == 6
        assert {row["Id"]: row["LastName"] for row in report["query"]} == expected
    assert stats["failed_logins"] == 0
    print(
        f"\n[{store_spec.backend}{', every request' if every_request else ''}] "
        f"{WORKERS} processes: logins 1 then 2; "
        f"phase 1 max {max(r['elapsed'] for r in phase_one):.2f}s, "
        f"phase 2 max {max(r['elapsed'] for r in phase_two_reports):.2f}s, "
        f"{stats['requests']['total']} requests"
    )


@pytest.mark.parametrize(
    ("forward", "expected_logins"),
    [
        pytest.param(False, 1, id="killed-before-the-login-was-sent"),
        pytest.param(True, 2, id="killed-after-the-org-answered-the-login"),
    ],
)
def test_a_lock_holder_killed_mid_login_delays_the_others_only_until_the_lock_ttl(
    mp: Any, store_spec: StoreSpec, forward: bool, expected_logins: int
) -> None:
    """One process takes the refresh lock and hangs inside the SOAP login; it is
    SIGKILLed. The others, waiting on that lock, get in once its TTL has run
    out (they give up with LockTimeoutError after TTL + margin, so finishing
    proves it), one of them logs in, and all complete their jobs."""
    others = 5
    org = FakeOrg()
    results: Queue[Report] = mp.Queue()
    ready = mp.Barrier(others + 1)
    go = mp.Event()
    locked = mp.Event()
    with served(org) as (url, control), processes(mp) as launch:
        workers = [
            launch(
                job_after_go_worker,
                store_spec,
                url,
                worker,
                LOCK_TTL,
                LOCK_TTL + LOCK_MARGIN,
                ready,
                go,
                results,
            )
            for worker in range(others)
        ]
        try:
            ready.wait(SYNC_TIMEOUT)  # the others are up, before anyone holds the lock
        except BrokenBarrierError:
            collect(results, others, workers)
            raise
        holder = launch(hanging_holder, store_spec, url, LOCK_TTL, locked, forward)
        assert locked.wait(SYNC_TIMEOUT), f"the holder never reached the login ({holder.exitcode})"
        with store_spec.open() as store:
            key = session_key(soap_login(url).fingerprint, prefix=store_spec.key_prefix)
            with pytest.raises(LockTimeoutError), store.lock(key, ttl=LOCK_TTL, wait=0):
                pass  # the hanging holder owns the refresh lock
        go.set()  # the others start while the holder is alive and holds the lock
        holder.kill()
        killed_at = time.monotonic()
        holder.join(10)
        assert holder.exitcode == -signal.SIGKILL
        reports = collect(results, others, workers)
        finished_after = time.monotonic() - killed_at
        join_all(workers)
        assert logins(control) == expected_logins

    table = contacts(org)
    assert len(table) == others * 2
    for report in reports:
        expected = dict(zip(report["ids"], report["names"], strict=True))
        assert {i: table[i] for i in expected} == expected
    print(
        f"\n[{store_spec.backend}] holder killed ({'after' if forward else 'before'} its login "
        f"reached the org): {others} others done {finished_after:.2f}s after the kill "
        f"(lock ttl {LOCK_TTL}s), logins {expected_logins}"
    )


def test_two_hundred_jobs_by_eight_processes_log_in_once(mp: Any, store_spec: StoreSpec) -> None:
    """200 insert jobs spread over 8 processes on one store: 1 login, not 200."""
    jobs, workers_count = 200, 8
    org = FakeOrg()
    results: Queue[Report] = mp.Queue()
    start = mp.Barrier(workers_count)
    with served(org) as (url, control), processes(mp) as launch:
        workers = [
            launch(
                many_jobs_worker,
                store_spec,
                url,
                worker,
                list(range(worker, jobs, workers_count)),
                start,
                results,
            )
            for worker in range(workers_count)
        ]
        reports = collect(results, workers_count, workers)
        join_all(workers)
        assert logins(control) == 1
        stats = control.get("/_fake/stats").json()

    assert stats["jobs"] == jobs
    done: dict[str, str] = {}
    for report in reports:
        done.update(report["records"])
    assert sorted(done.values()) == [f"Job{n:03d}" for n in range(jobs)]
    assert contacts(org) == done
    print(
        f"\n[{store_spec.backend}] {jobs} jobs by {workers_count} processes: 1 login, "
        f"{stats['requests']['total']} requests, "
        f"slowest worker {max(r['elapsed'] for r in reports):.2f}s"
    )
