"""The demo behind ``make demo`` / ``sfbulk demo``: the seed's documented flow
against the built-in fake org, no Salesforce account needed.

It logs in with SOAP ``login()``, loads a CSV file through an insert job (split
into batches, one record deliberately invalid), reads the typed results, then
queries the records back through a query job whose results arrive in several
files.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .client import Bulk
from .core.clock import ManualClock
from .models.query import QueryBatchResult
from .models.results import BatchResult
from .testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)

__all__ = ["run_demo"]


def _write_contacts(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["FirstName", "LastName", "Email", "Description"])
        for i in range(count):
            last = "" if i == count // 2 else f"Lovelace{i}"  # one record misses LastName
            note = "imported by the demo\nsecond line" if i % 1000 == 0 else "plain"
            writer.writerow([f"Ada{i}", last, f"ada{i}@example.com", note])


def run_demo(
    records: int = 25_000, batch_size: int = 10_000, echo: Callable[[str], None] = print
) -> int:
    """Run the demo, printing each step through ``echo``; return 0 on success."""
    org = FakeOrg(query_result_file_rows=10_000)
    started = time.perf_counter()
    # The fake org needs no real waiting: polling waits on a manual clock.
    waits = ManualClock()
    bulk = Bulk(transport=FakeOrgTransport(org), sleep=waits.sleep, monotonic=waits.monotonic)
    with tempfile.TemporaryDirectory() as tmp, bulk:
        echo(f"fake org ready: {org.instance_url} (user {DEFAULT_USERNAME})")

        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        echo(f"login      -> bulk_server={bulk.bulk_server} (session id kept secret)")

        path = Path(tmp) / "contacts.csv"
        _write_contacts(path, records)
        job = bulk.job_create("insert", "Contact")
        echo(f"job_create -> {job.id} {job.operation} {job.sobject} state={job.state}")
        batches = bulk.batch_create_from_csv(path, max_records=batch_size)
        echo(f"batch_create_from_csv -> {len(batches)} batches of at most {batch_size:,} records")
        bulk.job_close()
        polls = 0
        while not bulk.job_is_completed():
            polls += 1
        echo(f"job_is_completed -> True after {polls} extra polls")
        for batch_id, info in bulk.batch_status().items():
            echo(
                f"  batch {batch_id}: {info.state} processed={info.number_records_processed:,}"
                f" failed={info.number_records_failed}"
            )
        failures = [
            row
            for result in bulk.batch_result(only_invalid=True).values()
            if isinstance(result, BatchResult)
            for row in result
        ]
        for row in failures:
            error = row.errors[0]
            echo(f"  rejected record: {error.status_code} {error.message} fields={error.fields}")
        echo(f"Contact table now holds {org.count('Contact'):,} records")

        bulk.job_create("query", "Contact")
        bulk.batch_create("SELECT Id, FirstName, LastName FROM Contact WHERE LastName LIKE 'Love%'")
        bulk.job_close()
        while not bulk.job_is_completed():
            pass
        total = 0
        for result in bulk.batch_result().values():
            if isinstance(result, QueryBatchResult):
                total += len(result.records)
                echo(f"query      -> {len(result.result_ids)} result files, {total:,} records")
                for record in result.records[:3]:
                    echo(f"  {record['Id']} {record['FirstName']} {record['LastName']}")
        expected = records - len(failures)
        elapsed = time.perf_counter() - started
        requests = sum(org.requests.values())
        echo(f"done in {elapsed:.1f}s: {org.login_count} login, {requests} requests")
        if total != expected or len(failures) != 1 or org.login_count != 1:
            echo(f"UNEXPECTED: {total} records queried, expected {expected}")
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run_demo())
