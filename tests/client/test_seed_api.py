"""The seed's API (``login``, ``job_create``, ``batch_create``, ``batch_create_from_csv``,
``job_is_completed``, ``batch_status``, ``batch_result``, ``job_close``) on ``Bulk``
and ``AsyncBulk``, against the fake org.

Its documented flow, PK chunking's original batch (peer complaint 8 of
spec/peers.md §3), a CSV file bigger than any batch (complaint 3), and the
edge cases a review of the client found.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, JobState, PkChunking, errors
from sfbulk_sdk.core.clock import ManualClock
from sfbulk_sdk.models import BatchState, QueryBatchResult
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)
from tests.org_clients import strict_org
from tests.timing import FakeTime


def test_seed_documented_flow(caplog: pytest.LogCaptureFixture) -> None:
    """login -> job_create -> batch_create -> poll job_is_completed -> batch_status
    -> batch_result -> job_close, as the original sfbulk documentation shows it."""
    caplog.set_level(logging.DEBUG)
    org = FakeOrg()
    org.insert("Contact", [{"LastName": f"Doe{i}"} for i in range(5)])
    slept: list[float] = []
    bulk = Bulk(transport=FakeOrgTransport(org), **FakeTime(on_sleep=slept.append).sync())
    bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
    assert bulk.bulk_server == org.instance_url + "/"
    assert bulk.sessionid is not None and bulk.sessionid.startswith(org.org_id[:15])
    secret = bulk.sessionid

    job = bulk.job_create("query", "Contact")
    assert job.operation is not None and job.operation.value == "query"
    bulk.batch_create("SELECT Id, LastName FROM Contact")
    polls = 0
    while not bulk.job_is_completed():
        polls += 1
        assert polls < 50
    status = bulk.batch_status()
    assert len(status) == 1
    (info,) = status.values()
    assert info.state is BatchState.COMPLETED and info.number_records_processed == 5
    result = bulk.batch_result()
    (only,) = result.values()
    assert isinstance(only, QueryBatchResult)
    assert sorted(r["LastName"] for r in only.records) == [f"Doe{i}" for i in range(5)]
    closed = bulk.job_close()
    assert closed.state is JobState.CLOSED
    bulk.close()

    assert org.login_count == 1
    assert secret not in repr(bulk)
    for record in caplog.records:
        assert secret not in record.getMessage()


def test_seed_flow_ingest_with_failures_and_only_invalid(tmp_path: Any) -> None:
    org = FakeOrg()
    path = tmp_path / "contacts.csv"
    path.write_text(
        'FirstName,LastName,Description\nAda,Lovelace,"two\nlines"\nNo,,missing last name\n'
        + "".join(f"F{i},L{i},plain\n" for i in range(5))
    )
    bulk = Bulk(transport=FakeOrgTransport(org), **FakeTime().sync())
    bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
    bulk.job_create("insert", "Contact")
    batches = bulk.batch_create_from_csv(path, max_records=3)
    assert len(batches) == 3
    bulk.job_close()
    while not bulk.job_is_completed():
        pass
    everything = bulk.batch_result()
    rows = [r for b in batches for r in everything[b.id]]  # type: ignore[union-attr]
    assert len(rows) == 7
    assert sum(r.success for r in rows) == 6
    invalid = bulk.batch_result(only_invalid=True)
    failed = [r for res in invalid.values() for r in res]  # type: ignore[union-attr]
    assert len(failed) == 1
    assert failed[0].errors[0].status_code == "REQUIRED_FIELD_MISSING"
    assert failed[0].row == 2  # the second record of the first batch
    assert "LastName" in failed[0].errors[0].fields
    stored = {row["LastName"]: row for row in org.records("Contact")}
    assert stored["Lovelace"]["Description"] == "two\nlines"
    bulk.close()


@pytest.mark.peer("jsforce#31", complaint=3)
def test_c3_a_csv_file_bigger_than_any_batch_is_uploaded_whole_by_the_seed_api(
    tmp_path: Path,
) -> None:
    """Complaint 3 (jsforce #31: a 186 MB CSV refused as one batch).

    A 24 MB file whose records hold quoted line breaks goes through the seed
    API's ``batch_create_from_csv``: cut by size into whole records, every
    record stored once, the line breaks intact."""
    path = tmp_path / "big.csv"
    note = "line one\nline two " + "z" * 1_980
    with path.open("w", newline="") as handle:
        handle.write("LastName,Description\n")
        for i in range(12_000):
            handle.write(f'F{i:05d},"{note}"\n')
    assert path.stat().st_size > 24_000_000
    org = strict_org()
    bulk = Bulk(transport=FakeOrgTransport(org), **FakeTime().sync())
    bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
    bulk.job_create("insert", "Contact")
    batches = bulk.batch_create_from_csv(path)
    assert len(batches) == 3
    bulk.job_close()
    while not bulk.job_is_completed():
        pass
    results = bulk.batch_result()
    assert sum(len(results[b.id]) for b in batches) == 12_000
    bulk.close()
    stored = org.records("Contact")
    assert sorted(str(r["LastName"]) for r in stored) == [f"F{i:05d}" for i in range(12_000)]
    assert {r["Description"] for r in stored} == {note}


@pytest.mark.review("client")
@pytest.mark.parametrize("max_records", [10_001, 50_000])
def test_seed_batch_create_from_csv_refuses_batches_salesforce_would_fail(
    tmp_path: Path, max_records: int
) -> None:
    """The seed API promises batches within 10,000 records: a larger ``max_records``
    is refused before anything is sent, not turned into batches Salesforce fails."""
    path = tmp_path / "contacts.csv"
    path.write_text("LastName\n" + "".join(f"L{i}\n" for i in range(10_050)))
    org = FakeOrg()
    with Bulk(transport=FakeOrgTransport(org)) as bulk:
        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        job = bulk.job_create("insert", "Contact")
        assert job.id is not None
        with pytest.raises(errors.InvalidInputError, match="10,000"):
            bulk.batch_create_from_csv(path, max_records=max_records)
        assert org.batches(job.id) == []
        assert len(bulk.batch_create_from_csv(path)) == 2  # 10,000 + 50 records


# --------------------------------------------------------------------------- PK chunking


@pytest.mark.peer("heroku#62", "heroku#74", "heroku#75", complaint=8)
def test_c8_seed_api_counts_the_pk_chunking_original_as_done_not_failed() -> None:
    """Complaint 8 (heroku #62, #74, #75: the expected ``NotProcessed`` original batch
    raised BulkBatchFailed).

    Through the seed API: ``job_is_completed`` stays False while the chunk
    batches run after the original turned ``NotProcessed``, then True;
    ``batch_result`` returns every row from the chunks; waiting on the original
    returns it without raising."""
    org = FakeOrg(clock=ManualClock(), queue_time=30, processing_time=60)
    org.insert("Account", [{"Name": f"A{i:04d}"} for i in range(2_500)])
    bulk = Bulk(transport=FakeOrgTransport(org), **FakeTime(on_sleep=org.advance).sync())
    bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
    job = bulk.job_create("query", "Account", pk_chunking=PkChunking(chunk_size=1_000))
    assert job.id is not None
    original = bulk.batch_create("SELECT Id, Name FROM Account")
    seen_pending_chunks = False
    polls = 0
    while not bulk.job_is_completed():
        states = {b.id: b.state for b in bulk.batch_status().values()}
        if states[original.id] is BatchState.NOT_PROCESSED and len(states) > 1:
            seen_pending_chunks = seen_pending_chunks or any(
                s is not BatchState.COMPLETED for i, s in states.items() if i != original.id
            )
        org.advance(15)
        polls += 1
        assert polls < 100
    assert seen_pending_chunks
    status = bulk.batch_status()
    assert status[original.id].state is BatchState.NOT_PROCESSED
    assert (
        sorted(b.state for i, b in status.items() if i != original.id) == [BatchState.COMPLETED] * 3
    )
    assert bulk.wait_for_batch(job.id, original.id).state is BatchState.NOT_PROCESSED
    results = bulk.batch_result()
    assert original.id not in results and len(results) == 3
    ids = [r["Id"] for res in results.values() for r in res.records]  # type: ignore[union-attr]
    bulk.close()
    assert len(ids) == len(set(ids)) == 2_500


@pytest.mark.peer("heroku#62", complaint=8)
@pytest.mark.anyio
async def test_c8_async_seed_api_counts_the_pk_chunking_original_as_done() -> None:
    """Complaint 8 (heroku #62), on ``AsyncBulk``'s seed API."""
    org = FakeOrg()
    org.insert("Account", [{"Name": f"A{i:04d}"} for i in range(1_500)])
    bulk = AsyncBulk(transport=FakeOrgTransport(org), **FakeTime().async_())
    await bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
    await bulk.job_create("query", "Account", pk_chunking=PkChunking(chunk_size=500))
    original = await bulk.batch_create("SELECT Id, Name FROM Account")
    polls = 0
    while not await bulk.job_is_completed():
        polls += 1
        assert polls < 10
    results = await bulk.batch_result()
    await bulk.aclose()
    assert original.id not in results and len(results) == 3
    assert sum(len(r) for r in results.values()) == 1_500


# --------------------------------------------------------------------------- edge cases


@pytest.mark.review("client")
def test_seed_job_is_completed_is_true_for_a_job_without_batches() -> None:
    """The seed's README loop (``while not job_is_completed(): sleep(10)``) must end when
    nothing was uploaded, e.g. a CSV file holding only its header row."""
    org = FakeOrg()
    with Bulk(transport=FakeOrgTransport(org)) as bulk:
        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        bulk.job_create("insert", "Contact")
        assert bulk.batch_status() == {}
        assert bulk.job_is_completed() is True
        assert bulk.batch_result() == {}


@pytest.mark.review("client")
@pytest.mark.anyio
async def test_async_seed_job_is_completed_is_true_for_a_job_without_batches() -> None:
    org = FakeOrg()
    async with AsyncBulk(transport=FakeOrgTransport(org)) as bulk:
        await bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        await bulk.job_create("insert", "Contact")
        assert await bulk.job_is_completed() is True


@pytest.mark.review("client")
def test_seed_login_with_an_api_version_fourth_does_not_log_in_to_the_sandbox() -> None:
    """The seed's signature is ``login(username, password, security_token, sf_version,
    sandbox)``: a version passed fourth must not be read as ``sandbox=True``."""
    org = FakeOrg()
    seen: list[str] = []
    inner = FakeOrgTransport(org)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return inner.handle_request(request)

    with (
        Bulk(transport=httpx.MockTransport(handler)) as bulk,
        pytest.raises(errors.InvalidInputError, match="sandbox"),
    ):
        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, "58.0")  # type: ignore[arg-type]
    assert seen == []
    assert org.login_count == 0
