"""Refresh-token rotation under contention: 16 processes, one grant, no reuse.

With rotation on, every refresh returns a new refresh token and kills the old
one, and a reuse of an old one revokes the grant for everyone (spec §9). Here
16 worker processes share one :class:`~sfbulk_sdk.auth.RefreshToken` login
through a store (file, Redis, MongoDB-protocol server), the fake org expires
every access token twice during the run, and its counters must show exactly
one refresh per expiry (plus the first login), **zero reuses of a rotated
token**, the grant alive and every job complete. The same run with each worker
on its own memory store shows the fake revoking the grant: the test can fail.

A worker killed right after the token endpoint answered (before the new token
reached the store) loses that token: the next worker's refresh then fails, and
its error says so plainly.
"""

from __future__ import annotations

from multiprocessing.queues import Queue
from threading import BrokenBarrierError
from typing import Any

import pytest
from client_workers import SYNC_TIMEOUT, Report, StoreSpec
from grant_workers import dying_refresher, next_worker, rotation_worker
from process_helpers import collect, join_all, processes, served

from sfbulk_sdk.testing import DEFAULT_USERNAME, ExternalClientApp, FakeOrg

pytestmark = pytest.mark.slow

WORKERS = 16
PHASES = 3  # work, expire every token, work, expire again, work


def _org() -> tuple[FakeOrg, ExternalClientApp, str]:
    org = FakeOrg()
    app = org.oauth.add_app("etl", client_id="etl-app", rotate_refresh_tokens=True)
    return org, app, org.oauth.issue_refresh_token(app, DEFAULT_USERNAME)


def _run(mp: Any, spec: StoreSpec | None) -> tuple[list[Report], dict[str, Any], FakeOrg]:
    """Run the 16 workers through the phases; returns their reports and the OAuth counters."""
    org, app, token = _org()
    results: Queue[Report] = mp.Queue()
    start = mp.Barrier(WORKERS)
    phase_done = mp.Barrier(WORKERS + 1)
    go = [mp.Event() for _ in range(PHASES)]
    reports: list[Report] = []
    with served(org) as (url, control), processes(mp) as launch:
        workers = [
            launch(
                rotation_worker,
                spec,
                url,
                app.client_id,
                app.client_secret,
                token,
                worker,
                PHASES,
                start,
                phase_done,
                go,
                results,
            )
            for worker in range(WORKERS)
        ]
        for phase in range(PHASES):
            try:
                phase_done.wait(SYNC_TIMEOUT)
            except BrokenBarrierError:
                collect(results, WORKERS, workers)
                raise
            reports += collect(results, WORKERS, workers)
            if phase < PHASES - 1:
                expired = control.post("/_fake/expire-sessions").json()["expired"]
                # With a shared store the grant is alive and its sessions expire; in
                # the control the grant (and every session from it) is already revoked.
                assert expired >= 1 or spec is None
                go[phase + 1].set()
        join_all(workers)
        stats = control.get("/_fake/oauth/stats").json()
    return reports, stats, org


def test_sixteen_processes_share_one_rotating_grant_without_a_single_reuse(
    mp: Any, store_spec: StoreSpec
) -> None:
    reports, stats, org = _run(mp, store_spec)
    done = [r for r in reports if "ids" in r]
    assert len(done) == WORKERS * PHASES, [r for r in reports if "ids" not in r][:3]
    refreshes = stats["grants"]["refresh_token"]
    assert refreshes["successes"] == 1 + (PHASES - 1)  # the first login, then one per expiry
    assert refreshes["failures"] == 0
    assert stats["refresh_token_reuse"] == 0
    assert stats["families_revoked"] == 0 and stats["live_families"] == 1
    assert org.count("Contact") == WORKERS * PHASES * 2
    print(
        f"\n[{store_spec.backend}] {WORKERS} workers x {PHASES} phases: "
        f"{refreshes['successes']} refreshes, {stats['refresh_token_reuse']} reuses"
    )


def test_without_a_shared_store_the_workers_reuse_a_rotated_token_and_lose_the_grant(
    mp: Any,
) -> None:
    """The control: each worker on its own memory store sends the token it was given."""
    reports, stats, _ = _run(mp, None)
    assert stats["refresh_token_reuse"] >= 1
    assert stats["families_revoked"] >= 1 and stats["live_families"] == 0
    refused = [r for r in reports if "refused" in r]
    assert refused and {r["refused"] for r in refused} <= {
        "RefreshTokenRevokedError",
        "InvalidSessionError",
    }


def test_a_worker_killed_after_the_token_reply_loses_the_grant_and_the_next_says_so(
    mp: Any, store_spec: StoreSpec
) -> None:
    org, app, token = _org()
    results: Queue[Report] = mp.Queue()
    with served(org) as (url, control), processes(mp) as launch:
        dying = launch(dying_refresher, store_spec, url, app.client_id, app.client_secret, token)
        dying.join(SYNC_TIMEOUT)
        assert dying.exitcode == -9  # SIGKILL, right after Salesforce rotated the token
        assert control.get("/_fake/oauth/stats").json()["grants"]["refresh_token"]["successes"] == 1
        successor = launch(
            next_worker, store_spec, url, app.client_id, app.client_secret, token, results
        )
        (report,) = collect(results, 1, [successor])
        join_all([successor])
        stats = control.get("/_fake/oauth/stats").json()
    # The new refresh token died with the worker: the stored one was rotated away,
    # so sending it is a reuse, and Salesforce revokes the grant.
    assert report["refused"] == "RefreshTokenRevokedError"
    message = report["message"]
    assert "stopped before it could store the new one" in message
    assert "Re-authorise the app" in message
    assert stats["refresh_token_reuse"] == 1 and stats["live_families"] == 0
    assert token not in message
