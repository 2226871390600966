"""A real local Spark (``local[4,2]``), the fake org as its own process, a real Redis.

* ``fake_org``: ``python -m sfbulk_sdk.cli fake-org`` on a free loopback port,
  seeded once with 200,000 Accounts (and 20,000 Contacts for the smaller
  runs); its ``/_fake`` controls count logins and list jobs.
* ``redis_server``: a real Redis-compatible server (``tests/servers.py``).
* ``spark``: one session for the whole module set (Spark's start-up is the
  slow part), four cores and ``local[4,2]`` so that a failed task is retried
  once, with its event log written to a temporary directory that
  ``test_secrets.py`` reads. It runs in ``SPARK_TIME_ZONE`` (``TZ`` of the JVM
  and its Python workers, and the session time zone), not UTC.

The org's password and security token are the fake's defaults; they reach
the driver and the executors as environment variables only (never as options,
never on a command line), as the docs tell users to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pyspark.sql import SparkSession
from servers import ServerProcess, free_port, stop_process
from spark_world import ACCOUNTS, CONTACTS, SPARK_TIME_ZONE, Org, SparkDirs

from sfbulk_sdk.spark import register
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
)


def _seed(control: httpx.Client, sobject: str, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), 25_000):
        control.post(
            f"/_fake/records/{sobject}", json=rows[start : start + 25_000]
        ).raise_for_status()


QUIET = ("--log-level", "warning")


@pytest.fixture(scope="session")
def fake_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    port = free_port()
    log = (tmp_path_factory.mktemp("fake-org") / "org.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "sfbulk_sdk.cli", "fake-org", "--port", str(port), *QUIET],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    control = httpx.Client(base_url=url, timeout=120)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                control.get("/_fake/stats").raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the fake org process did not start")
                time.sleep(0.2)
        accounts: list[dict[str, object]] = [
            {
                "Name": f"Account {i}",
                "AccountNumber": f"A-{i:06d}",
                "NumberOfEmployees": i % 5000,
                "AnnualRevenue": i * 10.5,
            }
            for i in range(ACCOUNTS)
        ]
        _seed(control, "Account", accounts)
        contacts: list[dict[str, object]] = [
            {"LastName": f"Contact {i}", "Title": f"C-{i:05d}"} for i in range(CONTACTS)
        ]
        _seed(control, "Contact", contacts)
        yield Org(url, control, process)
    finally:
        control.close()
        stop_process(process)
        log.close()


@pytest.fixture(scope="session")
def spark_dirs(tmp_path_factory: pytest.TempPathFactory) -> SparkDirs:
    root = tmp_path_factory.mktemp("spark")
    (root / "events").mkdir()
    return SparkDirs(root / "events", root / "output.log")


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Standard output and error (file descriptors 1 and 2) to ``path`` for a while.

    The Spark JVM started meanwhile inherits them: its log and the output of
    every executor's Python worker go to that file for the whole session.
    """
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in [*saved, target]:
            os.close(fd)


@pytest.fixture(scope="session")
def spark(spark_dirs: SparkDirs, fake_org: Org) -> Iterator[SparkSession]:
    # Secrets travel as environment variables only: the executors' Python
    # workers inherit them from the driver.
    env = pytest.MonkeyPatch()
    env.setenv("SFBULK_PASSWORD", DEFAULT_PASSWORD)
    env.setenv("SFBULK_SECURITY_TOKEN", DEFAULT_SECURITY_TOKEN)
    env.setenv("PYSPARK_PYTHON", sys.executable)
    env.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Not UTC, for the JVM and every Python worker it starts: a timestamp
    # written or read must keep its instant whatever the local time zone.
    env.setenv("TZ", SPARK_TIME_ZONE)
    builder = (
        SparkSession.builder.master("local[4,2]")
        .appName("sfbulk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", spark_dirs.events.as_uri())
        # Plain text, so that a secret in it would be found by a text search.
        .config("spark.eventLog.compress", "false")
        .config("spark.task.maxFailures", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", SPARK_TIME_ZONE)
    )
    with _output_to(spark_dirs.output):
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    register(session)
    try:
        yield session
    finally:
        session.stop()
        env.undo()


@pytest.fixture
def options(fake_org: Org, redis_server: ServerProcess) -> dict[str, str]:
    """Connection options with a store key prefix of its own: a fresh shared session."""
    return {
        "loginUrl": fake_org.url,
        "username": DEFAULT_USERNAME,
        "store": f"redis://127.0.0.1:{redis_server.port}/0",
        "storeKeyPrefix": f"sfbulk-test:{uuid.uuid4().hex}:",
    }
