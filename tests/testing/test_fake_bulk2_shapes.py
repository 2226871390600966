"""Every recorded Bulk 2.0 and REST error response parses, and the fake answers in its shape.

For each document in ``../shared/fixtures/bulk2`` and ``../shared/fixtures/rest_errors``
(``SOURCES.md`` says which request produced it):

* it parses into the SDK's model (:mod:`sfbulk_sdk.models.bulk2`), values asserted;
* the same request sent to the fake gets the same HTTP status and a reply of the
  same shape: the same keys in the same order with the same kinds of values
  (ids, dates, numbers, booleans), or for CSV the same header and value kinds.

The documentation examples are at API 66.0 and 46.0; Bulk 2.0 query jobs exist
from 47.0 (spec §3.1), so the 46.0 query examples are replayed at 47.0.
Without ``../shared`` these tests skip with the reason.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from bulk2_support import Bulk2Caller, csv_rows, errors, multipart
from fakeorg_support import assert_same_json_shape, csv_shape

from sfbulk_sdk.models.bulk2 import (
    Bulk2JobState,
    Bulk2Operation,
    ColumnDelimiter,
    IngestJobInfo,
    JobType,
    LineEnding,
    QueryJobInfo,
    RestErrors,
    ResultPages,
)
from sfbulk_sdk.models.enums import ConcurrencyMode
from sfbulk_sdk.testing import FakeOrg, FieldSpec, FieldType, ManualClock

DOCS = "bulk2/docs"


@pytest.fixture
def fx(shared_fixtures: Path) -> Path:
    return shared_fixtures


def read(fx: Path, name: str) -> bytes:
    return (fx / name).read_bytes()


def fake(clock: ManualClock, **options: float) -> FakeOrg:
    org = FakeOrg(clock=clock, **options)  # type: ignore[arg-type]
    org.add_field("Account", FieldSpec("customExtIdField__c", FieldType.STRING, external_id=True))
    return org


def same_json(reply: httpx.Response, fixture: bytes, status: int = 200) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert_same_json_shape(reply.content, fixture)


# ---------------------------------------------------------------------------
# ingest job documents


def test_ingest_create_insert(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/ingest_job_create_insert_open_v66.json")
    info = IngestJobInfo.from_json(fixture)
    assert info.id == "7505fEXAMPLE4C2AAM" and info.operation is Bulk2Operation.INSERT
    assert info.sobject == "Account" and info.state is Bulk2JobState.OPEN
    assert info.created_date == datetime(2022, 1, 2, 21, 33, 43, tzinfo=timezone.utc)
    assert info.concurrency_mode is ConcurrencyMode.PARALLEL and info.content_type == "CSV"
    assert info.api_version == 66.0 and info.job_type is None
    assert info.content_url == "services/data/66.0/jobs/ingest/7505fEXAMPLE4C2AAM/batches"
    assert info.line_ending is LineEnding.LF and info.column_delimiter is ColumnDelimiter.COMMA
    bulk = Bulk2Caller(fake(clock), version="66.0")
    same_json(
        bulk.request("POST", "/jobs/ingest", json={"object": "Account", "operation": "insert"}),
        fixture,
    )


def test_ingest_create_upsert(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/ingest_job_create_upsert_open_v66.json")
    info = IngestJobInfo.from_json(fixture)
    assert info.operation is Bulk2Operation.UPSERT
    assert info.external_id_field_name == "customExtIdField__c"
    assert info.state is Bulk2JobState.OPEN and info.content_url is not None
    bulk = Bulk2Caller(fake(clock), version="66.0")
    body = {
        "object": "Account",
        "operation": "upsert",
        "externalIdFieldName": "customExtIdField__c",
    }
    same_json(bulk.request("POST", "/jobs/ingest", json=body), fixture)


def multipart_contacts(fx: Path) -> str:
    """The data behind the docs' multipart example: its successful rows without sf__ columns."""
    rows = csv_rows(read(fx, f"{DOCS}/ingest_successful_results_multipart.csv").decode())
    return "".join(",".join(row[2:]) + "\n" for row in rows)


def test_ingest_create_multipart_and_its_results(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/ingest_job_create_multipart_uploadcomplete_v66.json")
    info = IngestJobInfo.from_json(fixture)
    assert info.sobject == "Contact" and info.state is Bulk2JobState.UPLOAD_COMPLETE
    assert info.content_url is None and info.line_ending is LineEnding.LF
    org = fake(clock)
    bulk = Bulk2Caller(org, version="66.0")
    body, media = multipart({"object": "Contact", "operation": "insert"}, multipart_contacts(fx))
    reply = bulk.request("POST", "/jobs/ingest", content=body, headers={"Content-Type": media})
    same_json(reply, fixture)
    job_id = reply.json()["id"]
    done = read(fx, f"{DOCS}/ingest_job_get_jobcomplete_multipart_v66.json")
    complete = IngestJobInfo.from_json(done)
    assert complete.state is Bulk2JobState.JOB_COMPLETE and complete.job_type is JobType.V2_INGEST
    assert (complete.number_records_processed, complete.number_records_failed) == (4, 0)
    assert (complete.retries, complete.total_processing_time) == (0, 50)
    assert (complete.api_active_processing_time, complete.apex_processing_time) == (6, 0)
    same_json(bulk.request("GET", f"/jobs/ingest/{job_id}"), done)
    expected = read(fx, f"{DOCS}/ingest_successful_results_multipart.csv").decode()
    results = bulk.results(job_id, "successfulResults")
    assert results.status_code == 200 and results.headers["content-type"] == "text/csv"
    assert results.text.splitlines()[0] == expected.splitlines()[0]  # the header, byte for byte
    got_header, got_kinds = csv_shape(results.text)
    want_header, want_kinds = csv_shape(expected)
    assert got_header == want_header and sorted(got_kinds) == sorted(want_kinds)
    assert sorted(r[2:] for r in csv_rows(results.text)[1:]) == sorted(
        r[2:] for r in csv_rows(expected)[1:]
    )
    assert org.count("Contact") == 4


def test_ingest_get_open(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/ingest_job_get_open_v66.json")
    info = IngestJobInfo.from_json(fixture)
    assert info.state is Bulk2JobState.OPEN and info.job_type is JobType.V2_INGEST
    assert info.content_url == "services/data/v66.0/jobs/ingest/7506g00000DhRA2AAN/batches"
    assert info.number_records_processed is None and info.retries == 0
    bulk = Bulk2Caller(fake(clock), version="66.0")
    job = bulk.create_ingest("insert", "Account")
    same_json(bulk.request("GET", f"/jobs/ingest/{job.id}"), fixture)


def test_ingest_close_and_complete_insert(fx: Path, clock: ManualClock) -> None:
    patched = read(fx, f"{DOCS}/ingest_job_patch_uploadcomplete_insert_v66.json")
    info = IngestJobInfo.from_json(patched)
    assert info.state is Bulk2JobState.UPLOAD_COMPLETE and info.job_type is None
    assert info.line_ending is None and info.content_url is None
    done = read(fx, f"{DOCS}/ingest_job_get_jobcomplete_insert_v66.json")
    complete = IngestJobInfo.from_json(done)
    assert complete.number_records_processed == 7 and complete.total_processing_time == 886
    bulk = Bulk2Caller(fake(clock), version="66.0")
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None
    names = "".join(f"Account {n}\n" for n in range(7))
    assert bulk.upload(job.id, "Name\n" + names).status_code == 201
    same_json(bulk.set_state(job.id, "UploadComplete"), patched)
    same_json(bulk.request("GET", f"/jobs/ingest/{job.id}"), done)


def test_ingest_upsert_close_and_results(fx: Path, clock: ManualClock) -> None:
    patched = read(fx, f"{DOCS}/ingest_job_patch_uploadcomplete_upsert_v66.json")
    info = IngestJobInfo.from_json(patched)
    assert info.external_id_field_name == "customExtIdField__c" and info.api_version == 66.0
    expected = read(fx, f"{DOCS}/ingest_successful_results_upsert.csv").decode()
    rows = csv_rows(expected)
    assert rows[0] == ["sf__Id", "sf__Created", "customExtIdField__c", "name", "NumberOfEmployees"]
    bulk = Bulk2Caller(fake(clock), version="66.0")
    job = bulk.create_ingest("upsert", "Account", externalIdFieldName="customExtIdField__c")
    assert job.id is not None
    data = "customExtIdField__c,name,NumberOfEmployees\n" + "".join(
        ",".join(f'"{v}"' for v in row[2:]) + "\n" for row in rows[1:]
    )
    assert bulk.upload(job.id, data).status_code == 201
    same_json(bulk.set_state(job.id, "UploadComplete"), patched)
    results = bulk.results(job.id, "successfulResults")
    assert results.text.splitlines()[0] == expected.splitlines()[0]
    got_header, got_kinds = csv_shape(results.text)
    want_header, want_kinds = csv_shape(expected)
    assert got_header == want_header and sorted(got_kinds) == sorted(want_kinds)


# ---------------------------------------------------------------------------
# query job documents and results


def test_query_create(fx: Path, clock: ManualClock) -> None:
    for name, version in (
        ("query_job_create_uploadcomplete_v66.json", "66.0"),
        ("query_job_create_uploadcomplete_v46.json", "47.0"),
    ):
        fixture = read(fx, f"{DOCS}/{name}")
        info = QueryJobInfo.from_json(fixture)
        assert info.operation is Bulk2Operation.QUERY and info.sobject == "Account"
        assert info.state is Bulk2JobState.UPLOAD_COMPLETE and info.job_type is None
        assert info.line_ending is LineEnding.LF and info.column_delimiter is ColumnDelimiter.COMMA
        bulk = Bulk2Caller(fake(clock), version=version)
        body = {"operation": "query", "query": "SELECT Id, Name FROM Account"}
        same_json(bulk.request("POST", "/jobs/query", json=body), fixture)


def test_query_get_complete(fx: Path, clock: ManualClock) -> None:
    for name, version, count in (
        ("query_job_get_jobcomplete_v66.json", "66.0", 28),
        ("query_job_get_jobcomplete_v46.json", "47.0", 740003),
    ):
        fixture = read(fx, f"{DOCS}/{name}")
        info = QueryJobInfo.from_json(fixture)
        assert info.state is Bulk2JobState.JOB_COMPLETE and info.job_type is JobType.V2_QUERY
        assert info.number_records_processed == count and info.retries == 0
        assert info.is_pk_chunking_supported is True
        org = fake(clock)
        org.insert("Account", [{"Name": f"A{n}"} for n in range(3)])
        bulk = Bulk2Caller(org, version=version)
        job = bulk.create_query("SELECT Id, Name FROM Account")
        same_json(bulk.request("GET", f"/jobs/query/{job.id}"), fixture)


def test_query_abort(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/query_job_abort_aborted_v46.json")
    info = QueryJobInfo.from_json(fixture)
    assert info.state is Bulk2JobState.ABORTED and info.line_ending is None
    bulk = Bulk2Caller(fake(clock, queue_time=60), version="47.0")
    job = bulk.create_query("SELECT Id, Name FROM Account")
    assert job.id is not None
    same_json(bulk.set_state(job.id, "Aborted", "query"), fixture)


def test_query_results_csv(fx: Path, clock: ManualClock) -> None:
    expected = read(fx, f"{DOCS}/query_results_accounts.csv").decode()
    rows = csv_rows(expected)
    assert rows[0] == ["Id", "Name"] and len(rows) == 14
    org = fake(clock)
    org.insert("Account", [{"Name": row[1]} for row in rows[1:]])
    bulk = Bulk2Caller(org, version="66.0")
    job = bulk.create_query("SELECT Id, Name FROM Account")
    page = bulk.page(str(job.id))
    assert page.status == 200 and page.locator == "null" and page.count == 13
    assert page.text.splitlines()[0] == expected.splitlines()[0]
    assert csv_shape(page.text) == csv_shape(expected)


def headers_of(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines()[1:]:
        name, sep, value = line.partition(": ")
        if sep and name.startswith("Sforce-"):
            found[name] = value
    return found


def test_query_result_pages_and_locator_headers(fx: Path, clock: ManualClock) -> None:
    first = headers_of(read(fx, f"{DOCS}/query_results_page1_http_response_TRUNCATED.txt").decode())
    last = headers_of(
        read(fx, f"{DOCS}/query_results_last_page_http_response_TRUNCATED.txt").decode()
    )
    assert first == {"Sforce-Locator": "MTAwMDA", "Sforce-NumberOfRecords": "50000"}
    assert last == {"Sforce-Locator": "null", "Sforce-NumberOfRecords": "6155"}
    fixture = read(fx, f"{DOCS}/query_result_pages_v58.json")
    pages = ResultPages.from_json(fixture)
    assert len(pages.result_pages) == 5 and pages.done is False
    assert pages.result_pages[0].result_url.endswith("/results?locator=aBcDeFg4N")
    assert pages.next_records_url is not None and "/resultpages?locator=" in pages.next_records_url
    org = fake(clock)
    org.insert("Account", [{"Name": f"A{n}"} for n in range(12)])
    bulk = Bulk2Caller(org, version="58.0")
    job = bulk.create_query("SELECT Id, Name FROM Account")
    page = bulk.page(str(job.id), maxRecords=5)
    assert page.locator not in (None, "null") and page.count == 5
    assert bulk.page(str(job.id), maxRecords=5, locator=str(page.locator)).count == 5
    reply = bulk.request("GET", f"/jobs/query/{job.id}/resultPages", params={"maxRecords": 2})
    same_json(reply, fixture)


# ---------------------------------------------------------------------------
# errors


def test_error_delete_unterminated_query_job(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/error_400_API_ERROR_delete_unterminated_query_job.json")
    parsed = RestErrors.from_json(fixture)
    assert parsed.first is not None and parsed.first.error_code == "API_ERROR"
    assert parsed.first.message == (
        "Error encountered when deleting the job because the job is not terminated"
    )
    bulk = Bulk2Caller(fake(clock, queue_time=60), version="66.0")
    job = bulk.create_query("SELECT Id FROM Account")
    reply = bulk.request("DELETE", f"/jobs/query/{job.id}")
    same_json(reply, fixture, 400)
    assert errors(reply) == [(parsed.first.error_code, parsed.first.message)]


def test_error_abort_completed_query_job(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/error_400_INVALIDJOBSTATE_abort_completed_query_job.json")
    parsed = RestErrors.from_json(fixture)
    assert parsed.first is not None and parsed.first.error_code == "INVALIDJOBSTATE"
    assert parsed.first.message == "Aborting already Completed Job not allowed"
    bulk = Bulk2Caller(fake(clock), version="66.0")
    job = bulk.create_query("SELECT Id FROM Account")
    assert bulk.query(str(job.id)).state is Bulk2JobState.JOB_COMPLETE
    reply = bulk.set_state(str(job.id), "Aborted", "query")
    same_json(reply, fixture, 400)
    assert errors(reply) == [(parsed.first.error_code, parsed.first.message)]


def test_error_deleted_job_not_found(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, f"{DOCS}/error_404_NOT_FOUND_deleted_job.json")
    parsed = RestErrors.from_json(fixture)
    assert parsed.first is not None and parsed.first.error_code == "NOT_FOUND"
    assert parsed.first.message == "The requested resource does not exist"
    bulk = Bulk2Caller(fake(clock), version="66.0")
    job = bulk.load("insert", "Account", "Name\nAcme\n")
    assert bulk.request("DELETE", f"/jobs/ingest/{job.id}").status_code == 204
    reply = bulk.request("GET", f"/jobs/ingest/{job.id}")
    same_json(reply, fixture, 404)
    assert errors(reply) == [("NOT_FOUND", parsed.first.message)]


def test_error_expired_session_is_the_recorded_body(fx: Path, clock: ManualClock) -> None:
    fixture = read(fx, "rest_errors/rest_401_INVALID_SESSION_ID_restforce.json")
    parsed = RestErrors.from_json(fixture)
    assert parsed.first is not None and parsed.first.error_code == "INVALID_SESSION_ID"
    assert parsed.first.message == "Session expired or invalid"
    org = fake(clock)
    bulk = Bulk2Caller(org, version="66.0")
    org.expire_sessions()
    reply = bulk.request("GET", "/jobs/ingest")
    same_json(reply, fixture, 401)
    assert reply.content == fixture  # message first, compact: byte for byte
    assert reply.headers["www-authenticate"] == "Token"


def test_rest_errors_from_the_rest_guide(fx: Path, clock: ManualClock) -> None:
    not_found = read(fx, "rest_errors/docs/rest_404_NOT_FOUND.json")
    parsed = RestErrors.from_json(not_found)
    assert parsed.first is not None and parsed.first.error_code == "NOT_FOUND"
    assert parsed.first.message == "The requested resource does not exist"
    bulk = Bulk2Caller(fake(clock), version="66.0")
    same_json(bulk.request("GET", "/sobjects/Nothing__c/describe"), not_found, 404)
    # The REST guide's MALFORMED_ID example answers a record resource the fake does not
    # serve (GET /sobjects/Account/{id}); only the parse is checked.
    malformed = RestErrors.from_json(read(fx, "rest_errors/docs/rest_400_MALFORMED_ID.json"))
    assert malformed.first is not None and malformed.first.error_code == "MALFORMED_ID"
    assert malformed.first.fields == ["Id"]
    assert malformed.first.message == "Account ID: id value of incorrect type: 001900K0001pPuOAAU"
