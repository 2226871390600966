"""Both clients end to end against the fake org (in-process transport).

The full insert flow and the full query flow (several result files per batch)
run on Bulk and AsyncBulk, for CSV, XML and JSON jobs; a Serial job runs its
batches one at a time. Results are checked against the fake org's tables. (The
seed's documented example flow is in ``test_seed_api.py``.)
"""

from __future__ import annotations

from typing import Any

import pytest

from sfbulk_sdk import AsyncBulk, Bulk, ConcurrencyMode, ContentType, JobState
from sfbulk_sdk.models import BatchResult, BatchState
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, ManualClock
from tests.org_clients import org_bulk, soap_auth

CSV_ROWS = "FirstName,LastName,Email\n" + "".join(
    f"First{i},Last{i},p{i}@example.com\n" for i in range(7)
)


def _payload(content_type: ContentType) -> str:
    rows = [{"FirstName": f"First{i}", "LastName": f"Last{i}"} for i in range(7)]
    if content_type is ContentType.CSV:
        return "FirstName,LastName\n" + "".join(f"{r['FirstName']},{r['LastName']}\n" for r in rows)
    if content_type is ContentType.JSON:
        import json

        return json.dumps(rows)
    body = "".join(
        f"<sObject><FirstName>{r['FirstName']}</FirstName><LastName>{r['LastName']}</LastName></sObject>"
        for r in rows
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload">{body}</sObjects>'


def _check_insert(org: FakeOrg, results: BatchResult) -> None:
    assert len(results) == 7
    assert all(r.success and r.created and r.errors == [] for r in results)
    rows = {row["Id"]: row for row in org.records("Contact")}
    assert {r.id for r in results} == set(rows)
    assert sorted(row["LastName"] for row in rows.values()) == sorted(f"Last{i}" for i in range(7))


@pytest.mark.parametrize("content_type", [ContentType.CSV, ContentType.XML, ContentType.JSON])
def test_sync_insert_flow(content_type: ContentType) -> None:
    org = FakeOrg()
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org)) as bulk:
        job = bulk.create_job("insert", "Contact", content_type=content_type)
        assert job.state is JobState.OPEN and job.id is not None
        assert job.content_type is content_type
        batch = bulk.add_batch(job.id, _payload(content_type))
        assert batch.state in (BatchState.QUEUED, BatchState.IN_PROGRESS, BatchState.COMPLETED)
        closed = bulk.close_job(job.id)
        assert closed.state is JobState.CLOSED
        done = bulk.wait_for_batch(job.id, batch.id)
        assert done.state is BatchState.COMPLETED
        assert done.number_records_processed == 7
        _check_insert(org, bulk.get_batch_results(job.id, batch.id))
        assert bulk.get_batch_request(job.id, batch.id)
        listed = bulk.wait_for_job(job.id)
        assert [b.id for b in listed] == [batch.id]
        assert bulk.get_job(job.id).number_records_processed == 7
    assert org.login_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", [ContentType.CSV, ContentType.XML, ContentType.JSON])
async def test_async_insert_flow(content_type: ContentType) -> None:
    org = FakeOrg()
    async with AsyncBulk(auth=soap_auth(), transport=FakeOrgTransport(org)) as bulk:
        job = await bulk.create_job("insert", "Contact", content_type=content_type)
        assert job.state is JobState.OPEN and job.id is not None
        batch = await bulk.add_batch(job.id, _payload(content_type))
        assert (await bulk.close_job(job.id)).state is JobState.CLOSED
        done = await bulk.wait_for_batch(job.id, batch.id)
        assert done.state is BatchState.COMPLETED
        _check_insert(org, await bulk.get_batch_results(job.id, batch.id))
        listed = await bulk.wait_for_job(job.id)
        assert [b.id for b in listed] == [batch.id]
    assert org.login_count == 1


def _seed_accounts(org: FakeOrg, n: int) -> list[str]:
    org.insert("Account", [{"Name": f"Account {i:03d}", "Industry": "Energy"} for i in range(n)])
    return sorted(row["Name"] for row in org.records("Account"))


def _names(records: list[dict[str, Any]]) -> list[str]:
    return sorted(str(r["Name"]) for r in records)


@pytest.mark.parametrize("content_type", [ContentType.CSV, ContentType.XML, ContentType.JSON])
def test_sync_query_flow_over_several_result_files(content_type: ContentType) -> None:
    org = FakeOrg(query_result_file_rows=4)
    expected = _seed_accounts(org, 11)
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org)) as bulk:
        job = bulk.create_job("query", "Account", content_type=content_type)
        assert job.id is not None
        batch = bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
        bulk.close_job(job.id)
        bulk.wait_for_batch(job.id, batch.id)
        ids = bulk.get_query_result_ids(job.id, batch.id)
        assert len(ids) == 3 and all(i.startswith("752") for i in ids)
        records = list(bulk.iter_query_results(job.id, batch.id))
    assert _names(records) == expected
    assert len({r["Id"] for r in records}) == 11


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", [ContentType.CSV, ContentType.XML, ContentType.JSON])
async def test_async_query_flow_over_several_result_files(content_type: ContentType) -> None:
    org = FakeOrg(query_result_file_rows=4)
    expected = _seed_accounts(org, 11)
    async with AsyncBulk(auth=soap_auth(), transport=FakeOrgTransport(org)) as bulk:
        job = await bulk.create_job("query", "Account", content_type=content_type)
        assert job.id is not None
        batch = await bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
        await bulk.close_job(job.id)
        await bulk.wait_for_batch(job.id, batch.id)
        assert len(await bulk.get_query_result_ids(job.id, batch.id)) == 3
        records = [r async for r in bulk.iter_query_results(job.id, batch.id)]
    assert _names(records) == expected


@pytest.mark.peer("forcedotcom/cli#882", "simple-salesforce#349", complaint=15)
def test_c15_serial_mode_is_available_and_runs_one_batch_at_a_time() -> None:
    """Complaint 15 (forcedotcom/cli #882 asked for ``--serial``; simple-salesforce #349):
    a Serial job never has two batches in progress, where a Parallel one has all
    three at once."""
    org = FakeOrg(clock=ManualClock(), queue_time=5, processing_time=60)
    with org_bulk(org) as bulk:
        most: dict[ConcurrencyMode, int] = {}
        for mode in (ConcurrencyMode.SERIAL, ConcurrencyMode.PARALLEL):
            job = bulk.create_job("insert", "Contact", concurrency_mode=mode)
            assert job.id is not None and job.concurrency_mode is mode
            for n in range(3):
                bulk.add_batch(job.id, f"LastName\n{mode.value}{n}\n")
            bulk.close_job(job.id)
            most[mode] = 0
            for _ in range(40):
                states = [b.state for b in bulk.list_batches(job.id)]
                most[mode] = max(most[mode], states.count(BatchState.IN_PROGRESS))
                if set(states) == {BatchState.COMPLETED}:
                    break
                org.advance(10)
            assert set(states) == {BatchState.COMPLETED}
    assert most == {ConcurrencyMode.SERIAL: 1, ConcurrencyMode.PARALLEL: 3}
