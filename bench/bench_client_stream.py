"""Throughput and memory of the client against the fake org over real HTTP.

The fake org runs in its own process (``sfbulk fake-org``), so the numbers are
the client's alone: CSV ingest with ``batch_create_from_csv`` (splitting,
uploading, waiting, reading per-record results), then a query whose results
are streamed record by record across several result files with
``iter_query_results``. Peak memory is measured with tracemalloc on a
separate run, so it does not slow the timed one. Numbers are printed, never
asserted.

    .venv/bin/python bench/bench_client_stream.py [--records 200000]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from contextlib import AbstractContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from orgproc import fake_org

from sfbulk_sdk import Bulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME


def fake_org_process(file_rows: int) -> AbstractContextManager[tuple[str, object]]:
    """The fake org over plain HTTP in its own process (see ``bench/peers/orgproc.py``)."""
    return fake_org(None, file_rows=file_rows)


def write_csv(path: Path, records: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Industry", "Description"])
        for i in range(records):
            writer.writerow([f"Account {i}", "Energy", f"row {i} with some text, quoted"])


def run(url: str, path: Path, records: int, measure_memory: bool) -> dict[str, float]:
    auth = SoapLogin(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=url)
    out: dict[str, float] = {}
    # polling waits 50 ms at most: the fake org finishes batches almost at once
    with Bulk(auth=auth, sleep=lambda _s: time.sleep(0.05)) as bulk:
        if measure_memory:
            tracemalloc.start()
        start = time.perf_counter()
        job = bulk.job_create("insert", "Account")
        bulk.batch_create_from_csv(path)
        bulk.job_close()
        while not bulk.job_is_completed():
            time.sleep(0.05)
        ok = sum(r.success for res in bulk.batch_result().values() for r in res)  # type: ignore[union-attr]
        out["ingest_s"] = time.perf_counter() - start
        assert ok == records, (ok, records)
        if measure_memory:
            out["ingest_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.reset_peak()
        start = time.perf_counter()
        job = bulk.create_job("query", "Account")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "SELECT Id, Name, Industry, Description FROM Account")
        bulk.close_job(job.id)
        bulk.wait_for_batch(job.id, batch.id)
        count = sum(1 for _ in bulk.iter_query_results(job.id, batch.id))
        out["query_s"] = time.perf_counter() - start
        assert count >= records, count
        if measure_memory:
            out["query_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accounts.csv"
        write_csv(path, n)
        size = path.stat().st_size / 1e6
        with fake_org_process(file_rows=max(1, n // 4)) as (url, _server):
            timed = run(url, path, n, measure_memory=False)
        with fake_org_process(file_rows=max(1, n // 4)) as (url, _server):
            memory = run(url, path, n, measure_memory=True)
    print(f"client vs fake org over HTTP, {n:,} records ({size:.1f} MB CSV)")
    for label, key in (
        ("ingest (split, upload, wait, results)", "ingest"),
        ("query stream", "query"),
    ):
        seconds = timed[f"{key}_s"]
        peak = memory[f"{key}_peak_mb"]
        print(f"  {label}: {seconds:.2f} s = {n / seconds:,.0f} records/s, peak {peak:.1f} MB")


if __name__ == "__main__":
    main()
