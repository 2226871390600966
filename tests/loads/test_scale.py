"""At scale: 200,000-record loads through either API, and a PK-chunked query.

Failures come from two sources at once: rows without their required
``LastName`` (the org's validation) and record errors the fake org injects
into one row in every 331 (a custom validation rule firing). Every failure
must land on the input row that caused it, the counts must add up, and the
org's table must hold exactly the rows that succeeded, each once.
"""

from __future__ import annotations

import pytest

from sfbulk_sdk.testing import FakeOrg
from tests.loads.loadkit import EXTERNAL_ID, contacts, org_with_external_id, sync_bulk

ROWS = 200_000
MISSING_EVERY = 97
INJECT_EVERY = 331


def _inject(org: FakeOrg) -> None:
    org.inject_record_errors(
        "Contact",
        count=ROWS // INJECT_EVERY,
        every=INJECT_EVERY,
        status_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
        message="blocked by a validation rule",
    )


@pytest.mark.parametrize(("api", "operation"), [("bulk1", "insert"), ("bulk2", "upsert")])
def test_200k_rows_every_failure_on_its_input_row(api: str, operation: str) -> None:
    org = org_with_external_id()
    rows = contacts(ROWS, missing_every=MISSING_EVERY)
    _inject(org)
    with sync_bulk(org) as bulk:
        if operation == "insert":
            result = bulk.insert("Contact", rows, api=api, concurrency=8, progress=None)
        else:
            result = bulk.upsert(
                "Contact", rows, EXTERNAL_ID, api=api, job_size=2_000_000, progress=None
            )
    missing = {i for i, row in enumerate(rows) if row["LastName"] is None}
    assert len(result) == ROWS and result.rows_known
    assert (len(result.jobs) == 1) if api == "bulk1" else (len(result.jobs) >= 3)  # ~5.7 MB
    failed = set(result.failed_rows())
    assert len(failed) == result.failed_count
    codes = {row: result[row].errors[0].status_code for row in failed}
    hit = {row for row, code in codes.items() if code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"}
    # An injected error comes before validation; the org picks the batches' order, so
    # which rows the injected errors hit is its choice, but each hits one row, and
    # that row's record is missing from the table (checked below).
    assert len(hit) == ROWS // INJECT_EVERY
    assert failed == missing | hit
    assert all(codes[row] == "REQUIRED_FIELD_MISSING" for row in missing - hit)
    stored = {r[EXTERNAL_ID]: r for r in org.query("SELECT Id, FirstName, Ext__c FROM Contact")}
    assert len(stored) == org.count("Contact") == result.succeeded == ROWS - len(failed)
    ids = result.ids()
    for row in range(ROWS):
        record = stored.get(f"E{row}")
        if row in failed:
            assert record is None, row
        else:
            assert record is not None and record["Id"] == ids[row], row
            assert record["FirstName"] == f"F{row}"


QUERY_ROWS = 1_000_000
CHUNK = 100_000


def test_a_pk_chunked_query_returns_every_row_exactly_once() -> None:
    """Bulk 1.0 PK chunking: the original batch is NotProcessed (skipped), each chunk a
    batch of its own, each split into several result files, over 1,000,000 rows
    (``bench/bench_pk_chunking.py`` times the same and prints its memory)."""
    org = FakeOrg(query_result_file_rows=30_000)
    org.insert("Account", ({"Name": f"A{i}"} for i in range(QUERY_ROWS)))
    with sync_bulk(org) as bulk:
        seen = [
            (r["Id"], r["Name"])
            for r in bulk.query("SELECT Id, Name FROM Account", pk_chunking=CHUNK)
        ]
    (job,) = org.jobs()
    batches = org.batches(job.id)
    assert [b.state.value for b in batches].count("NotProcessed") == 1
    assert len(batches) == 1 + QUERY_ROWS // CHUNK
    assert len(seen) == QUERY_ROWS
    assert len({record_id for record_id, _ in seen}) == QUERY_ROWS  # every row once
    assert sorted(name for _, name in seen) == sorted(f"A{i}" for i in range(QUERY_ROWS))
