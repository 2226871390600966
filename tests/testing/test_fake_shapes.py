"""The fake answers the requests behind every recorded Bulk 1.0 / SOAP response in the same shape.

For each response in ``../shared/fixtures`` (``SOURCES.md`` says which request
produced it; ``fixtures/requests/`` holds some of the requests verbatim) the
same request is sent to the fake, and the reply must match the recording in
shape: root element and namespace, the elements in the same order, the same
kinds of values (ids, dates, numbers, booleans, URLs) and the same HTTP
status. Ids, dates and names may differ.

The live recordings are from 2012 at API 24.0, so the org used here still
accepts that version (``oldest_api_version="20.0"``) and declares the custom
object the recordings used (``VideoEvent__c``).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fakeorg_support import (
    DATALOAD,
    BulkCaller,
    Reply,
    all_values_quoted,
    assert_same_json_shape,
    assert_same_xml_shape,
    csv_shape,
)

from sfbulk_sdk.testing import (
    FakeOrg,
    FakeOrgTransport,
    FakeUser,
    FieldSpec,
    FieldType,
    ManualClock,
)

LIVE_JSON_EXTRAS = frozenset(
    {"fastPathEnabled", "externalIdFieldName", "assignmentRuleId", "stateMessage"}
)


@pytest.fixture
def fx(shared_fixtures: Path) -> Path:
    return shared_fixtures


def read(fx: Path, name: str) -> bytes:
    return (fx / name).read_bytes()


def video_org(clock: ManualClock, **options: float) -> FakeOrg:
    org = FakeOrg(
        clock=clock,
        users=[FakeUser("MyUsername", "MyPassword", "MySecurityToken")],
        oldest_api_version="20.0",
        queue_time=options.get("queue_time", 0.0),
        processing_time=options.get("processing_time", 0.0),
    )
    org.declare_object(
        "VideoEvent__c",
        [
            FieldSpec("Id__c", FieldType.DOUBLE, external_id=True, unique=True),
            FieldSpec("Title__c", FieldType.STRING),
            FieldSpec("IsPreview__c", FieldType.BOOLEAN),
        ],
    )
    return org


def v24(org: FakeOrg) -> BulkCaller:
    return BulkCaller(org, version="24.0")


def expect(
    reply: Reply, status: int, fixture: bytes, content_type: str = "application/xml"
) -> None:
    assert reply.status == status, reply.text
    assert reply.content_type == content_type
    assert_same_xml_shape(reply.raw, fixture)


# ---------------------------------------------------------------------------
# SOAP login (live, v24)


def soap(org: FakeOrg, body: bytes) -> httpx.Response:
    with httpx.Client(
        transport=FakeOrgTransport(org), base_url="https://login.salesforce.com"
    ) as client:
        return client.post(
            "/services/Soap/u/24.0",
            content=body,
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        )


def test_soap_login_response(fx: Path, clock: ManualClock) -> None:
    org = video_org(clock)
    reply = soap(org, read(fx, "requests/soap_partner_login_request_jorgevaldivia.xml"))
    assert reply.status_code == 200
    assert_same_xml_shape(
        reply.content, read(fx, "soap_login/partner_login_response_v24_jorgevaldivia.xml")
    )
    assert org.login_count == 1


def test_soap_login_fault(fx: Path, clock: ManualClock) -> None:
    org = video_org(clock)
    request = read(fx, "requests/soap_partner_login_request_jorgevaldivia.xml")
    reply = soap(org, request.replace(b"MyPasswordMySecurityToken", b"NotThePassword"))
    assert reply.status_code == 500
    fixture = read(fx, "soap_login/partner_login_fault_INVALID_LOGIN_jorgevaldivia.xml")
    assert_same_xml_shape(reply.content, fixture)
    assert reply.content == fixture  # the fault is byte-for-byte Salesforce's
    assert org.login_count == 0


# ---------------------------------------------------------------------------
# Bulk 1.0 live recordings (v24, upsert of VideoEvent__c)


def create_upsert_job(fx: Path, bulk: BulkCaller) -> Reply:
    return bulk.call(
        "POST", "/job", read(fx, "requests/bulk1_job_create_upsert_request_jorgevaldivia.xml")
    )


def job_id_of(reply: Reply) -> str:
    return reply.text.split("<id>")[1].split("<")[0]


def test_live_job_lifecycle(fx: Path, clock: ManualClock) -> None:
    bulk = v24(video_org(clock))
    created = create_upsert_job(fx, bulk)
    expect(created, 201, read(fx, "bulk1/jobinfo_create_upsert_open_v24_jorgevaldivia.xml"))
    job_id = job_id_of(created)
    expect(
        bulk.call("GET", f"/job/{job_id}"),
        200,
        read(fx, "bulk1/jobinfo_get_open_v24_jorgevaldivia.xml"),
    )
    closed = bulk.call(
        "POST", f"/job/{job_id}", read(fx, "requests/bulk1_job_close_request_jorgevaldivia.xml")
    )
    expect(closed, 200, read(fx, "bulk1/jobinfo_close_closed_v24_jorgevaldivia.xml"))
    other = job_id_of(create_upsert_job(fx, bulk))
    aborted = bulk.call(
        "POST", f"/job/{other}", read(fx, "requests/bulk1_job_abort_request_jorgevaldivia.xml")
    )
    expect(aborted, 200, read(fx, "bulk1/jobinfo_abort_aborted_v24_jorgevaldivia.xml"))


def test_live_batches_and_upsert_results(fx: Path, clock: ManualClock) -> None:
    org = video_org(clock)
    # The recorded upsert updated two existing rows (Created = false).
    org.insert("VideoEvent__c", [{"Id__c": 12345}, {"Id__c": 23456}])
    bulk = v24(org)
    job_id = job_id_of(create_upsert_job(fx, bulk))
    rows = read(fx, "requests/bulk1_batch_upsert_request_jorgevaldivia.csv")
    added = bulk.call("POST", f"/job/{job_id}/batch", rows, content_type="text/csv; charset=UTF-8")
    expect(added, 201, read(fx, "bulk1/batchinfo_create_queued_jorgevaldivia.xml"))
    batch_id = job_id_of(added)
    got = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}")
    expect(got, 200, read(fx, "bulk1/batchinfo_get_completed_jorgevaldivia.xml"))
    assert "<state>Completed</state>" in got.text
    result = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    assert result.status == 200 and result.content_type == "text/csv"
    recorded = read(fx, "bulk1/batch_result_upsert_updated_jorgevaldivia.csv").decode()
    assert csv_shape(result.text) == csv_shape(recorded) and all_values_quoted(result.text)
    bulk.call("POST", f"/job/{job_id}/batch", rows, content_type="text/csv; charset=UTF-8")
    listing = bulk.call("GET", f"/job/{job_id}/batch")
    expect(listing, 200, read(fx, "bulk1/batchinfolist_two_completed_jorgevaldivia.xml"))


def test_live_query_result_list_and_csv(fx: Path, clock: ManualClock) -> None:
    org = video_org(clock)
    org.insert(
        "VideoEvent__c",
        [
            {"Id__c": 23456, "Title__c": "A second test!", "IsPreview__c": True},
            {"Id__c": 12345, "Title__c": "This is a test video"},
            {"Id__c": 3456, "Title__c": "Some long title"},
            {"Id__c": 4567, "Title__c": "Another test title for testing", "IsPreview__c": True},
        ],
    )
    bulk = v24(org)
    doc = (
        f'<?xml version="1.0" encoding="utf-8"?><jobInfo xmlns="{DATALOAD}">'
        "<operation>query</operation><object>VideoEvent__c</object><contentType>CSV</contentType></jobInfo>"
    )
    job_id = job_id_of(bulk.call("POST", "/job", doc))
    soql = "SELECT Id__c, Title__c, IsPreview__c FROM VideoEvent__c"
    batch_id = job_id_of(
        bulk.call("POST", f"/job/{job_id}/batch", soql, content_type="text/csv; charset=UTF-8")
    )
    listing = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    expect(listing, 200, read(fx, "bulk1/query_result_list_one_jorgevaldivia.xml"))
    result_id = listing.text.split("<result>")[1].split("<")[0]
    rows = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id}")
    assert rows.status == 200 and rows.content_type == "text/csv"
    recorded = read(fx, "bulk1/query_result_csv_jorgevaldivia.csv").decode()
    assert csv_shape(rows.text) == csv_shape(recorded)
    assert rows.text == recorded  # same data, same rendering ("23456.0", quoted booleans)


def test_live_errors(fx: Path, clock: ManualClock) -> None:
    org = video_org(clock, processing_time=30)
    bulk = v24(org)
    stale = BulkCaller(org, version="24.0", session_id="00D5j0000000001!AQexpired")
    expect(
        stale.call("GET", "/job/750E00000004N1mIAE"),
        400,
        read(fx, "bulk1/error_InvalidSessionId_jorgevaldivia.xml"),
    )
    request = read(fx, "requests/bulk1_job_create_upsert_request_jorgevaldivia.xml")
    no_object = bulk.call("POST", "/job", request.replace(b"VideoEvent__c", b"Video__c"))
    expect(
        no_object, 400, read(fx, "bulk1/error_InvalidJob_unable_to_find_object_jorgevaldivia.xml")
    )
    assert "Unable to find object: Video__c" in no_object.text
    job_id = job_id_of(create_upsert_job(fx, bulk))
    typo = bulk.call(
        "POST", f"/job/{job_id}/batch", b"Id__c\n1\n", content_type="text/cs; charset=UTF-8"
    )
    expect(typo, 400, read(fx, "bulk1/error_UnsupportedContentType_jorgevaldivia.xml"))
    assert "Unsupported content type: text/cs; charset=UTF-8" in typo.text
    rows = read(fx, "requests/bulk1_batch_upsert_request_jorgevaldivia.csv")
    batch_id = job_id_of(bulk.call("POST", f"/job/{job_id}/batch", rows, content_type="text/csv"))
    early = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    expect(early, 400, read(fx, "bulk1/error_InvalidBatch_records_not_processed_jorgevaldivia.xml"))


# ---------------------------------------------------------------------------
# Salesforce documentation examples (v36 XML and JSON)


def insert_job(bulk: BulkCaller, content_type: str, sobject: str = "Account") -> Reply:
    doc = (
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{DATALOAD}">'
        f"<operation>insert</operation><object>{sobject}</object><contentType>{content_type}</contentType></jobInfo>"
    )
    return bulk.call("POST", "/job", doc)


XML_BATCH = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<sObjects xmlns="{DATALOAD}">\n'
    "  <sObject>\n    <description>Created from Bulk API</description>\n"
    "    <name>[Bulk API] Account 0 (batch 0)</name>\n  </sObject>\n"
    "  <sObject>\n    <description>Created from Bulk API</description>\n"
    "    <name>[Bulk API] Account 1 (batch 0)</name>\n  </sObject>\n</sObjects>\n"
)


def test_docs_xml_ingest_job(fx: Path, clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, queue_time=1, processing_time=2)
    bulk = BulkCaller(org, version="36.0")
    created = insert_job(bulk, "CSV")
    expect(created, 201, read(fx, "bulk1/docs/jobinfo_create_insert_csv_open_v36.xml"))

    job_id = job_id_of(insert_job(bulk, "XML"))
    added = bulk.call("POST", f"/job/{job_id}/batch", XML_BATCH)
    expect(added, 201, read(fx, "bulk1/docs/batchinfo_add_batch_queued_xml.xml"))
    batch_id = job_id_of(added)
    second = job_id_of(bulk.call("POST", f"/job/{job_id}/batch", XML_BATCH))
    clock.advance(1)
    running = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}")
    expect(running, 200, read(fx, "bulk1/docs/batchinfo_get_inprogress_xml.xml"))
    assert "<state>InProgress</state>" in running.text
    expect(
        bulk.call("GET", f"/job/{job_id}/batch"),
        200,
        read(fx, "bulk1/docs/batchinfolist_two_inprogress_xml.xml"),
    )
    request = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/request")
    expect(request, 200, read(fx, "bulk1/docs/batch_request_xml.xml"))
    clock.advance(2)
    results = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    expect(results, 200, read(fx, "bulk1/docs/batch_results_insert_xml.xml"))
    assert second and org.count("Account") == 4
    closed = bulk.set_state(job_id, "Closed")
    # The docs' close/abort examples show one completed batch.
    single = job_id_of(insert_job(bulk, "XML"))
    bulk.call("POST", f"/job/{single}/batch", XML_BATCH)
    clock.advance(3)
    expect(
        bulk.set_state(single, "Closed"),
        200,
        read(fx, "bulk1/docs/jobinfo_close_closed_xml_v36.xml"),
    )
    expect(
        bulk.set_state(single, "Aborted"),
        200,
        read(fx, "bulk1/docs/jobinfo_abort_aborted_xml_v36.xml"),
    )
    assert closed.status == 200


def test_docs_csv_results_with_failure(fx: Path, org: FakeOrg) -> None:
    bulk = BulkCaller(org, version="36.0")
    job_id = job_id_of(insert_job(bulk, "CSV", "Contact"))
    batch_id = job_id_of(
        bulk.call(
            "POST",
            f"/job/{job_id}/batch",
            "FirstName,LastName\nA,One\nB,Two\nC,\n",
            content_type="text/csv",
        )
    )
    reply = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    recorded = read(fx, "bulk1/docs/batch_results_csv_with_failure.csv").decode()
    assert reply.content_type == "text/csv"
    assert csv_shape(reply.text) == csv_shape(recorded)
    assert reply.text.splitlines()[3] == recorded.splitlines()[3]  # the failed row, verbatim


def test_docs_query_walkthrough(fx: Path, clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, processing_time=5)
    org.insert("Account", [{"Name": f"name{161268 + n}--1296595660659"} for n in range(12)])
    bulk = BulkCaller(org, version="36.0")
    doc = (
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{DATALOAD}">'
        "<operation>query</operation><object>Account</object>"
        "<concurrencyMode>Parallel</concurrencyMode><contentType>CSV</contentType></jobInfo>"
    )
    created = bulk.call("POST", "/job", doc)
    expect(created, 201, read(fx, "bulk1/docs/walkthrough_query_jobinfo_create_open_csv_v36.xml"))
    job_id = job_id_of(created)
    added = bulk.call(
        "POST",
        f"/job/{job_id}/batch",
        "SELECT Id, Name FROM Account LIMIT 10",
        content_type="text/csv",
    )
    expect(added, 201, read(fx, "bulk1/docs/walkthrough_query_batchinfo_queued.xml"))
    batch_id = job_id_of(added)
    clock.advance(5)
    expect(
        bulk.set_state(job_id, "Closed"),
        200,
        read(fx, "bulk1/docs/walkthrough_query_jobinfo_closed_v36.xml"),
    )
    done = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}")
    expect(done, 200, read(fx, "bulk1/docs/walkthrough_query_batchinfo_completed.xml"))
    assert "<numberRecordsProcessed>10</numberRecordsProcessed>" in done.text
    listing = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
    expect(listing, 200, read(fx, "bulk1/docs/walkthrough_query_result_list.xml"))
    result_id = listing.text.split("<result>")[1].split("<")[0]
    rows = bulk.call("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id}")
    recorded = read(fx, "bulk1/docs/walkthrough_query_result.csv").decode()
    assert csv_shape(rows.text) == csv_shape(recorded) and all_values_quoted(rows.text)


def test_docs_pk_chunking_batch_list(fx: Path, org: FakeOrg) -> None:
    org.insert("Account", [{"Name": str(n)} for n in range(7)])
    bulk = BulkCaller(org, version="36.0")
    job = bulk.create_job("query", "Account", headers={"Sforce-Enable-PKChunking": "chunkSize=2"})
    assert job.id is not None
    original = bulk.add_batch(job.id, "SELECT Name FROM Account")
    listing = bulk.call("GET", f"/job/{job.id}/batch")
    # NotProcessed original plus four chunks, as in the documentation's example.
    expect(listing, 200, read(fx, "bulk1/docs/batchinfolist_pk_chunking_notprocessed_xml.xml"))
    first = bulk.call("GET", f"/job/{job.id}/batch/{original.id}")
    expect(first, 200, read(fx, "bulk1/docs/pkchunking_original_batchinfo_state_with_space.xml"))
    assert "<state>NotProcessed</state>" in first.text  # the wire spelling, not "Not Processed"


def json_call(bulk: BulkCaller, method: str, path: str, body: object = None) -> Reply:
    content = json.dumps(body) if body is not None and not isinstance(body, str) else body
    return bulk.call(method, path, content, content_type="application/json")


def expect_json(reply: Reply, status: int, fixture: bytes) -> None:
    assert reply.status == status, reply.text
    assert reply.content_type == "application/json"
    assert_same_json_shape(reply.raw, fixture, live_extras=LIVE_JSON_EXTRAS)


def test_docs_json_job(fx: Path, clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, processing_time=4)
    bulk = BulkCaller(org, version="36.0")
    created = json_call(
        bulk, "POST", "/job", {"operation": "insert", "object": "Account", "contentType": "JSON"}
    )
    expect_json(created, 201, read(fx, "bulk1/docs/json_jobinfo_create_insert_json_open_v36.json"))
    job_id = json.loads(created.text)["id"]
    rows = read(fx, "bulk1/docs/json_batch_request.json").decode()
    added = json_call(bulk, "POST", f"/job/{job_id}/batch", rows)
    expect_json(added, 201, read(fx, "bulk1/docs/json_batchinfo_add_batch_queued.json"))
    batch_id = json.loads(added.text)["id"]
    running = json_call(bulk, "GET", f"/job/{job_id}/batch/{batch_id}")
    expect_json(running, 200, read(fx, "bulk1/docs/json_batchinfo_get_inprogress.json"))
    assert json.loads(running.text)["state"] == "InProgress"
    clock.advance(2)
    json_call(bulk, "POST", f"/job/{job_id}/batch", rows)
    clock.advance(2)
    listing = json_call(bulk, "GET", f"/job/{job_id}/batch")
    expect_json(listing, 200, read(fx, "bulk1/docs/json_batchinfolist_queued_completed.json"))
    request = json_call(bulk, "GET", f"/job/{job_id}/batch/{batch_id}/request")
    expect_json(request, 200, read(fx, "bulk1/docs/json_batch_request.json"))
    results = json_call(bulk, "GET", f"/job/{job_id}/batch/{batch_id}/result")
    expect_json(results, 200, read(fx, "bulk1/docs/json_batch_results_insert.json"))
    closed = json_call(bulk, "POST", f"/job/{job_id}", {"state": "Closed"})
    expect_json(closed, 200, read(fx, "bulk1/docs/json_jobinfo_close_closed_v36.json"))
    aborted = json_call(bulk, "POST", f"/job/{job_id}", {"state": "Aborted"})
    expect_json(aborted, 200, read(fx, "bulk1/docs/json_jobinfo_abort_aborted_v36.json"))


# ---------------------------------------------------------------------------
# the comparator itself


def test_the_comparator_notices_differences(fx: Path) -> None:
    from fakeorg_support import shape_differences, value_kind, xml_shape

    job = read(fx, "bulk1/jobinfo_get_open_v24_jorgevaldivia.xml")
    same = job.replace(b"750E00000004N1mIAE", b"7505j0000000001AAA").replace(
        b"2012-05-30", b"2026-01-31"
    )
    assert shape_differences(xml_shape(job), xml_shape(same)) == []
    swapped = job.replace(b"<state>Open</state>", b"").replace(
        b"<concurrencyMode>", b"<state>Open</state>\n <concurrencyMode>"
    )
    assert shape_differences(xml_shape(job), xml_shape(swapped))  # element order
    typed = job.replace(b"<apiVersion>24.0</apiVersion>", b"<apiVersion>24</apiVersion>")
    assert shape_differences(xml_shape(job), xml_shape(typed))  # decimal vs integer
    dated = job.replace(b"2012-05-30T04:08:30.000Z", b"2012-05-30T04:08:30Z")
    assert shape_differences(xml_shape(job), xml_shape(dated))  # date format
    other_ns = job.replace(b"http://www.force.com/2009/06/asyncapi/dataload", b"urn:other")
    assert shape_differences(xml_shape(job), xml_shape(other_ns))  # namespace
    missing = job.replace(b"<numberRetries>0</numberRetries>", b"")
    assert shape_differences(xml_shape(job), xml_shape(missing))
    assert value_kind("001D000000ISUr3IAH") == "id18" and value_kind("752E0000000TNaq") == "id15"
    assert value_kind("https://na9-api.salesforce.com/services/Soap/u/24.0/00DE0000000YSKp") == (
        "url:/services/Soap/u/{version}/{id}"
    )
    with pytest.raises(AssertionError):
        assert_same_json_shape('{"a": 1, "b": 2.0}', '{"a": 1, "b": 2}')
