"""Both clients end to end against the fake org (in-process transport).

The full insert flow and the full query flow (several result files per batch)
run on Bulk and AsyncBulk, for CSV, XML and JSON jobs, plus the seed's
documented example flow. Results are checked against the fake org's tables.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sfbulk_sdk import AsyncBulk, Bulk, ContentType, JobState, errors
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.models import BatchResult, BatchState, QueryBatchResult
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)
from tests.timing import FakeTime

LOGIN_URL = "https://login.salesforce.com"

CSV_ROWS = "FirstName,LastName,Email\n" + "".join(
    f"First{i},Last{i},p{i}@example.com\n" for i in range(7)
)


def _soap() -> SoapLogin:
    return SoapLogin(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=LOGIN_URL
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
    with Bulk(auth=_soap(), transport=FakeOrgTransport(org)) as bulk:
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
    async with AsyncBulk(auth=_soap(), transport=FakeOrgTransport(org)) as bulk:
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
    with Bulk(auth=_soap(), transport=FakeOrgTransport(org)) as bulk:
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
    async with AsyncBulk(auth=_soap(), transport=FakeOrgTransport(org)) as bulk:
        job = await bulk.create_job("query", "Account", content_type=content_type)
        assert job.id is not None
        batch = await bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
        await bulk.close_job(job.id)
        await bulk.wait_for_batch(job.id, batch.id)
        assert len(await bulk.get_query_result_ids(job.id, batch.id)) == 3
        records = [r async for r in bulk.iter_query_results(job.id, batch.id)]
    assert _names(records) == expected


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


def test_bad_input_raises_before_any_request() -> None:
    org = FakeOrg()
    with Bulk(auth=_soap(), transport=FakeOrgTransport(org)) as bulk:
        with pytest.raises(errors.InvalidInputError):
            bulk.create_job("upsert", "Contact")
        with pytest.raises(errors.InvalidInputError):
            bulk.create_job("insert", "Contact; DROP")
    assert sum(org.requests.values()) == 0
