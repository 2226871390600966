"""Helpers for the tests that run the real clients in OS processes.

The ``mp`` (forkserver context) and ``store_spec`` fixtures are in
``conftest.py``; these are the plain helpers: the fake org on a loopback port,
starting and reaping worker processes, collecting their reports.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

import httpx
import pytest
from client_workers import SYNC_TIMEOUT, Report

from sfbulk_sdk.testing import FakeOrg
from sfbulk_sdk.testing.server import serve_in_thread


@contextmanager
def served(org: FakeOrg) -> Iterator[tuple[str, httpx.Client]]:
    """The org on a loopback port, and an HTTP client for its ``/_fake`` controls."""
    with serve_in_thread(org) as url, httpx.Client(base_url=url, timeout=30) as control:
        yield url, control


def logins(control: httpx.Client) -> int:
    response = control.get("/_fake/stats")
    response.raise_for_status()
    return int(response.json()["logins"])


@contextmanager
def processes(mp: Any) -> Iterator[Callable[..., BaseProcess]]:
    """Start processes with ``start(target, *args)``; all are killed and reaped at the end."""
    started: list[BaseProcess] = []

    def start(target: Callable[..., None], *args: Any) -> BaseProcess:
        process: BaseProcess = mp.Process(target=target, args=args, daemon=True)
        process.start()
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.is_alive():
                process.kill()
        for process in started:
            process.join(10)
            process.close()


def collect(results: Queue[Report], count: int, workers: list[BaseProcess]) -> list[Report]:
    """``count`` reports from the workers; fails at the first error report."""
    reports: list[Report] = []
    deadline = time.monotonic() + SYNC_TIMEOUT
    while len(reports) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"only {len(reports)} of {count} worker reports arrived")
        try:
            report = results.get(timeout=min(remaining, 1.0))
        except queue.Empty:  # are the workers still alive?
            dead = [p.exitcode for p in workers if p.exitcode not in (None, 0)]
            if dead:
                pytest.fail(f"worker processes died with exit codes {dead}")
            continue
        if "error" in report:
            fail_with_causes(report, results)
        reports.append(report)
    return reports


def fail_with_causes(first: Report, results: Queue[Report]) -> None:
    """Fail with the workers' own errors, not the broken barriers they left behind."""
    errors = [first]
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            report = results.get(timeout=0.2)
        except queue.Empty:
            continue
        if "error" in report:
            errors.append(report)
    causes = [r for r in errors if not r["broken"]] or errors
    pytest.fail("\n".join(f"worker {r['worker']} failed:\n{r['error']}" for r in causes[:3]))


def join_all(workers: list[BaseProcess]) -> None:
    for process in workers:
        process.join(SYNC_TIMEOUT)
    assert [p.exitcode for p in workers] == [0] * len(workers)
