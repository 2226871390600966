"""Bulk 2.0 at scale through the SDK: four operations with failing rows, then a query back.

:func:`run` loads ``rows`` Accounts into a fresh fake org through the sync
client (``ingest_csv``, ``wait_for_ingest_job``, ``iter_ingest_results``),
injecting per-row failures in every operation through the data itself (a
missing required field, a value too long, an Id that names no record), then
reads the table back with a Bulk 2.0 query (``/resultPages``, four at once).

It checks, and raises ``AssertionError`` otherwise, that:

* every input row of every job is accounted for exactly once, across the
  successful, failed and unprocessed results;
* update and delete outcomes are tied to their input rows by the uploaded
  ``Id``, upsert outcomes by the external id (:class:`RowIndex`, spec §9), and
  the failed rows are exactly the injected ones, with the injected error;
* insert outcomes carry no row (``row is None``): Bulk 2.0 gives no reliable key
  for them, and the SDK does not guess one from the order (it does not follow
  the input);
* the query returns every live record once, with the values the loads left.

Used by ``tests/client/test_bulk2_scale.py`` (100,000 rows) and
``bench/bench_bulk2_load_million.py`` (1,000,000 rows).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sfbulk_sdk import Bulk
from sfbulk_sdk.core.bulk2_results import IngestResult, RowIndex, join_column
from sfbulk_sdk.testing import FakeOrg, FieldSpec
from tests.org_clients import org_bulk

#: One row in this many fails, at a different offset per operation and cause.
EVERY = 1_000
TOO_LONG = "x" * 300  # Account.Name holds 255


@dataclass
class Step:
    """What one operation did: rows sent, outcomes by kind, the time it took."""

    operation: str
    rows: int
    succeeded: int = 0
    failed: int = 0
    seconds: float = 0.0


@dataclass
class Report:
    """Every step, and the query that read the table back."""

    steps: list[Step] = field(default_factory=list)
    queried: int = 0
    query_seconds: float = 0.0


def _csv(header: str, lines: Iterator[str]) -> bytes:
    return (header + "\n" + "".join(line + "\n" for line in lines)).encode()


def _ghost_id(row: int) -> str:
    """A well-formed Account id that names no record (real ones hold letters)."""
    return f"001{row:012d}AAA"


class Ledger:
    """Marks each input row (1-based) once; the failed ones with their error code."""

    def __init__(self, rows: int) -> None:
        self.seen = bytearray(rows + 1)
        self.seen[0] = 1
        self.failures: dict[int, str] = {}

    def account(self, row: int, result: IngestResult) -> None:
        assert 1 <= row < len(self.seen) and not self.seen[row], f"row {row} accounted twice"
        self.seen[row] = 1
        if not result.success:
            assert result.error is not None, result
            self.failures[row] = result.error.status_code

    def check(self, expected_failures: dict[int, str]) -> None:
        missing = self.seen.count(0)
        assert missing == 0, f"{missing} input rows have no outcome"
        assert self.failures == expected_failures


def _load(
    bulk: Bulk, step: Step, data: bytes, sobject: str = "Account", external_id: str | None = None
) -> Iterator[IngestResult]:
    """Load ``data``; every outcome, joined to its row when the operation allows it."""
    started = time.perf_counter()
    options = {"external_id_field": external_id} if external_id else {}
    jobs = bulk.ingest_csv(step.operation, sobject, data, **options)  # type: ignore[arg-type]
    column = join_column(step.operation, external_id)
    index = None
    if column is not None:
        index = RowIndex(column)
        index.add_csv(data)
    for job in jobs:
        assert job.id is not None
        bulk.wait_for_ingest_job(job.id, raise_on_failure=False)
        for kind in ("successful", "failed", "unprocessed"):
            for result in bulk.iter_ingest_results(job.id, kind):
                joined = index.join(result) if index is not None else result
                if joined.success:
                    step.succeeded += 1
                else:
                    step.failed += 1
                yield joined
    step.seconds = time.perf_counter() - started


def _insert(bulk: Bulk, rows: int, report: Report) -> dict[int, str]:
    """Insert ``rows`` Accounts; row ``i % EVERY == 7`` has no Name. Their ids, by row."""
    step = Step("insert", rows)
    report.steps.append(step)
    data = _csv(
        "Name,Ext__c",
        (f"{'' if i % EVERY == 7 else f'Account {i}'},E{i:07d}" for i in range(1, rows + 1)),
    )
    ledger = Ledger(rows)
    ids: dict[int, str] = {}
    for result in _load(bulk, step, data):
        assert result.row is None  # no reliable key for an insert: no row, never a guess
        row = int(result.values["Ext__c"][1:])  # the test's own unique column, echoed
        ledger.account(row, result)
        if result.success:
            assert result.created is True and result.id is not None
            ids[row] = result.id
    ledger.check({i: "REQUIRED_FIELD_MISSING" for i in range(1, rows + 1) if i % EVERY == 7})
    return ids


def _keyed(
    bulk: Bulk,
    report: Report,
    step: Step,
    data: bytes,
    expected: dict[int, str],
    on_success: Callable[[int, IngestResult], None],
    external_id: str | None = None,
) -> None:
    report.steps.append(step)
    ledger = Ledger(step.rows)
    for result in _load(bulk, step, data, external_id=external_id):
        assert result.row is not None, result  # joined by Id or by the external id
        ledger.account(result.row, result)
        if result.success:
            on_success(result.row, result)
    ledger.check(expected)


def run(rows: int) -> Report:
    """The whole scenario on ``rows`` Accounts (see the module docstring)."""
    org = FakeOrg()
    org.add_field("Account", FieldSpec("Ext__c", external_id=True, unique=True, length=20))
    report = Report()
    live: dict[str, tuple[str, str]] = {}  # id -> (Name, Ext__c) expected after the loads
    with org_bulk(org) as bulk:
        ids = _insert(bulk, rows, report)
        live.update({ids[i]: (f"Account {i}", f"E{i:07d}") for i in ids})
        kept = sorted(ids)

        # update every inserted row: a Name too long, or an Id of no record, fails
        def update_line(r: int, i: int) -> str:
            if r % EVERY == 13:
                return f"{_ghost_id(r)},Ghost {i}"
            return f"{ids[i]},{TOO_LONG if r % EVERY == 11 else f'Updated {i}'}"

        updates = {r: i for r, i in enumerate(kept, 1)}
        failing = {r: "STRING_TOO_LONG" for r in updates if r % EVERY == 11}
        failing |= {r: "INVALID_CROSS_REFERENCE_KEY" for r in updates if r % EVERY == 13}

        def updated(r: int, result: IngestResult) -> None:
            i = updates[r]
            assert result.id == ids[i] and result.created is False
            live[ids[i]] = (f"Updated {i}", f"E{i:07d}")

        data = _csv("Id,Name", (update_line(r, i) for r, i in updates.items()))
        _keyed(bulk, report, Step("update", len(updates)), data, failing, updated)

        # upsert by Ext__c: the first half of the rows exist, as many again are new
        half = kept[: len(kept) // 2]
        upserts = [f"E{i:07d}" for i in half] + [f"N{j:07d}" for j in range(1, len(half) + 1)]

        def upsert_line(r: int, ext: str) -> str:
            return f"{ext},{TOO_LONG if r % EVERY == 17 else f'Upserted {ext}'}"

        failing = {r: "STRING_TOO_LONG" for r in range(1, len(upserts) + 1) if r % EVERY == 17}

        def upserted(r: int, result: IngestResult) -> None:
            ext = upserts[r - 1]
            assert result.id is not None and result.created is ext.startswith("N")
            if not result.created:
                assert result.id == ids[int(ext[1:])]
            live[result.id] = (f"Upserted {ext}", ext)

        data = _csv("Ext__c,Name", (upsert_line(r, e) for r, e in enumerate(upserts, 1)))
        _keyed(bulk, report, Step("upsert", len(upserts)), data, failing, upserted, "Ext__c")

        # delete the second half of the inserted rows; an Id of no record fails
        doomed = [ids[i] for i in kept[len(kept) // 2 :]]
        targets = [_ghost_id(r) if r % EVERY == 19 else d for r, d in enumerate(doomed, 1)]
        failing = {r: "INVALID_CROSS_REFERENCE_KEY" for r in range(1, len(targets) + 1)}
        failing = {r: code for r, code in failing.items() if r % EVERY == 19}

        def deleted(r: int, result: IngestResult) -> None:
            assert result.id == targets[r - 1]
            del live[targets[r - 1]]

        data = _csv("Id", iter(targets))
        _keyed(bulk, report, Step("delete", len(targets)), data, failing, deleted)

        started = time.perf_counter()
        job = bulk.create_query_job("SELECT Id, Name, Ext__c FROM Account")
        assert job.id is not None
        bulk.wait_for_query_job(job.id)
        found: dict[str, tuple[str, str]] = {}
        for record in bulk.iter_query_job_results(job.id, parallel_pages=4):
            key = str(record["Id"])
            assert key not in found, f"{key} read twice"
            found[key] = (str(record["Name"]), str(record["Ext__c"]))
        report.query_seconds = time.perf_counter() - started
        report.queried = len(found)
    assert found == live  # every live record once, with the values the loads left
    return report
