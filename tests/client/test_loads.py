"""Loads and queries in one call: ``bulk.insert(...)``, ``bulk.query(...)``, against the fake org.

Every outcome lands on its input row, in input order; failures are reported
against the right rows; rows that failed on a lock are sent again; waiting has
a deadline that names the job, and ``bulk.job(job_id)`` re-attaches to it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sfbulk_sdk import AsyncBulk, Bulk, PollPolicy, PollTimeoutError, errors
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.core.progress import ProgressEvent
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock
from tests.timing import FakeTime


def _bulk(org: FakeOrg, **options: object) -> Bulk:
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync(), **options)  # type: ignore[arg-type]


def _contacts(count: int, *, missing_every: int = 0) -> list[dict[str, object]]:
    """Contacts; every ``missing_every``-th one lacks its required LastName."""
    return [
        {
            "FirstName": f"F{i}",
            "LastName": None if missing_every and i % missing_every == 0 else f"L{i}",
        }
        for i in range(count)
    ]


def test_an_insert_returns_every_outcome_on_its_input_row() -> None:
    org = FakeOrg()
    rows = _contacts(25_000, missing_every=97)
    events: list[ProgressEvent] = []
    with _bulk(org) as bulk:
        result = bulk.insert("Contact", rows, progress=events.append)
    assert len(result) == 25_000 and result.api == "bulk1"
    assert result.failed_rows() == [i for i in range(25_000) if i % 97 == 0]
    failure = result[97]
    assert failure.row == 97 and not failure.success and failure.id is None
    assert failure.errors[0].status_code == "REQUIRED_FIELD_MISSING"
    by_id = {row["Id"]: row["FirstName"] for row in org.records("Contact")}
    assert len(by_id) == result.succeeded == 25_000 - len(result.failed_rows())
    for outcome in result:
        if outcome.success:
            assert outcome.created and by_id[outcome.id] == f"F{outcome.row}"
    kinds = {e.kind for e in events}
    assert {"job_created", "batch_queued", "batch_completed", "done"} <= kinds
    assert sum(e.records for e in events if e.kind == "batch_queued") == 25_000


def test_none_clears_a_field_and_values_are_written_as_salesforce_reads_them() -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        created = bulk.insert(
            "Account", [{"Name": "Acme", "NumberOfEmployees": 12, "Description": "x"}]
        )
        (record_id,) = created.ids()
        assert record_id is not None
        updated = bulk.update(
            "Account", [{"Id": record_id, "Description": None}], api="bulk1", progress=None
        )
    assert updated.ok
    (row,) = org.records("Account")
    assert row["Description"] is None and row["NumberOfEmployees"] == 12


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], "no records"),
        ([{"LastName": float("nan")}], "row 1, field 'LastName'"),
        (
            [{"LastName": "a"}, {"LastName": "b", "Nope__c": 1}],
            "row 2 has fields the load does not",
        ),
        ([{"LastName": b"bytes"}], "cannot be written to a CSV field"),
        ([{"LastName": {"nested": 1}}], "cannot be written to a CSV field"),
        (12345, "not a int"),
        ({"LastName": "x"}, "not a dict"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(records: object, message: str) -> None:
    org = FakeOrg()
    with _bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match=message):
        bulk.insert("Contact", records, progress=None)
    assert org.stats()["requests"]["total"] == 0
    assert org.jobs() == []


def test_a_record_alone_over_the_batch_limit_is_refused_naming_it() -> None:
    org = FakeOrg()
    rows = [{"LastName": "ok"}, {"LastName": "x" * 10_000_001}]
    with _bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match="row 2 does not fit"):
        bulk.insert("Contact", rows, progress=None)
    assert org.jobs() == []


class Contact(BaseModel):
    FirstName: str | None = None
    LastName: str


def test_pydantic_models_load_and_query_back_into_the_model() -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        result = bulk.insert("Contact", [Contact(LastName=f"M{i}") for i in range(50)])
        assert result.ok
        back = list(
            bulk.query("SELECT FirstName, LastName FROM Contact", model=Contact, api="bulk1")
        )
    assert all(isinstance(c, Contact) and c.FirstName is None for c in back)
    assert sorted(c.LastName for c in back) == sorted(f"M{i}" for i in range(50))


def test_a_model_field_that_cannot_be_written_is_refused() -> None:
    class Odd(BaseModel):
        LastName: str
        Tags: list[str]

    with _bulk(FakeOrg()) as bulk, pytest.raises(errors.InvalidInputError, match="'Tags'"):
        bulk.insert("Contact", [Odd(LastName="x", Tags=[])], progress=None)


def test_a_csv_file_and_a_binary_stream_load_as_they_are(tmp_path: Path) -> None:
    org = FakeOrg()
    text = "FirstName,LastName\n" + "".join(f'F{i},"Last, {i}"\n' for i in range(15_000))
    path = tmp_path / "contacts.csv"
    path.write_text(text)
    with _bulk(org) as bulk:
        from_file = bulk.insert("Contact", path, progress=None)
        from_stream = bulk.insert("Contact", io.BytesIO(text.encode()), progress=None)
    assert from_file.ok and from_stream.ok and len(from_file) == len(from_stream) == 15_000
    assert len(from_file.jobs) == 1
    assert org.count("Contact") == 30_000


def test_a_ragged_csv_row_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    org = FakeOrg()
    path = tmp_path / "ragged.csv"
    path.write_text("FirstName,LastName\nA,B\nC,D,E\n")
    with _bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match="record 2"):
        bulk.insert("Contact", path, progress=None)
    assert org.jobs() == []


def test_lock_contention_rows_are_resubmitted_until_every_row_is_loaded_once() -> None:
    org = FakeOrg()
    rows = _contacts(4_000)
    org.inject_record_errors("Contact", count=200, status_code="UNABLE_TO_LOCK_ROW")  # 5 %
    with _bulk(org) as bulk:
        result = bulk.insert("Contact", rows, progress=None)
    assert result.ok, result.failed()[:3]
    assert len(result.resubmitted) == 200
    names = sorted(str(row["FirstName"]) for row in org.records("Contact"))
    assert names == sorted(f"F{i}" for i in range(4_000))  # every row once
    assert len(result.jobs) == 2  # the load, then one Serial job for the re-submits
    resent = [o for o in result if o.resubmitted]
    assert len(resent) == 200 and all(o.success for o in resent)


def test_rows_still_locked_after_the_retries_are_reported() -> None:
    org = FakeOrg()
    org.inject_record_errors("Contact", count=10_000, status_code="UNABLE_TO_LOCK_ROW")
    with _bulk(org) as bulk:
        result = bulk.insert("Contact", _contacts(10), lock_retries=2, progress=None)
    assert result.failed_rows() == list(range(10))
    assert all(o.resubmitted == 2 for o in result)
    assert {o.errors[0].status_code for o in result} == {"UNABLE_TO_LOCK_ROW"}


def test_a_deadline_raises_with_the_job_id_and_a_fresh_client_reattaches() -> None:
    clock = ManualClock()
    org = FakeOrg(clock=clock, queue_time=30, processing_time=600)
    rows = _contacts(3_000, missing_every=1_000)
    with _bulk(org) as bulk, pytest.raises(PollTimeoutError) as caught:
        bulk.insert(
            "Contact", rows, poll=PollPolicy(initial=5, factor=1, timeout=60), progress=None
        )
    job_id = caught.value.job_id
    assert job_id in {j.id for j in org.jobs()}
    clock.advance(3_600)
    with _bulk(org) as fresh:
        again = fresh.job(job_id)
    assert len(again) == 3_000 and again.failed_rows() == [0, 1_000, 2_000]
    assert again.jobs == [job_id]


def test_query_streams_every_row_once_across_pk_chunks_and_result_files() -> None:
    org = FakeOrg(query_result_file_rows=7_000)
    org.insert("Account", [{"Name": f"A{i:05d}"} for i in range(30_000)])
    with _bulk(org) as bulk:
        ids = [r["Id"] for r in bulk.query("SELECT Id, Name FROM Account", pk_chunking=8_000)]
    assert len(ids) == len(set(ids)) == 30_000


def test_query_to_csv_writes_straight_to_disk(tmp_path: Path) -> None:
    org = FakeOrg()
    org.insert("Account", [{"Name": f"A{i}"} for i in range(1_000)])
    path = tmp_path / "accounts.csv"
    with _bulk(org) as bulk:
        count = bulk.query_to_csv("SELECT Id, Name FROM Account", path, api="bulk1")
    lines = path.read_text().splitlines()
    assert count == 1_000 and len(lines) == 1_001 and lines[0] == "Id,Name"


@pytest.mark.anyio
async def test_the_async_client_loads_and_queries_the_same() -> None:
    org = FakeOrg()
    auth = StaticSession(org.instance_url, org.issue_session())
    async with AsyncBulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().async_()) as bulk:
        result = await bulk.insert("Contact", _contacts(12_000, missing_every=5_000), progress=None)
        names = [
            r["LastName"] async for r in bulk.query("SELECT LastName FROM Contact", api="bulk1")
        ]
    assert result.failed_rows() == [0, 5_000, 10_000]
    assert len(names) == 12_000 - 3


def _generated(count: int) -> Iterator[dict[str, object]]:
    for i in range(count):
        yield {"LastName": f"G{i}"}


def test_an_iterator_streams_into_batches() -> None:
    org = FakeOrg()
    with _bulk(org) as bulk:
        result = bulk.insert("Contact", _generated(21_000), progress=None)
    assert result.ok and len(result) == 21_000 and org.count("Contact") == 21_000
