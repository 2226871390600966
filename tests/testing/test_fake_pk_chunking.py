"""PK chunking: ``Sforce-Enable-PKChunking`` splits a query batch into Id-range batches."""

from __future__ import annotations

import csv
import io

import pytest
from fakeorg_support import BulkCaller

from sfbulk_sdk.models import BulkErrorInfo
from sfbulk_sdk.models.enums import BatchState
from sfbulk_sdk.testing import FakeOrg

HEADER = "Sforce-Enable-PKChunking"


def chunked_query(
    bulk: BulkCaller, soql: str, header: str, sobject: str = "Account"
) -> tuple[str, list[str]]:
    job = bulk.create_job("query", sobject, headers={HEADER: header})
    assert job.id is not None
    original = bulk.add_batch(job.id, soql)
    return job.id, [original.id]


def ids_in(bulk: BulkCaller, job_id: str, batch_id: str) -> list[str]:
    listing = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    ids: list[str] = []
    for result_id in listing.text.split("<result>")[1:]:
        reply = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id.split('<')[0]}")
        if reply.text != "Records not found for this query":
            ids.extend(row["Id"] for row in csv.DictReader(io.StringIO(reply.text)))
    return ids


def test_250k_rows_in_five_chunks_of_50k() -> None:
    org = FakeOrg()
    all_ids = org.insert("Account", ({"Name": f"Account {n}"} for n in range(250_000)))
    bulk = BulkCaller(org)
    job_id, (original,) = chunked_query(bulk, "SELECT Id, Name FROM Account", "chunkSize=50000")
    batches = bulk.batches(job_id)
    assert len(batches) == 6
    assert batches[0].id == original and batches[0].state is BatchState.NOT_PROCESSED
    assert batches[0].number_records_processed == 0
    chunks = batches[1:]
    assert [b.state for b in chunks] == [BatchState.COMPLETED] * 5
    assert [b.number_records_processed for b in chunks] == [50_000] * 5
    seen: list[str] = []
    for chunk in chunks:
        seen.extend(ids_in(bulk, job_id, chunk.id))
    assert len(seen) == 250_000 and set(seen) == set(all_ids)  # every row exactly once
    early = bulk.call("GET", f"/job/{job_id}/batch/{original}/result")
    assert early.status == 400
    assert BulkErrorInfo.from_xml(early.raw).exception_message == "Records not processed"
    info = bulk.job(job_id)
    assert (info.number_batches_total, info.number_batches_completed) == (6, 5)
    assert info.number_records_processed == 250_000


@pytest.fixture
def small(org: FakeOrg) -> FakeOrg:
    org.insert("Account", [{"Name": f"A{n}", "NumberOfEmployees": n} for n in range(7)])
    return org


def test_header_forms(small: FakeOrg) -> None:
    bulk = BulkCaller(small)
    # salesforce-bulk sends "true" and "chunkSize=N;" with a trailing semicolon.
    for header, sizes in (
        ("true", [7]),
        ("TRUE", [7]),
        ("chunkSize=2;", [2, 2, 2, 1]),
        ("chunkSize=3; parent=Account", [3, 3, 1]),
    ):
        job_id, _ = chunked_query(bulk, "SELECT Id FROM Account", header)
        batches = bulk.batches(job_id)
        assert batches[0].state is BatchState.NOT_PROCESSED
        assert [b.number_records_processed for b in batches[1:]] == sizes, header
    job = bulk.create_job("query", "Account", headers={HEADER: "FALSE"})
    assert job.id is not None
    bulk.add_batch(job.id, "SELECT Id FROM Account")
    assert [b.state for b in bulk.batches(job.id)] == [BatchState.COMPLETED]


def test_start_row_filters_and_chunk_requests(small: FakeOrg) -> None:
    bulk = BulkCaller(small)
    ids = [r["Id"] for r in small.records("Account")]
    job_id, _ = chunked_query(
        bulk,
        "SELECT Id FROM Account WHERE NumberOfEmployees != 4",
        f"chunkSize=2; startRow={ids[2][:15]}",
    )
    chunks = bulk.batches(job_id)[1:]
    got = [ids_in(bulk, job_id, c.id) for c in chunks]
    assert got == [[ids[2], ids[3]], [ids[5]], [ids[6]]]
    request = bulk.call("GET", f"/job/{job_id}/batch/{chunks[0].id}/request")
    assert request.text == "SELECT Id FROM Account WHERE NumberOfEmployees != 4"


def test_order_by_or_id_filters_disable_chunking(small: FakeOrg) -> None:
    bulk = BulkCaller(small)
    first = small.records("Account")[0]["Id"]
    for soql in (
        "SELECT Id FROM Account ORDER BY Name",
        f"SELECT Id FROM Account WHERE Id != '{first}'",
    ):
        job_id, (original,) = chunked_query(bulk, soql, "chunkSize=2")
        batches = bulk.batches(job_id)
        assert [b.id for b in batches] == [original] and batches[0].state is BatchState.COMPLETED


def test_filters_on_any_id_field_disable_chunking(small: FakeOrg) -> None:
    """Spec §2.3: filtering on Id fields (not only the record Id) disables chunking."""
    bulk = BulkCaller(small)
    account = small.records("Account")[0]["Id"]
    owner = small.state.accounts.default.user_id
    small.insert("Contact", [{"LastName": f"C{n}", "AccountId": account} for n in range(5)])
    for sobject, soql in (
        ("Account", f"SELECT Id FROM Account WHERE OwnerId = '{owner}'"),
        ("Account", "SELECT Id FROM Account WHERE ParentId = null"),
        ("Contact", f"SELECT Id FROM Contact WHERE AccountId = '{account}'"),
        ("Contact", f"SELECT Id FROM Contact WHERE Account.Id = '{account}'"),
        ("Contact", f"SELECT Id FROM Contact WHERE LastName != 'x' AND (AccountId = '{account}')"),
    ):
        job_id, (original,) = chunked_query(bulk, soql, "chunkSize=2", sobject)
        batches = bulk.batches(job_id)
        assert [b.id for b in batches] == [original], soql
        assert batches[0].state is BatchState.COMPLETED
        assert batches[0].number_records_processed == (7 if sobject == "Account" else 5)
    # A filter on a field that is not an Id still chunks.
    job_id, _ = chunked_query(
        bulk, "SELECT Id FROM Contact WHERE Account.Name = 'A0'", "chunkSize=2", "Contact"
    )
    batches = bulk.batches(job_id)
    assert batches[0].state is BatchState.NOT_PROCESSED
    assert [b.number_records_processed for b in batches[1:]] == [2, 2, 1]


def test_bad_headers_and_non_query_jobs(small: FakeOrg) -> None:
    bulk = BulkCaller(small)
    doc = (
        '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>query</operation>'
        "<object>Account</object><contentType>CSV</contentType></jobInfo>"
    )
    for header in ("chunkSize=0", "chunkSize=250001", "chunkSize=abc", "size=5", "bogus"):
        reply = bulk.call("POST", "/job", doc, headers={HEADER: header})
        assert (
            reply.status == 400 and BulkErrorInfo.from_xml(reply.raw).exception_code == "InvalidJob"
        )
    # Ingest jobs ignore the header.
    job = bulk.create_job("insert", "Account", headers={HEADER: "chunkSize=2"})
    assert job.id is not None
    batch = bulk.add_batch(job.id, "Name\nZ\n")
    assert bulk.batch(job.id, batch.id).state is BatchState.COMPLETED


def test_query_all_chunks_include_deleted_rows(small: FakeOrg) -> None:
    bulk = BulkCaller(small)
    victim = small.records("Account")[1]["Id"]
    bulk.run_csv("delete", "Account", f"Id\n{victim}\n")
    job = bulk.create_job("queryAll", "Account", headers={HEADER: "chunkSize=4"})
    assert job.id is not None
    bulk.add_batch(job.id, "SELECT Id FROM Account")
    chunks = bulk.batches(job.id)[1:]
    found = [i for c in chunks for i in ids_in(bulk, job.id, c.id)]
    assert len(found) == 7 and victim in found
