"""Bulk 2.0 query memory: the client's peak RSS streaming 100,000 and 1,000,000 rows.

The fake org runs in its own process over HTTPS (:mod:`bench_bulk2_server`),
seeded with the Accounts; the SDK (the sync ``Bulk`` client) runs in a fresh
process for each measurement, logs in, runs ``SELECT Id, Name, AccountNumber,
Phone, Industry, Rating FROM Account`` as a Bulk 2.0 query job and streams every
record, counting them and checking each Id comes once. The client process
reports its own peak RSS (``ru_maxrss``). Both ways of reading are measured:
locator paging (``maxRecords`` 50,000) and ``/resultPages`` with 4 pages at
once. The issue promises a peak under 100 MB that is flat: it grows less than
20 % from 100,000 to 1,000,000 rows.

    python bench/bench_bulk2_query_rss.py [--rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

from bench_bulk2_server import FIELDS, FakeOrgProcess

SOQL = f"SELECT Id, {', '.join(FIELDS)} FROM Account"
MODES = {"locator": 1, "resultPages x4": 4}


def _client(url: str, ca_file: str, width: int, rows: int) -> None:
    """Run in the measured process: query everything, print a JSON line of what it saw."""
    import ssl

    import httpx

    from sfbulk_sdk import Bulk
    from sfbulk_sdk.auth import SoapLogin
    from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME

    warnings.simplefilter("ignore")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    trust = ssl.create_default_context(cafile=ca_file)
    auth = SoapLogin(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=url)
    with httpx.Client(verify=trust, timeout=120) as http, Bulk(auth=auth, http_client=http) as bulk:
        started = time.perf_counter()
        job = bulk.create_query_job(SOQL)
        assert job.id is not None
        bulk.wait_for_query_job(job.id)
        count = 0
        # each record once: one byte per seeded row (its AccountNumber), not a set of ids
        seen = bytearray(rows)
        for record in bulk.iter_query_job_results(job.id, parallel_pages=width):
            count += 1
            seen[int(str(record["AccountNumber"])[3:])] = 1
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"count": count, "unique": seen.count(1), "seconds": seconds,
                      "peak_mb": peak, "baseline_mb": baseline}))  # fmt: skip


def _measure(url: str, ca_file: str, width: int, rows: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--client", url, "--ca", ca_file, "--width", str(width)]
    done = subprocess.run(
        [*command, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(sizes: list[int]) -> None:
    peaks: dict[str, list[float]] = {mode: [] for mode in MODES}
    for rows in sizes:
        started = time.perf_counter()
        with FakeOrgProcess(rows) as org:
            seeded = time.perf_counter() - started
            print(f"{rows:,} Accounts served over HTTPS (seeded in {seeded:.1f} s)")
            for mode, width in MODES.items():
                seen = _measure(org.url, str(org.ca_file), width, rows)
                assert seen["count"] == seen["unique"] == rows, seen
                peaks[mode].append(seen["peak_mb"])
                print(f"  {mode:15} {seen['count']:>9,.0f} records in {seen['seconds']:6.1f} s, "
                      f"client peak RSS {seen['peak_mb']:5.1f} MB "
                      f"(after imports {seen['baseline_mb']:.1f} MB)")  # fmt: skip
    if len(sizes) > 1:
        print(f"growth from {sizes[0]:,} to {sizes[-1]:,} rows (promise: < 20 %, peak < 100 MB):")
        for mode, values in peaks.items():
            growth = (values[-1] / values[0] - 1) * 100
            print(f"  {mode:15} {values[0]:5.1f} -> {values[-1]:5.1f} MB: "
                  f"ratio {values[-1] / values[0]:.2f} ({growth:+.1f} %)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--ca", help=argparse.SUPPRESS)
    parser.add_argument("--width", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        _client(args.client, args.ca, args.width, args.rows[0])
    else:
        main(args.rows)
