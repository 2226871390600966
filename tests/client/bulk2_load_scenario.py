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

The bookkeeping is a byte per row (:class:`Ledger`, :class:`Live`), so that
a million rows cost the test little memory next to the fake org's. Used by
``tests/client/test_bulk2_scale.py`` (100,000 rows, every operation),
``tests/client/test_bulk2_million.py`` (1,000,000 rows) and
``bench/bench_bulk2_load_million.py``; :func:`check_counts` checks a report
against counts worked out from the injection rule alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sfbulk_sdk import Bulk
from sfbulk_sdk.core.bulk2_results import IngestResult, RowIndex, join_column
from sfbulk_sdk.testing import FakeOrg, FieldSpec
from tests.org_clients import org_bulk

#: One row in this many fails, at a different offset per operation and cause.
EVERY = 1_000
TOO_LONG = "x" * 300  # Account.Name holds 255
#: The upsert adds one new row for this many inserted rows (which it updates, every one).
NEW_EVERY = 10


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


def _insert(bulk: Bulk, rows: int, report: Report) -> list[str | None]:
    """Insert ``rows`` Accounts; row ``i % EVERY == 7`` has no Name. Their ids, by row."""
    step = Step("insert", rows)
    report.steps.append(step)
    data = _csv(
        "Name,Ext__c",
        (f"{'' if i % EVERY == 7 else f'Account {i}'},E{i:07d}" for i in range(1, rows + 1)),
    )
    ledger = Ledger(rows)
    ids: list[str | None] = [None] * (rows + 1)
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


#: What the loads left of an inserted row (``Live.state``), and its expected Name.
GONE, INSERTED, UPDATED, UPSERTED = 0, 1, 2, 3
_NAMES = {INSERTED: "Account {}", UPDATED: "Updated {}", UPSERTED: "Upserted E{:07d}"}


class Live:
    """What the table must hold after the loads, one byte a row (a million rows, little memory).

    ``state[i]`` is what became of inserted row ``i``; ``created[j]`` the id
    the upsert created for its new row ``N{j}`` (``None``: not created).
    """

    def __init__(self, ids: list[str | None], new_rows: int) -> None:
        self.ids = ids
        self.state = bytearray(INSERTED if rid is not None else GONE for rid in ids)
        self.created: list[str | None] = [None] * (new_rows + 1)

    def check(self, records: Iterable[Mapping[str, object]]) -> int:
        """Every live record read once, with the values the loads left; how many there were."""
        seen, seen_new = bytearray(len(self.state)), bytearray(len(self.created))
        for record in records:
            ext, name, rid = str(record["Ext__c"]), str(record["Name"]), str(record["Id"])
            n = int(ext[1:])
            if ext[0] == "N":
                assert rid == self.created[n] and name == f"Upserted {ext}", record
                assert not seen_new[n], f"{rid} read twice"
                seen_new[n] = 1
                continue
            state = self.state[n]
            assert state != GONE and rid == self.ids[n], record
            assert name == _NAMES[state].format(n), record
            assert not seen[n], f"{rid} read twice"
            seen[n] = 1
        live = sum(1 for state in self.state if state != GONE)
        made = sum(1 for rid in self.created if rid is not None)
        assert seen.count(1) == live and seen_new.count(1) == made  # every live record once
        return live + made


def run(rows: int, *, delete: bool = True) -> Report:
    """The whole scenario on ``rows`` Accounts (see the module docstring).

    ``delete=False`` leaves the delete step out (the rows stay for the query).
    """
    org = FakeOrg()
    org.add_field("Account", FieldSpec("Ext__c", external_id=True, unique=True, length=20))
    report = Report()
    with org_bulk(org) as bulk:
        ids = _insert(bulk, rows, report)
        kept = [i for i, rid in enumerate(ids) if rid is not None]
        new = len(kept) // NEW_EVERY
        live = Live(ids, new)

        # update every inserted row: a Name too long, or an Id of no record, fails
        def update_line(r: int, i: int) -> str:
            if r % EVERY == 13:
                return f"{_ghost_id(r)},Ghost {i}"
            return f"{ids[i]},{TOO_LONG if r % EVERY == 11 else f'Updated {i}'}"

        failing = {r: "STRING_TOO_LONG" for r in range(1, len(kept) + 1) if r % EVERY == 11}
        failing |= {
            r: "INVALID_CROSS_REFERENCE_KEY" for r in range(1, len(kept) + 1) if r % EVERY == 13
        }

        def updated(r: int, result: IngestResult) -> None:
            i = kept[r - 1]
            assert result.id == ids[i] and result.created is False
            live.state[i] = UPDATED

        data = _csv("Id,Name", (update_line(r, i) for r, i in enumerate(kept, 1)))
        _keyed(bulk, report, Step("update", len(kept)), data, failing, updated)

        # upsert by Ext__c: every inserted row again, then one new row for each NEW_EVERY
        def upsert_ext(r: int) -> str:
            return f"E{kept[r - 1]:07d}" if r <= len(kept) else f"N{r - len(kept):07d}"

        def upsert_line(r: int) -> str:
            ext = upsert_ext(r)
            return f"{ext},{TOO_LONG if r % EVERY == 17 else f'Upserted {ext}'}"

        upserts = len(kept) + new
        failing = {r: "STRING_TOO_LONG" for r in range(1, upserts + 1) if r % EVERY == 17}

        def upserted(r: int, result: IngestResult) -> None:
            made = r > len(kept)
            assert result.id is not None and result.created is made
            if made:
                live.created[r - len(kept)] = result.id
            else:
                assert result.id == ids[kept[r - 1]]
                live.state[kept[r - 1]] = UPSERTED

        data = _csv("Ext__c,Name", (upsert_line(r) for r in range(1, upserts + 1)))
        _keyed(bulk, report, Step("upsert", upserts), data, failing, upserted, "Ext__c")

        if delete:  # delete the second half of the inserted rows; an Id of no record fails
            doomed = kept[len(kept) // 2 :]

            def target(r: int) -> str:
                return _ghost_id(r) if r % EVERY == 19 else str(ids[doomed[r - 1]])

            failing = {
                r: "INVALID_CROSS_REFERENCE_KEY"
                for r in range(1, len(doomed) + 1)
                if r % EVERY == 19
            }

            def deleted(r: int, result: IngestResult) -> None:
                i = doomed[r - 1]
                assert result.id == ids[i] and live.state[i] != GONE
                live.state[i] = GONE

            data = _csv("Id", (target(r) for r in range(1, len(doomed) + 1)))
            _keyed(bulk, report, Step("delete", len(doomed)), data, failing, deleted)

        started = time.perf_counter()
        job = bulk.create_query_job("SELECT Id, Name, Ext__c FROM Account")
        assert job.id is not None
        bulk.wait_for_query_job(job.id)
        records = bulk.iter_query_job_results(job.id, parallel_pages=4)
        report.queried = live.check(records)
        report.query_seconds = time.perf_counter() - started
    return report


def _hits(rows: int, offset: int, first: int = 1) -> int:
    """How many of rows ``first..rows`` the scenario makes fail at ``offset``."""
    return sum(1 for r in range(first, rows + 1) if r % EVERY == offset)


def check_counts(report: Report, rows: int) -> None:
    """Each step's (rows, succeeded, failed) and the records queried, from the rule alone."""
    counts = {s.operation: (s.rows, s.succeeded, s.failed) for s in report.steps}
    no_name = _hits(rows, 7)
    inserted = rows - no_name
    assert counts["insert"] == (rows, inserted, no_name)
    bad = _hits(inserted, 11) + _hits(inserted, 13)
    assert counts["update"] == (inserted, inserted - bad, bad)
    upserts = inserted + inserted // NEW_EVERY
    assert counts["upsert"] == (upserts, upserts - _hits(upserts, 17), _hits(upserts, 17))
    # live: the inserted rows, plus the new upserts that did not fail, less the deleted ones
    live = upserts - _hits(upserts, 17, first=inserted + 1)
    if "delete" in counts:
        doomed = inserted - inserted // 2
        assert counts["delete"] == (doomed, doomed - _hits(doomed, 19), _hits(doomed, 19))
        live -= doomed - _hits(doomed, 19)
    assert report.queried == live


def summary(report: Report) -> str:
    """One line: each step's rows and time, and the query's."""
    return (
        ", ".join(f"{s.operation} {s.rows:,} rows {s.seconds:.1f}s" for s in report.steps)
        + f", query {report.queried:,} rows {report.query_seconds:.1f}s"
    )
