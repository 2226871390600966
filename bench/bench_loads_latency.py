"""A load of 200 Bulk 1.0 batches at concurrency 10 with a fixed delay on every request.

The fake org runs in its own process over HTTPS and waits ``--latency``
seconds (default 0.1) before answering each request. Each batch needs at least
two round trips (upload it, read its results), so with perfect overlap the
load takes ``batches / concurrency x 2 x latency`` (4.0 s for the defaults):
the ideal. The wall time of ``bulk.insert(...)`` (encoding and login included)
is printed beside it with the ratio (target: at most 1.3), for the sync and
the async client at the same concurrency, alternating for ``--runs`` rounds,
with the client's CPU time, the requests the fake counted by kind, and the
sync client's wall time over the async one's (target: at most 1). Nothing is
asserted.

    .venv/bin/python bench/bench_loads_latency.py [--batches 200] [--concurrency 10] \
        [--latency 0.1] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import ssl
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from clients import PASSWORD, TOKEN, USERNAME, VERSION, make_records
from orgproc import Tls, fake_org, make_tls

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.core.outcomes import LoadResult
from sfbulk_sdk.core.policy import PollPolicy

ROUND_TRIPS_PER_BATCH = 2  # upload the batch, read its results
#: Poll soon and often: the fake finishes a batch as soon as it has it.
POLL = PollPolicy(initial=0.01, factor=1.5, max_interval=0.2)


def requests_made(url: str, tls: Tls) -> dict[str, int]:
    """The requests the fake org answered, by kind (its own control requests left out)."""
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    with urllib.request.urlopen(f"{url}/_fake/stats", context=context, timeout=30) as reply:
        stats = json.loads(reply.read())
    counts = {k: int(v) for k, v in stats["requests"].items() if k not in ("total", "control")}
    return {k: v for k, v in counts.items() if v}


def cpu_seconds() -> float:
    """The CPU time this process (the client: every thread of it) used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def login(url: str) -> SoapLogin:
    import warnings

    with warnings.catch_warnings():  # the fake serves SOAP login; its retirement is noise here
        warnings.simplefilter("ignore")
        return SoapLogin(USERNAME, PASSWORD, TOKEN, login_url=url)


def settings(args: argparse.Namespace) -> dict[str, object]:
    """The load's options: Bulk 1.0, ``--batch-size`` records a batch, ``--concurrency``."""
    return {
        "api": "bulk1",
        "batch_size": args.batch_size,
        "concurrency": args.concurrency,
        "progress": None,
    }


def checked(result: LoadResult, records: int, started: float) -> float:
    """The wall time since ``started``, once the result says every record loaded."""
    wall = time.perf_counter() - started
    if not result.ok or len(result) != records:
        raise SystemExit(f"the load did not succeed: {result!r}")
    return wall


def run_sync(url: str, tls: Tls, rows: list[dict[str, object]], args: argparse.Namespace) -> float:
    with (
        httpx.Client(verify=str(tls.ca_file), timeout=60) as http,
        Bulk(auth=login(url), http_client=http, poll=POLL, api_version=VERSION) as bulk,
    ):
        started = time.perf_counter()
        return checked(bulk.insert("Account", rows, **settings(args)), len(rows), started)  # type: ignore[arg-type]


def run_async(url: str, tls: Tls, rows: list[dict[str, object]], args: argparse.Namespace) -> float:
    async def load() -> float:
        async with (
            httpx.AsyncClient(verify=str(tls.ca_file), timeout=60) as http,
            AsyncBulk(auth=login(url), http_client=http, poll=POLL, api_version=VERSION) as bulk,
        ):
            started = time.perf_counter()
            result = await bulk.insert("Account", rows, **settings(args))  # type: ignore[arg-type]
            return checked(result, len(rows), started)

    return anyio.run(load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = make_records(args.batches * args.batch_size)
    ideal = args.batches / args.concurrency * ROUND_TRIPS_PER_BATCH * args.latency
    print(
        f"{args.batches} batches of {args.batch_size} records at concurrency "
        f"{args.concurrency}, {args.latency * 1000:.0f} ms per request; ideal {ideal:.2f} s "
        f"({args.batches} / {args.concurrency} x {ROUND_TRIPS_PER_BATCH} round trips x "
        f"{args.latency * 1000:.0f} ms)"
    )
    walls: dict[str, list[float]] = {"sync Bulk": [], "async AsyncBulk": []}
    with tempfile.TemporaryDirectory() as folder:
        tls = make_tls(Path(folder))
        for run_number in range(1, args.runs + 1):
            for name, run in (("sync Bulk", run_sync), ("async AsyncBulk", run_async)):
                with fake_org(tls, latency=args.latency) as (url, _server):
                    cpu = cpu_seconds()
                    wall = run(url, tls, records, args)
                    cpu = cpu_seconds() - cpu
                    calls = requests_made(url, tls)
                walls[name].append(wall)
                kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(calls.items()))
                print(
                    f"  run {run_number} {name}: {wall:.2f} s wall = {wall / ideal:.2f}x ideal "
                    f"(target <= 1.3); client CPU {cpu:.2f} s; {sum(calls.values())} requests: "
                    f"{kinds}"
                )
    sync, async_ = (statistics.median(walls[name]) for name in walls)
    print(
        f"median of {args.runs}: sync {sync:.2f} s = {sync / ideal:.2f}x ideal, "
        f"async {async_:.2f} s = {async_ / ideal:.2f}x ideal; "
        f"sync / async = {sync / async_:.2f} (target <= 1)"
    )


if __name__ == "__main__":
    main()
