"""Bulk API 1.0 behaviour of the fake org: operations, record errors, formats, limits, quirks."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator

import pytest
from fakeorg_support import DATALOAD, BulkCaller, all_values_quoted

from sfbulk_sdk.models import BatchInfo, BatchResult, BulkErrorInfo, JobInfo
from sfbulk_sdk.models.enums import BatchState, ConcurrencyMode, ContentType
from sfbulk_sdk.testing import FakeOrg, FieldSpec, FieldType


@pytest.fixture
def bulk(org: FakeOrg) -> BulkCaller:
    return BulkCaller(org)


def errors_of(results: BatchResult) -> list[str]:
    return [r.errors[0].to_csv_text() if r.errors else "" for r in results]


def error(reply: object) -> tuple[int, str, str]:
    info = BulkErrorInfo.from_xml(reply.raw)  # type: ignore[attr-defined]
    return reply.status, info.exception_code, info.exception_message  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# operations


def test_insert_update_delete_hard_delete(org: FakeOrg, bulk: BulkCaller) -> None:
    inserted = bulk.run_csv("insert", "Account", "Name,Industry\nA,Energy\nB,Retail\n")
    assert [(r.success, r.created) for r in inserted] == [(True, True), (True, True)]
    a, b = (r.id for r in inserted)
    assert a is not None and b is not None

    # An empty CSV value leaves the field alone; #N/A clears it.
    updated = bulk.run_csv("update", "Account", f"Id,Name,Industry\n{a},A2,\n{b[:15]},,#N/A\n")
    assert [(r.id, r.success, r.created) for r in updated] == [(a, True, False), (b, True, False)]
    assert org.record("Account", a) is not None
    assert {(r["Name"], r["Industry"]) for r in org.records("Account")} == {
        ("A2", "Energy"),
        ("B", None),
    }

    deleted = bulk.run_csv("delete", "Account", f"Id\n{a}\n")
    assert deleted[0].success and org.count("Account") == 1
    assert org.count("Account", include_deleted=True) == 2
    again = bulk.run_csv("delete", "Account", f"Id\n{a}\n")
    assert errors_of(again) == ["ENTITY_IS_DELETED:entity is deleted: --"]
    queried = bulk.run_query("SELECT Name, IsDeleted FROM Account", "Account", "queryAll")
    assert sorted((r["Name"], r["IsDeleted"]) for r in queried) == [
        ("A2", "true"),
        ("B", "false"),
    ]
    assert [r["Name"] for r in bulk.run_query("SELECT Name FROM Account", "Account")] == ["B"]

    hard = bulk.run_csv("hardDelete", "Account", f"Id\n{a}\n{b}\n")
    assert [r.success for r in hard] == [True, True]
    assert org.count("Account", include_deleted=True) == 0


def test_upsert_by_external_id(org: FakeOrg, bulk: BulkCaller) -> None:
    org.declare_object(
        "Video__c",
        [
            FieldSpec("Code__c", FieldType.STRING, external_id=True, unique=True),
            FieldSpec("Tag__c", FieldType.STRING, external_id=True),
            FieldSpec("Views__c", FieldType.INT),
        ],
    )
    (existing,) = org.insert("Video__c", [{"Code__c": "V1", "Views__c": 1}])
    org.insert("Video__c", [{"Tag__c": "dup", "Code__c": "X1"}, {"Tag__c": "dup", "Code__c": "X2"}])
    results = bulk.run_csv(
        "upsert", "Video__c", "Code__c,Views__c\nv1,10\nV2,20\n,30\n", external_id="code__c"
    )
    assert results[0].id == existing and (results[0].success, results[0].created) == (True, False)
    assert (results[1].success, results[1].created) == (True, True)
    assert errors_of(results)[2] == "MISSING_ARGUMENT:Code__c not specified: --"
    views = {r["Code__c"]: r["Views__c"] for r in org.records("Video__c")}
    assert views == {"v1": 10, "X1": None, "X2": None, "V2": 20}  # matched ignoring case
    dup = bulk.run_csv("upsert", "Video__c", "Tag__c,Views__c\ndup,1\n", external_id="Tag__c")
    assert dup[0].errors[0].status_code == "DUPLICATE_EXTERNAL_ID"
    by_id = bulk.run_csv(
        "upsert", "Video__c", f"Id,Views__c\n{existing},99\n,5\n", external_id="Id"
    )
    assert [(r.success, r.created) for r in by_id] == [(True, False), (True, True)]


def test_parent_reference_by_external_id(org: FakeOrg, bulk: BulkCaller) -> None:
    org.add_field("Account", FieldSpec("Ext__c", FieldType.STRING, external_id=True))
    (acct,) = org.insert("Account", [{"Name": "Parent", "Ext__c": "P-1"}])
    results = bulk.run_csv("insert", "Contact", "LastName,Account.Ext__c\nKid,P-1\nLost,P-9\n")
    assert results[0].success
    assert org.record("Contact", results[0].id or "")["AccountId"] == acct  # type: ignore[index]
    assert errors_of(results)[1] == (
        "INVALID_FIELD:Foreign key external ID: P-9 not found for field Ext__c "
        "in entity Account: --"
    )


def test_csv_cells_kept_cleared_converted_or_refused_per_field(
    org: FakeOrg, bulk: BulkCaller
) -> None:
    """Each CSV cell on its own: text up to the field's length is kept as sent, one character
    more is refused; an empty cell leaves the field unset, ``#N/A`` is null; integers are
    converted and checked for type and range; a failed row stores nothing."""
    org.add_field("Account", FieldSpec("Code__c", FieldType.STRING, length=5))
    org.add_field("Account", FieldSpec("Count__c", FieldType.INT, precision=3))
    cells = {
        "fits": "abcde,12",
        "long": "abcdef,1",
        "blank": ",7",
        "nulls": "#N/A,#N/A",
        "range": "ab,1000",
        "typed": "ab,1.5",
        "negative": "ab,-999",
        "float": "ab,3.0",
    }
    body = "Name,Code__c,Count__c\n" + "".join(f"{name},{row}\n" for name, row in cells.items())
    results = bulk.run_csv("insert", "Account", body)
    refused = {
        name: result.errors[0].to_csv_text()
        for name, result in zip(cells, results, strict=True)
        if result.errors
    }
    assert refused == {
        "long": "STRING_TOO_LONG:Code: data value too large: abcdef (max length=5):Code__c --",
        "range": "NUMBER_OUTSIDE_VALID_RANGE:Count: value outside of valid range on numeric "
        "field: 1000.0:Count__c --",
        "typed": "INVALID_TYPE_ON_FIELD_IN_RECORD:Count: value not of required type: 1.5:"
        "Count__c --",
    }
    stored = {r["Name"]: (r["Code__c"], r["Count__c"]) for r in org.records("Account")}
    assert stored == {
        "fits": ("abcde", 12),
        "blank": (None, 7),
        "nulls": (None, None),
        "negative": ("ab", -999),
        "float": ("ab", 3),
    }


def test_record_errors_as_salesforce_reports_them(org: FakeOrg, bulk: BulkCaller) -> None:
    org.add_field("Account", FieldSpec("Code__c", FieldType.STRING, unique=True, length=5))
    (acct,) = org.insert("Account", [{"Name": "Taken", "Code__c": "T1"}])
    (gone,) = org.insert("Account", [{"Name": "Gone"}])
    bulk.run_csv("delete", "Account", f"Id\n{gone}\n")
    body = (
        "Name,Code__c,NumberOfEmployees,Website\n"
        ",,,\n"  # required Name missing
        "Dup,t1,,\n"  # unique, case-insensitive
        "Long,TOOLONG,,\n"
        "Typed,,many,\n"
        "Ok,,12,example.com\n"
    )
    results = bulk.run_csv("insert", "Account", body)
    assert errors_of(results) == [
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --",
        "DUPLICATE_VALUE:duplicate value found: Code__c duplicates value on record with id: "
        f"{acct}:Code__c --",
        "STRING_TOO_LONG:Code: data value too large: TOOLONG (max length=5):Code__c --",
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Employees: value not of required type: many:"
        "NumberOfEmployees --",
        "",
    ]
    assert [r.id is None for r in results] == [True, True, True, True, False]

    user_id = org.state.accounts.default.user_id
    contact = bulk.run_csv(
        "insert",
        "Contact",
        "LastName,AccountId,Email\n"
        f"A,{acct[:3]}5j000000ZZZZ,\n"  # well-formed but no such account
        f"B,{gone},\n"  # deleted account
        f"C,{user_id},\n"  # an id of the wrong object
        "D,not-an-id,\n"
        "E,,nope\n",
    )
    codes = [r.errors[0].status_code for r in contact]
    assert codes == [
        "INVALID_CROSS_REFERENCE_KEY",
        "ENTITY_IS_DELETED",
        "FIELD_INTEGRITY_EXCEPTION",
        "MALFORMED_ID",
        "INVALID_EMAIL_ADDRESS",
    ]
    assert contact[3].errors[0].message == "Account ID: id value of incorrect type: not-an-id"

    update = bulk.run_csv(
        "update",
        "Account",
        f"Id,Name\n,x\nbad,x\n{user_id},x\n{gone},x\n{acct[:3]}5j000000ZZZZ,x\n{acct},\n",
    )
    assert errors_of(update) == [
        "MISSING_ARGUMENT:Id not specified in an update call: --",
        "MALFORMED_ID:Account ID: id value of incorrect type: bad:Id --",
        f"MALFORMED_ID:Account ID: id value of incorrect type: {user_id}:Id --",
        "ENTITY_IS_DELETED:entity is deleted: --",
        "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id: --",
        "",
    ]
    # API 57+ also returns the id of a failed update.
    assert update[3].id == gone

    read_only = bulk.run_csv("insert", "Account", "Name,CreatedDate\nX,2020-01-01T00:00:00Z\n")
    assert read_only[0].errors[0].status_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with_id = bulk.run_csv("insert", "Account", f"Id,Name\n{acct},X\n")
    assert errors_of(with_id) == [
        "INVALID_FIELD_FOR_INSERT_UPDATE:cannot specify Id in an insert call:Id --"
    ]


def test_failed_update_ids_follow_the_api_version(org: FakeOrg) -> None:
    old = BulkCaller(org, version="56.0")
    result = old.run_csv("update", "Account", "Id,Name\n0015j000000ZZZZAAA,x\n")
    assert result[0].id is None and not result[0].success


def test_unknown_csv_column_fails_the_batch(bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "Name,Nope__c\nA,1\n")
    done = bulk.batch(job.id, batch.id)
    assert done.state is BatchState.FAILED
    assert done.state_message == "InvalidBatch : Field name not found : Nope__c"
    assert error(bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result"))[1] == "InvalidBatch"


# ---------------------------------------------------------------------------
# formats and the reply-format rule


def test_xml_job_round_trip(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Contact", "XML")
    assert job.id is not None
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?><sObjects xmlns='{DATALOAD}' "
        "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'>"
        "<sObject><LastName>Ada &amp; Co</LastName><Email xsi:nil='true'/></sObject>"
        "<sObject><FirstName>NoLast</FirstName></sObject></sObjects>"
    )
    batch = bulk.add_batch(job.id, body, "application/xml; charset=UTF-8")
    reply = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result")
    assert reply.content_type == "application/xml"
    results = BatchResult.from_xml(reply.raw)
    assert results[0].success and results[0].id is not None
    assert results[1].errors[0].status_code == "REQUIRED_FIELD_MISSING"
    assert results[1].errors[0].fields == ["LastName"]
    assert [r["LastName"] for r in org.records("Contact")] == ["Ada & Co"]
    request = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/request")
    assert request.content_type == "application/xml" and request.text == body


def test_json_job_and_reply_format_rule(org: FakeOrg, bulk: BulkCaller) -> None:
    # simple-salesforce's create: JSON body, concurrencyMode as an integer.
    reply = bulk.call(
        "POST",
        "/job",
        json.dumps(
            {"operation": "insert", "object": "Lead", "concurrencyMode": 1, "contentType": "JSON"}
        ),
        content_type="application/json",
    )
    assert reply.status == 201 and reply.content_type == "application/json"
    data = json.loads(reply.text)
    assert data["concurrencyMode"] == "Serial" and data["apiVersion"] == 62.0
    assert data["externalIdFieldName"] is None and data["fastPathEnabled"] is False
    assert list(data) == sorted(data)
    job_id = data["id"]
    rows = [{"LastName": "L1", "Company": "C", "attributes": {"type": "Lead"}}, {"LastName": "L2"}]
    batch = bulk.call(
        "POST", f"/job/{job_id}/batch", json.dumps(rows), content_type="application/json"
    )
    assert batch.status == 201 and json.loads(batch.text)["state"] == "Queued"
    assert json.loads(batch.text)["stateMessage"] is None
    # A JSON job answers XML when the request does not say JSON.
    as_xml = bulk.call("GET", f"/job/{job_id}", content_type="application/xml")
    assert as_xml.content_type == "application/xml" and JobInfo.from_xml(as_xml.raw).id == job_id
    as_json = bulk.call("GET", f"/job/{job_id}/batch", content_type="application/json")
    assert as_json.content_type == "application/json"
    assert [b["state"] for b in json.loads(as_json.text)["batchInfo"]] == ["Completed"]
    results = bulk.call(
        "GET",
        f"/job/{job_id}/batch/{json.loads(batch.text)['id']}/result",
        content_type="application/json",
    )
    assert results.content_type == "application/json"
    parsed = json.loads(results.text)
    assert list(parsed[0]) == ["success", "created", "id", "errors"]
    assert parsed[0]["success"] is True and parsed[0]["errors"] == []
    assert parsed[1]["errors"][0] == {
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [Company]",
        "fields": ["Company"],
    }
    assert [r["Status"] for r in org.records("Lead")] == ["Open - Not Contacted"]  # default value
    # JSON errors for JSON jobs asked in JSON.
    missing = bulk.call(
        "GET", f"/job/{job_id}/batch/7515j000000ZZZZAAA", content_type="application/json"
    )
    assert missing.status == 400 and json.loads(missing.text) == {
        "exceptionCode": "InvalidBatch",
        "exceptionMessage": "Invalid batch id: 7515j000000ZZZZAAA",
    }


def test_create_reply_follows_the_request_body(bulk: BulkCaller) -> None:
    doc = (
        f'<jobInfo xmlns="{DATALOAD}"><operation>insert</operation><object>Account</object>'
        "<contentType>JSON</contentType></jobInfo>"
    )
    reply = bulk.call("POST", "/job", doc)
    assert reply.status == 201 and reply.content_type == "application/xml"
    assert JobInfo.from_xml(reply.raw).content_type is ContentType.JSON
    csv_job = json.dumps({"operation": "insert", "object": "Account", "contentType": "CSV"})
    reply = bulk.call("POST", "/job", csv_job, content_type="application/json")
    assert (
        reply.content_type == "application/json" and json.loads(reply.text)["contentType"] == "CSV"
    )
    # ... but later status calls on a CSV job are XML whatever the request says.
    again = bulk.call(
        "GET", f"/job/{json.loads(reply.text)['id']}", content_type="application/json"
    )
    assert again.content_type == "application/xml"


def test_single_quoted_declaration_and_charset(bulk: BulkCaller) -> None:
    doc = (
        f"<?xml version='1.0' encoding='UTF-8'?><jobInfo xmlns='{DATALOAD}'>"
        "<operation>query</operation><object>account</object><contentType>CSV</contentType></jobInfo>"
    )
    reply = bulk.call("POST", "/job", doc, content_type="application/xml; charset=UTF-8")
    info = JobInfo.from_xml(reply.raw)
    assert reply.status == 201 and info.sobject == "Account"  # canonical object name
    assert reply.content_type == "application/xml"


def test_query_results_in_three_formats(org: FakeOrg, bulk: BulkCaller) -> None:
    (acct,) = org.insert("Account", [{"Name": 'Quote "Co"', "AnnualRevenue": 912260031}])
    org.insert(
        "Contact",
        [
            {"LastName": "One", "AccountId": acct, "Birthdate": "2000-02-29"},
            {"LastName": "Two"},
        ],
    )
    soql = (
        "SELECT Id, LastName, Birthdate, Account.Name, Account.AnnualRevenue, CreatedDate "
        "FROM Contact"
    )
    csv_rows = bulk.run_query(soql, "Contact")
    assert [r["Account.AnnualRevenue"] for r in csv_rows] == ["9.12260031E8", ""]
    assert csv_rows[0]["Account.Name"] == 'Quote "Co"' and csv_rows[0]["Birthdate"] == "2000-02-29"
    assert csv_rows[0]["CreatedDate"] == "2024-05-06T07:08:09.000Z"

    job = bulk.create_job("query", "Contact", "XML")
    assert job.id is not None
    batch = bulk.add_batch(job.id, soql, "application/xml")
    listing = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result")
    (result_id,) = __import__("re").findall(r"<result>(\w+)</result>", listing.text)
    assert len(result_id) == 15 and result_id.startswith("752")
    xml = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result/{result_id}").text
    assert xml.count("<Id>") == 4  # the Id appears twice per record when queried
    assert '<records xsi:type="sObject"><type>Contact</type>' in xml
    assert (
        '<Account xsi:type="sObject"><type>Account</type><Id xsi:nil="true"/>'
        '<Name>Quote "Co"</Name>' in xml
    )
    assert (
        "<AnnualRevenue>9.12260031E8</AnnualRevenue>" in xml and '<Account xsi:nil="true"/>' in xml
    )

    job = bulk.create_job("query", "Contact", "JSON")
    assert job.id is not None
    added = bulk.call("POST", f"/job/{job.id}/batch", soql, content_type="application/json")
    batch_id = json.loads(added.text)["id"]
    listing = bulk.call(
        "GET", f"/job/{job.id}/batch/{batch_id}/result", content_type="application/json"
    )
    (result_id,) = json.loads(listing.text)
    records = json.loads(
        bulk.call(
            "GET",
            f"/job/{job.id}/batch/{batch_id}/result/{result_id}",
            content_type="application/json",
        ).text
    )
    first, second = records
    assert first["attributes"]["type"] == "Contact"
    assert first["attributes"]["url"].endswith(f"/sobjects/Contact/{first['Id']}")
    assert first["CreatedDate"] == 1714979289000  # epoch milliseconds
    assert first["Birthdate"] == "2000-02-29"
    assert (
        first["Account"]["Name"] == 'Quote "Co"'
        and first["Account"]["AnnualRevenue"] == 912260031.0
    )
    assert second["Account"] is None and second["Birthdate"] is None


def test_csv_query_result_quoting_and_empty_result(org: FakeOrg, bulk: BulkCaller) -> None:
    org.insert("Account", [{"Name": "A, with comma", "NumberOfEmployees": 7}])
    job = bulk.create_job("query", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "SELECT Name, NumberOfEmployees, AnnualRevenue FROM Account")
    listing = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result")
    result_id = listing.text.split("<result>")[1].split("<")[0]
    reply = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result/{result_id}")
    assert reply.content_type == "text/csv"
    assert reply.text == '"Name","NumberOfEmployees","AnnualRevenue"\n"A, with comma","7",""\n'
    assert all_values_quoted(reply.text)
    empty = bulk.add_batch(job.id, "SELECT Name FROM Account WHERE Name = 'none'")
    listing = bulk.call("GET", f"/job/{job.id}/batch/{empty.id}/result")
    result_id = listing.text.split("<result>")[1].split("<")[0]
    none = bulk.call("GET", f"/job/{job.id}/batch/{empty.id}/result/{result_id}")
    assert none.text == "Records not found for this query"


def test_several_result_files_per_query_batch(clock: object) -> None:
    org = FakeOrg(query_result_file_rows=3)
    org.insert("Account", [{"Name": f"A{i:02d}"} for i in range(8)])
    bulk = BulkCaller(org)
    job = bulk.create_job("query", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "SELECT Name FROM Account ORDER BY Name")
    listing = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result")
    assert listing.text.count("<result>") == 3
    assert [r["Name"] for r in bulk.query_rows(job.id, batch.id)] == [f"A{i:02d}" for i in range(8)]
    assert bulk.batch(job.id, batch.id).number_records_processed == 8


def test_failed_query_batches(bulk: BulkCaller) -> None:
    job = bulk.create_job("query", "Account")
    assert job.id is not None
    bad_field = bulk.add_batch(job.id, "SELECT Nope FROM Account")
    other_object = bulk.add_batch(job.id, "SELECT Id FROM Contact")
    first = bulk.batch(job.id, bad_field.id)
    assert first.state is BatchState.FAILED
    assert (first.state_message or "").startswith(
        "InvalidBatch : Failed to process query: INVALID_FIELD: No such column 'Nope' on "
        "entity 'Account'."
    )
    assert bulk.batch(job.id, other_object.id).state_message == (
        "InvalidBatch : Failed to process query: INVALID_TYPE_FOR_OPERATION: The root entity of "
        "the requested query (Contact) does not match the entity of the requested Bulk API Job "
        "(Account)."
    )
    request = bulk.call("GET", f"/job/{job.id}/batch/{bad_field.id}/request")
    assert request.text == "SELECT Nope FROM Account" and request.content_type == "text/csv"


def test_field_mapping_spec(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    spec = "Salesforce Field,Csv Header,Value,Hint\nName,Company Name,,\nIndustry,,Energy,\n"
    reply = bulk.call("POST", f"/job/{job.id}/spec", spec, content_type="text/csv")
    assert reply.status == 201
    batch = bulk.add_batch(job.id, "Company Name\nMapped Co\n")
    assert bulk.batch(job.id, batch.id).state is BatchState.COMPLETED
    assert [(r["Name"], r["Industry"]) for r in org.records("Account")] == [("Mapped Co", "Energy")]


# ---------------------------------------------------------------------------
# transport-level quirks


def test_chunked_and_gzip_request_bodies(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None

    def stream() -> Iterator[bytes]:
        yield b'"Name","Description"\r\n'
        yield b'"Chunked","two\nlines"\r\n'

    reply = bulk.client.post(
        f"/job/{job.id}/batch",
        content=stream(),
        headers={"X-SFDC-Session": bulk.session_id, "Content-Type": "text/csv; charset=UTF-8"},
    )
    assert reply.status_code == 201 and reply.request.headers["transfer-encoding"] == "chunked"
    zipped = gzip.compress(b"Name\nZipped\n")
    reply = bulk.client.post(
        f"/job/{job.id}/batch",
        content=zipped,
        headers={
            "X-SFDC-Session": bulk.session_id,
            "Content-Type": "text/csv",
            "Content-Encoding": "gzip",
        },
    )
    assert reply.status_code == 201
    bad = bulk.call(
        "POST",
        f"/job/{job.id}/batch",
        b"x",
        content_type="text/csv",
        headers={"Content-Encoding": "br"},
    )
    assert bad.status == 415
    org.state.tick()
    assert sorted((r["Name"], r["Description"]) for r in org.records("Account")) == [
        ("Chunked", "two\nlines"),
        ("Zipped", None),
    ]


def test_gzip_responses_when_asked(org: FakeOrg, bulk: BulkCaller) -> None:
    org.insert("Account", [{"Name": f"Row {i}"} for i in range(200)])
    job = bulk.create_job("query", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "SELECT Id, Name FROM Account")
    listing = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result")
    result_id = listing.text.split("<result>")[1].split("<")[0]
    path = f"/job/{job.id}/batch/{batch.id}/result/{result_id}"
    zipped = bulk.client.get(
        path, headers={"X-SFDC-Session": bulk.session_id, "Accept-Encoding": "gzip"}
    )
    plain = bulk.client.get(
        path, headers={"X-SFDC-Session": bulk.session_id, "Accept-Encoding": "identity"}
    )
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.text == plain.text and plain.text.count("\n") == 201
    assert zipped.headers["content-type"] == "text/csv"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/job", "application/xml"),
        ("/job/{job}", "application/xml"),
        ("/job/{job}/batch", "application/xml"),
        ("/job/{job}/batch/{batch}", "application/xml"),
        ("/job/{job}/batch/{batch}/request", "text/csv"),
        ("/job/{job}/batch/{batch}/result", "text/csv"),
        ("/job/nope", "application/xml"),
    ],
)
def test_response_content_types_are_exact(bulk: BulkCaller, path: str, expected: str) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "Name\nX\n")
    method = "POST" if path == "/job" else "GET"
    body = (
        f'<jobInfo xmlns="{DATALOAD}"><operation>insert</operation>'
        "<object>Account</object></jobInfo>"
        if method == "POST"
        else None
    )
    reply = bulk.call(
        method,
        path.format(job=job.id, batch=batch.id),
        body,
        content_type="text/csv; charset=UTF-8"
        if method == "GET"
        else "application/xml; charset=UTF-8",
    )
    assert reply.content_type == expected


# ---------------------------------------------------------------------------
# request-level errors


def test_request_errors(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    xml_job = (
        f'<jobInfo xmlns="{DATALOAD}"><operation>{{op}}</operation>'
        "<object>{obj}</object>{extra}</jobInfo>"
    )

    def create(op: str, obj: str, extra: str = "") -> tuple[int, str, str]:
        return error(bulk.call("POST", "/job", xml_job.format(op=op, obj=obj, extra=extra)))

    assert create("insert", "Video__c") == (400, "InvalidJob", "Unable to find object: Video__c")
    assert create("upsert", "Contact") == (
        400,
        "InvalidJob",
        "External ID was blank for Contact. An External ID must be specified for upsert.",
    )
    assert (
        create("upsert", "Contact", "<externalIdFieldName>LastName</externalIdFieldName>")[1]
        == "InvalidJob"
    )
    assert (
        create("insert", "Contact", "<externalIdFieldName>Id</externalIdFieldName>")[1]
        == "InvalidJob"
    )
    assert create("explode", "Contact")[1] == "InvalidJob"
    assert create("insert", "Contact", "<contentType>ZIP_CSV</contentType>")[1] == "InvalidJob"
    assert error(bulk.call("POST", "/job", "<jobInfo"))[:2] == (400, "InvalidXml")
    assert error(bulk.call("POST", "/job", "x", content_type="text/csv"))[:2] == (
        400,
        "UnsupportedContentType",
    )

    assert error(bulk.call("GET", "/job/7505j000000ZZZZAAA")) == (
        400,
        "InvalidJob",
        "Invalid job id: 7505j000000ZZZZAAA",
    )
    assert error(bulk.call("GET", f"/job/{job.id}/batch/nope"))[:2] == (400, "InvalidBatch")
    assert error(bulk.call("GET", "/jobs"))[:2] == (400, "InvalidOperation")
    assert error(bulk.call("GET", f"/job/{job.id}/batches"))[:2] == (400, "InvalidUrl")
    assert error(bulk.call("DELETE", f"/job/{job.id}"))[:2] == (405, "InvalidUrl")
    assert error(
        bulk.call(
            "POST", f"/job/{job.id}/batch", "Name\nX\n", content_type="text/cs; charset=UTF-8"
        )
    ) == (
        400,
        "UnsupportedContentType",
        "Unsupported content type: text/cs; charset=UTF-8",
    )
    assert error(bulk.call("POST", f"/job/{job.id}/batch", "<x/>", content_type="application/xml"))[
        :2
    ] == (
        400,
        "InvalidBatch",
    )
    assert error(bulk.call("POST", f"/job/{job.id}/batch", "  ", content_type="text/csv"))[:2] == (
        400,
        "InvalidBatch",
    )
    future = BulkCaller(org, version="99.0", session_id=bulk.session_id)
    assert error(future.call("GET", f"/job/{job.id}"))[:2] == (400, "InvalidVersion")
    retired = BulkCaller(org, version="30.0", session_id=bulk.session_id)
    assert error(retired.call("GET", f"/job/{job.id}"))[:2] == (400, "InvalidVersion")
    unknown = bulk.client.get("/../../services/data/v62.0/sobjects")
    assert unknown.status_code == 404


def test_batch_limits(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    too_many = "Name\n" + "x\n" * 10_001
    batch = bulk.add_batch(job.id, too_many)
    done = bulk.batch(job.id, batch.id)
    assert done.state is BatchState.FAILED
    assert done.state_message == (
        "InvalidBatch : Exceeded number of records : 10002. "
        "Number of records should be less than or equal to 10001"
    )
    assert org.count("Account") == 0
    exactly = bulk.add_batch(job.id, "Name\n" + "x\n" * 10_000)
    assert bulk.batch(job.id, exactly.id).number_records_processed == 10_000

    chars = "Name\n" + "y" * (10_000_001 - 5)
    assert error(bulk.call("POST", f"/job/{job.id}/batch", chars, content_type="text/csv")) == (
        400,
        "ClientInputError",
        "Failed to read request. Exceeded max size limit of 10000000",
    )
    wide = "Name\n" + "\u20ac" * 3_500_000  # 3.5 M characters, 10.5 MB of UTF-8
    assert error(
        bulk.call("POST", f"/job/{job.id}/batch", wide.encode(), content_type="text/csv")
    ) == (
        400,
        "ClientInputError",
        f"Failed to read request. Exceeded max size limit of {10 * 1024 * 1024}",
    )


def test_batch_limit_for_json_and_configurable_limits() -> None:
    org = FakeOrg(max_batch_records=2)
    bulk = BulkCaller(org)
    reply = bulk.call(
        "POST",
        "/job",
        json.dumps({"operation": "insert", "object": "Account", "contentType": "JSON"}),
        content_type="application/json",
    )
    job_id = json.loads(reply.text)["id"]
    rows = json.dumps([{"Name": str(i)} for i in range(3)])
    batch = json.loads(
        bulk.call("POST", f"/job/{job_id}/batch", rows, content_type="application/json").text
    )
    info = BatchInfo.from_json(
        bulk.call("GET", f"/job/{job_id}/batch/{batch['id']}", content_type="application/json").text
    )
    assert info.state is BatchState.FAILED
    assert info.state_message == (
        "InvalidBatch : Exceeded number of records : 4. "
        "Number of records should be less than or equal to 3"
    )


def test_concurrency_mode_default_and_job_info(bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.concurrency_mode is ConcurrencyMode.PARALLEL
    assert job.api_version == 62.0 and job.number_batches_total == 0
    assert job.created_by_id is not None and job.created_by_id.startswith("005")


def test_json_unknown_fields_and_nested_parent_references(org: FakeOrg, bulk: BulkCaller) -> None:
    org.add_field("Account", FieldSpec("Ext__c", FieldType.STRING, external_id=True))
    (acct,) = org.insert("Account", [{"Name": "Parent", "Ext__c": "P-1"}])
    created = bulk.call(
        "POST",
        "/job",
        json.dumps({"operation": "insert", "object": "Contact", "contentType": "JSON"}),
        content_type="application/json",
    )
    job_id = json.loads(created.text)["id"]
    rows = [
        {"LastName": "Kid", "Account": {"Ext__c": "P-1"}},
        {"LastName": "Typo", "Lastname__c": "x"},
        {"LastName": "Nested", "Account": {"Name": "not an external id"}},
    ]
    added = bulk.call(
        "POST", f"/job/{job_id}/batch", json.dumps(rows), content_type="application/json"
    )
    batch_id = json.loads(added.text)["id"]
    reply = bulk.call(
        "GET", f"/job/{job_id}/batch/{batch_id}/result", content_type="application/json"
    )
    results = json.loads(reply.text)
    assert results[0]["success"] is True
    assert org.record("Contact", results[0]["id"])["AccountId"] == acct  # type: ignore[index]
    assert results[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert results[1]["errors"][0]["message"].startswith(
        "No such column 'Lastname__c' on entity 'Contact'."
    )
    assert results[1]["errors"][0]["fields"] == ["Lastname__c"]
    assert results[2]["errors"][0]["statusCode"] == "INVALID_FIELD"


# ---------------------------------------------------------------------------
# CSV syntax as Salesforce's reader sees it (spec §2.6: values are not trimmed, a space next
# to a quote is an error)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('"Name","Industry"\n"A" ,"Energy"\n', "Not expecting more text after end quote"),
        (
            '"Name","Industry"\n"A", "Energy"\n',
            "Found unescaped quote. A value with quote should be within a quote",
        ),
        (
            'Name,Industry\n6" pipe,Energy\n',
            "Found unescaped quote. A value with quote should be within a quote",
        ),
        ('"Name","Industry"\n"A","Energy\n', "EOF reached before closing an opened quote"),
        # A UTF-8 byte-order mark starts an unquoted first field, so its quote is stray.
        (
            '\ufeff"Name","Industry"\n"A","Energy"\n',
            "Found unescaped quote. A value with quote should be within a quote",
        ),
    ],
)
def test_csv_syntax_errors_fail_the_batch(
    org: FakeOrg, bulk: BulkCaller, body: str, problem: str
) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, body.encode())
    done = bulk.batch(job.id, batch.id)
    assert done.state is BatchState.FAILED
    assert done.state_message == f"InvalidBatch : Failed to parse CSV. {problem}"
    assert org.count("Account") == 0


def test_csv_quotes_that_salesforce_accepts(org: FakeOrg, bulk: BulkCaller) -> None:
    body = (
        '"Name","Description"\r\n'
        '"6"" pipe, ""steel""","a ""quoted""\nline"\r\n'
        'Plain,"x"\r\n'
        '" padded ","""leading"\r\n'
    )
    results = bulk.run_csv("insert", "Account", body)
    assert [r.success for r in results] == [True, True, True]
    assert [(r["Name"], r["Description"]) for r in org.records("Account")] == [
        ('6" pipe, "steel"', 'a "quoted"\nline'),
        ("Plain", "x"),
        (" padded ", '"leading'),  # values are not trimmed
    ]


def test_csv_field_size_limit(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    huge = bulk.add_batch(job.id, "Name,Description\nA," + "d" * 131_073 + "\n")
    done = bulk.batch(job.id, huge.id)
    assert done.state is BatchState.FAILED
    assert done.state_message == (
        "InvalidBatch : Failed to parse CSV. Exceeded max field size: more than 131072 characters"
    )
    # 131,072 characters is the limit itself: the field is read, then the field's own
    # length (32,768 for a long text area here) decides.
    fits = bulk.add_batch(job.id, "Name,Description\nA," + "d" * 131_072 + "\n")
    assert bulk.batch(job.id, fits.id).state is BatchState.COMPLETED
    assert bulk.results(job.id, fits.id)[0].errors[0].status_code == "STRING_TOO_LONG"


# ---------------------------------------------------------------------------
# more wire details


def test_batch_calls_must_use_the_job_api_version(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "Name\nA\n")
    other = BulkCaller(org, version="61.0", session_id=bulk.session_id)
    for method, path, body in (
        ("POST", f"/job/{job.id}/batch", "Name\nB\n"),
        ("GET", f"/job/{job.id}/batch", None),
        ("GET", f"/job/{job.id}/batch/{batch.id}", None),
        ("GET", f"/job/{job.id}/batch/{batch.id}/result", None),
    ):
        reply = other.call(method, path, body, content_type="text/csv")
        status, code, message = error(reply)
        assert (status, code) == (400, "InvalidVersion")
        assert message == (
            f"The API version of this request (61.0) does not match the API version of job "
            f"{job.id} (62.0)"
        )
    # Job-level calls are not batch calls.
    assert other.call("GET", f"/job/{job.id}").status == 200
    assert org.count("Account") == 1


def test_format_parameter_is_ignored(org: FakeOrg, bulk: BulkCaller) -> None:
    org.insert("Account", [{"Name": "Formatted"}])
    for content_type, media in (("CSV", "text/csv"), ("JSON", "application/json")):
        job = bulk.create_job("query", "Account", content_type)
        assert job.id is not None
        added = bulk.call(
            "POST", f"/job/{job.id}/batch", "SELECT Name FROM Account", content_type=media
        )
        batch_id = re.findall(r'"?id"?\W+(751\w+)', added.text)[0]
        listing = bulk.call(
            "GET", f"/job/{job.id}/batch/{batch_id}/result?format=json", content_type=media
        )
        (result_id,) = re.findall(r"752\w{12}", listing.text)
        rows = bulk.call(
            "GET",
            f"/job/{job.id}/batch/{batch_id}/result/{result_id}?format=json",
            content_type=media,
        )
        assert rows.status == 200 and rows.content_type == media  # the job's format decides
        assert "Formatted" in rows.text


def test_json_query_results_are_jackson_pretty_printed(org: FakeOrg, bulk: BulkCaller) -> None:
    org.insert("Account", [{"Name": "A"}, {"Name": "B"}])
    job = bulk.create_job("query", "Account", "JSON")
    assert job.id is not None
    added = bulk.call(
        "POST", f"/job/{job.id}/batch", "SELECT Name FROM Account", content_type="application/json"
    )
    batch_id = json.loads(added.text)["id"]
    none = bulk.call(
        "POST",
        f"/job/{job.id}/batch",
        "SELECT Name FROM Account WHERE Name = 'Z'",
        content_type="application/json",
    )
    texts = []
    for bid in (batch_id, json.loads(none.text)["id"]):
        listing = bulk.call(
            "GET", f"/job/{job.id}/batch/{bid}/result", content_type="application/json"
        )
        (result_id,) = json.loads(listing.text)
        texts.append(
            bulk.call(
                "GET",
                f"/job/{job.id}/batch/{bid}/result/{result_id}",
                content_type="application/json",
            ).text
        )
    full, empty = texts
    assert full.startswith('[ {\n  "attributes" : {\n    "type" : "Account",\n')
    assert '\n}, {\n  "attributes"' in full and full.endswith('"Name" : "B"\n} ]')
    assert [r["Name"] for r in json.loads(full)] == ["A", "B"]
    assert empty == "[ ]" and json.loads(empty) == []


def test_xml_results_put_errors_first(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Contact", "XML")
    assert job.id is not None
    body = (
        f'<sObjects xmlns="{DATALOAD}"><sObject><LastName>Ok</LastName></sObject>'
        "<sObject><FirstName>NoLast</FirstName></sObject></sObjects>"
    )
    batch = bulk.add_batch(job.id, body, "application/xml")
    reply = bulk.call("GET", f"/job/{job.id}/batch/{batch.id}/result")
    ok, failed = re.findall(r"<result>(.*?)</result>", reply.text)
    assert re.fullmatch(r"<id>003\w{15}</id><success>true</success><created>true</created>", ok)
    assert failed == (
        "<errors><fields>LastName</fields><message>Required fields are missing: [LastName]"
        "</message><statusCode>REQUIRED_FIELD_MISSING</statusCode></errors>"
        "<success>false</success><created>false</created>"
    )


def test_job_counters_are_sums_over_batches(org: FakeOrg, bulk: BulkCaller) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    bulk.add_batch(job.id, "Name\nA\n\nB\n")
    bulk.add_batch(job.id, "Name,NumberOfEmployees\nC,1\n,2\nD,many\n")
    bulk.add_batch(job.id, "Nope\nx\n")  # fails as a whole
    reply = bulk.call("GET", f"/job/{job.id}")
    assert "<apiVersion>62.0</apiVersion>" in reply.text
    info = JobInfo.from_xml(reply.raw)
    assert (info.number_batches_total, info.number_batches_completed) == (3, 2)
    assert (info.number_batches_failed, info.number_batches_queued) == (1, 0)
    assert (info.number_records_processed, info.number_records_failed) == (5, 2)
