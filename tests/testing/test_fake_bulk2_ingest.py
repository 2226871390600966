"""Bulk API 2.0 ingest jobs in the fake org: the state machine, uploads, processing, results.

Every request goes through ``FakeOrgTransport`` as a client's would; job
documents are parsed with the SDK's models.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from bulk2_support import Bulk2Caller, csv_rows, errors, multipart

from sfbulk_sdk.models.bulk2 import Bulk2JobState, ColumnDelimiter, LineEnding
from sfbulk_sdk.testing import FakeOrg, FieldSpec, FieldType, ManualClock

SECOND_PUT = (
    "Found multipe contents for job: {id}, please 'Close' / 'Abort' / 'Delete' the current Job "
    "then create a new Job and make sure you only do 'PUT' once on a given Job."
)


def state_of(bulk: Bulk2Caller, job_id: str) -> Bulk2JobState | None:
    return bulk.ingest(job_id).state


# ---------------------------------------------------------------------------
# the state machine


def test_ingest_moves_through_its_states_on_the_org_clock(clock: ManualClock) -> None:
    start = clock()
    org = FakeOrg(clock=clock, queue_time=10, processing_time=20)
    bulk = Bulk2Caller(org)
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None and job.state is Bulk2JobState.OPEN
    assert job.content_url == f"services/data/v62.0/jobs/ingest/{job.id}/batches"
    assert bulk.upload(job.id, "Name,Rating\nAcme,Hot\nBeta,Cold\n").status_code == 201
    assert state_of(bulk, job.id) is Bulk2JobState.OPEN
    closed = bulk.set_state(job.id, "UploadComplete")
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    assert list(closed.json()) == [  # the short document of spec §3.3
        "id",
        "operation",
        "object",
        "createdById",
        "createdDate",
        "systemModstamp",
        "state",
        "concurrencyMode",
        "contentType",
        "apiVersion",
    ]
    early = bulk.results(job.id, "successfulResults")
    assert early.status_code == 412
    assert errors(early)[0][0] == "JOB_NOT_COMPLETE"
    assert errors(early)[0][1].endswith("Current status: UPLOAD_COMPLETE")
    clock.advance(9)
    assert state_of(bulk, job.id) is Bulk2JobState.UPLOAD_COMPLETE
    clock.advance(1)
    in_progress = bulk.ingest(job.id)
    assert in_progress.state is Bulk2JobState.IN_PROGRESS
    assert in_progress.system_modstamp == start + timedelta(seconds=10)
    assert org.count("Account") == 0
    assert errors(bulk.results(job.id, "failedResults"))[0][1].endswith("IN_PROGRESS")
    clock.advance(19)
    assert state_of(bulk, job.id) is Bulk2JobState.IN_PROGRESS
    clock.advance(1)
    done = bulk.ingest(job.id)
    assert done.state is Bulk2JobState.JOB_COMPLETE and done.content_url is None
    assert (done.number_records_processed, done.number_records_failed) == (2, 0)
    assert done.total_processing_time == 20_000 and done.error_message is None
    assert [r["Rating"] for r in org.records("Account")] == ["Hot", "Cold"]
    assert {r["CreatedDate"] for r in org.records("Account")} == {start + timedelta(seconds=30)}


def test_zero_times_finish_by_the_next_request(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Contact", "LastName\nLovelace\n")
    assert job.state is Bulk2JobState.JOB_COMPLETE
    assert [c["LastName"] for c in org.records("Contact")] == ["Lovelace"]
    assert org.stats()["bulk2_jobs"] == 1


def test_data_goes_in_once(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None
    first = bulk.upload(job.id, "Name\nAcme\n")
    assert first.status_code == 201 and first.content == b""
    second = bulk.upload(job.id, "Name\nBeta\n")
    assert second.status_code == 400
    assert errors(second) == [("BULK_API_ERROR", SECOND_PUT.format(id=job.id))]
    bulk.set_state(job.id, "UploadComplete")
    assert [r["Name"] for r in org.records("Account")] == ["Acme"]
    again = bulk.upload(job.id, "Name\nGamma\n")
    assert errors(again)[0][0] == "BULK_API_ERROR"


def test_an_upload_over_the_size_cap_is_refused(clock: ManualClock) -> None:
    assert FakeOrg().state.settings.bulk2_max_upload_bytes == 100_000_000
    org = FakeOrg(clock=clock, bulk2_max_upload_bytes=64)
    bulk = Bulk2Caller(org)
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None
    big = "Name\n" + "".join(f"Account number {n}\n" for n in range(10))
    refused = bulk.upload(job.id, big)
    assert refused.status_code == 400
    assert errors(refused) == [
        (
            "CLIENTINPUTERROR",
            "ClientInputError : Failed to read request. Exceeded max size limit of 64",
        )
    ]
    assert bulk.upload(job.id, "Name\nSmall\n").status_code == 201  # the refusal used no upload


def test_an_upload_must_be_csv(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.create_ingest("insert", "Account")
    reply = bulk.request(
        "PUT",
        f"/jobs/ingest/{job.id}/batches",
        content="Name\nA\n",
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400 and errors(reply)[0][0] == "UNSUPPORTEDCONTENTTYPE"
    with_charset = bulk.request(
        "PUT",
        f"/jobs/ingest/{job.id}/batches",
        content="Name\nA\n",
        headers={"Content-Type": "text/csv; charset=UTF-8"},
    )
    assert with_charset.status_code == 201


@pytest.mark.parametrize("when", [0, 10, 15])  # Open, UploadComplete, InProgress
def test_abort_before_the_end_processes_nothing(clock: ManualClock, when: int) -> None:
    org = FakeOrg(clock=clock, queue_time=10, processing_time=20)
    bulk = Bulk2Caller(org)
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None
    bulk.upload(job.id, "Name,Site\nAcme,HQ\nBeta,Lab\n")
    if when:
        bulk.set_state(job.id, "UploadComplete")
        clock.advance(when)
    aborted = bulk.set_state(job.id, "Aborted")
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    clock.advance(60)
    assert state_of(bulk, job.id) is Bulk2JobState.ABORTED and org.count("Account") == 0
    unprocessed = bulk.results(job.id, "unprocessedrecords")
    assert csv_rows(unprocessed.text)[0] == ["Name", "Site"]
    assert sorted(csv_rows(unprocessed.text)[1:]) == [["Acme", "HQ"], ["Beta", "Lab"]]
    assert bulk.results(job.id, "successfulResults").text == '"sf__Id","sf__Created",Name,Site\n'
    assert bulk.set_state(job.id, "Aborted").status_code == 200  # aborting again changes nothing


def test_a_finished_job_cannot_be_aborted_or_closed_again(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Account", "Name\nAcme\n")
    assert job.id is not None
    abort = bulk.set_state(job.id, "Aborted")
    assert abort.status_code == 400
    assert errors(abort) == [("INVALIDJOBSTATE", "Aborting already Completed Job not allowed")]
    close = bulk.set_state(job.id, "UploadComplete")
    assert close.status_code == 400 and errors(close)[0][0] == "INVALIDJOBSTATE"
    other = bulk.set_state(job.id, "Closed")
    assert errors(other) == [
        ("API_ERROR", "Invalid value: 'Closed' supplied for property: 'state'")
    ]


def test_closing_without_data_fails_the_job(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None
    assert bulk.set_state(job.id, "UploadComplete").status_code == 200
    failed = bulk.ingest(job.id)
    assert failed.state is Bulk2JobState.FAILED
    assert failed.error_message == "ClientInputError : No data was uploaded for this job"


def test_delete_only_when_nothing_is_running(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, queue_time=10, processing_time=20)
    bulk = Bulk2Caller(org)
    not_terminated = (
        "API_ERROR",
        "Error encountered when deleting the job because the job is not terminated",
    )
    job = bulk.create_ingest("insert", "Account")
    assert job.id is not None
    refused = bulk.request("DELETE", f"/jobs/ingest/{job.id}")
    assert refused.status_code == 400 and errors(refused) == [not_terminated]  # Open
    bulk.upload(job.id, "Name\nAcme\n")
    bulk.set_state(job.id, "UploadComplete")
    clock.advance(10)
    assert errors(bulk.request("DELETE", f"/jobs/ingest/{job.id}")) == [not_terminated]
    clock.advance(20)
    assert bulk.request("DELETE", f"/jobs/ingest/{job.id}").status_code == 204
    assert bulk.request("GET", f"/jobs/ingest/{job.id}").status_code == 404
    waiting = bulk.create_ingest("insert", "Account")
    bulk.upload(str(waiting.id), "Name\nBeta\n")
    bulk.set_state(str(waiting.id), "UploadComplete")
    deleted = bulk.request("DELETE", f"/jobs/ingest/{waiting.id}")  # UploadComplete
    assert deleted.status_code == 204 and deleted.content == b""
    clock.advance(60)
    assert [r["Name"] for r in org.records("Account")] == ["Acme"]


# ---------------------------------------------------------------------------
# processing failures


def test_an_unknown_column_fails_the_job(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Account", "Name,Ratings\nAcme,Hot\n")
    assert job.state is Bulk2JobState.FAILED
    assert job.error_message == "InvalidBatch : Field name not found : Ratings"
    assert (job.number_records_processed, job.number_records_failed) == (0, 0)
    unprocessed = bulk.results(str(job.id), "unprocessedrecords")
    assert unprocessed.text == 'Name,Ratings\n"Acme","Hot"\n'
    assert org.count("Account") == 0


@pytest.mark.parametrize(
    ("setting", "data"),
    [
        ("LF", "Name,Site\r\nAcme,HQ\r\n"),
        ("CRLF", "Name,Site\nAcme,HQ\n"),
        ("CRLF", "Name,Site\r\nAcme,HQ\r\nBeta,Lab\n"),
    ],
)
def test_a_line_ending_mismatch_fails_the_job(org: FakeOrg, setting: str, data: str) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Account", data, lineEnding=setting)
    assert job.state is Bulk2JobState.FAILED
    assert job.error_message == (
        "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is "
        f"{setting}"
    )
    assert org.count("Account") == 0


@pytest.mark.parametrize(
    ("setting", "data"),
    [
        ("LF", 'Name,Description\nAcme,"two\r\nlines"\n'),
        ("CRLF", 'Name,Description\r\nAcme,"two\nlines"\r\n'),
    ],
)
def test_line_breaks_inside_quoted_values_are_data(org: FakeOrg, setting: str, data: str) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Account", data, lineEnding=setting)
    assert job.state is Bulk2JobState.JOB_COMPLETE, job.error_message
    expected = "two\r\nlines" if setting == "LF" else "two\nlines"
    assert org.records("Account")[0]["Description"] == expected


def test_a_csv_syntax_error_fails_the_job(org: FakeOrg) -> None:
    job = Bulk2Caller(org).load("insert", "Account", 'Name\n"Acme" ,x\n')
    assert job.state is Bulk2JobState.FAILED
    assert str(job.error_message).startswith("InvalidBatch : Failed to parse CSV.")


# ---------------------------------------------------------------------------
# results


@pytest.mark.parametrize("delimiter", list(ColumnDelimiter))
@pytest.mark.parametrize("ending", list(LineEnding))
def test_results_use_the_jobs_delimiter_and_line_ending(
    org: FakeOrg, delimiter: ColumnDelimiter, ending: LineEnding
) -> None:
    d, eol = delimiter.char, ending.chars
    data = eol.join([d.join(["Name", "Site"]), d.join(["Acme", "HQ"]), d.join(["Beta", ""])]) + eol
    data += d.join(["", "nameless"]) + eol
    bulk = Bulk2Caller(org)
    job = bulk.load(
        "insert", "Account", data, columnDelimiter=delimiter.value, lineEnding=ending.value
    )
    assert job.state is Bulk2JobState.JOB_COMPLETE, job.error_message
    assert job.column_delimiter is delimiter and job.line_ending is ending
    ok = bulk.results(str(job.id), "successfulResults").text
    lines = ok.split(eol)
    assert lines[-1] == "" and all("\r" not in line and "\n" not in line for line in lines)
    assert lines[0] == d.join(['"sf__Id"', '"sf__Created"', "Name", "Site"])
    rows = csv_rows(ok, d)
    assert sorted(r[2:] for r in rows[1:]) == [["Acme", "HQ"], ["Beta", ""]]
    assert all(line.startswith('"') and line.endswith('"') for line in lines[1:-1])
    failed = bulk.results(str(job.id), "failedResults").text
    assert failed.split(eol)[0] == d.join(['"sf__Id"', '"sf__Error"', "Name", "Site"])
    row = csv_rows(failed, d)[1]
    assert row[1].startswith("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]")
    assert row[2:] == ["", "nameless"]


def test_results_echo_the_uploaded_header_and_only_its_columns(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Account", '"Name",site,AnnualRevenue\nAcme,HQ,912260031\n')
    ok = bulk.results(str(job.id), "successfulResults").text
    assert ok.splitlines()[0] == '"sf__Id","sf__Created","Name",site,AnnualRevenue'
    row = csv_rows(ok)[1]
    assert row[1:] == ["true", "Acme", "HQ", "9.12260031E8"]  # numbers as Salesforce renders
    assert row[0] == org.records("Account")[0]["Id"]


def test_result_rows_come_in_a_seeded_shuffled_order(clock: ManualClock) -> None:
    data = "Name\n" + "".join(f"Account {n:02d}\n" for n in range(40))
    uploaded = [f"Account {n:02d}" for n in range(40)]

    def order(org: FakeOrg) -> list[str]:
        bulk = Bulk2Caller(org)
        job = bulk.load("insert", "Account", data)
        return [r[2] for r in csv_rows(bulk.results(str(job.id), "successfulResults").text)[1:]]

    first = order(FakeOrg(clock=clock))
    assert sorted(first) == uploaded and first != uploaded
    assert order(FakeOrg(clock=clock)) == first  # deterministic for an org
    seeded = order(FakeOrg(clock=clock, bulk2_result_seed=7))
    assert seeded == order(FakeOrg(clock=clock, bulk2_result_seed=7))
    assert seeded != first and sorted(seeded) == uploaded


def test_injected_record_errors_appear_in_failed_results(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    org.inject_record_errors("Account", count=2)
    job = bulk.load("insert", "Account", "Name\nA\nB\nC\n")
    assert (job.number_records_processed, job.number_records_failed) == (3, 2)
    failed = csv_rows(bulk.results(str(job.id), "failedResults").text)
    assert [r[1] for r in failed[1:]] == [
        "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--"
    ] * 2
    assert sorted(r[2] for r in failed[1:]) == ["A", "B"]
    assert [r["Name"] for r in org.records("Account")] == ["C"]


def test_records_are_validated_as_bulk_1_records_are(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    long_name = "x" * 41
    data = (
        f"LastName,FirstName,Email\nOk,Ada,ada@example.com\n,Nameless,\nBad,{long_name},\nM,,no\n"
    )
    job = bulk.load("insert", "Contact", data)
    assert (job.number_records_processed, job.number_records_failed) == (4, 3)
    failed = {r[3]: r[1] for r in csv_rows(bulk.results(str(job.id), "failedResults").text)[1:]}
    assert failed["Nameless"].startswith("REQUIRED_FIELD_MISSING:")
    assert failed[long_name].startswith("STRING_TOO_LONG:First Name: data value too large")
    assert failed[""].startswith("INVALID_EMAIL_ADDRESS:")


def test_upsert_by_external_id(org: FakeOrg) -> None:
    org.add_field("Account", FieldSpec("Ext__c", FieldType.STRING, external_id=True, unique=True))
    org.insert("Account", [{"Name": "Old", "Ext__c": "E1"}])
    bulk = Bulk2Caller(org)
    job = bulk.load(
        "upsert", "Account", "Ext__c,Name\nE1,Renamed\nE2,Created\n", externalIdFieldName="Ext__c"
    )
    assert job.external_id_field_name == "Ext__c" and job.number_records_failed == 0
    ok = csv_rows(bulk.results(str(job.id), "successfulResults").text)
    assert sorted((r[2], r[1]) for r in ok[1:]) == [("E1", "false"), ("E2", "true")]
    assert sorted(r["Name"] for r in org.records("Account")) == ["Created", "Renamed"]


def test_update_and_delete_by_id(org: FakeOrg) -> None:
    first, second = org.insert("Account", [{"Name": "One"}, {"Name": "Two"}])
    missing = "001" + first[3:14] + "9" + first[15:]
    bulk = Bulk2Caller(org)
    update = bulk.load("update", "Account", f"Id,Name\n{first},Uno\n{missing},Nope\n")
    assert (update.number_records_processed, update.number_records_failed) == (2, 1)
    failed = csv_rows(bulk.results(str(update.id), "failedResults").text)[1]
    assert failed[0] == failed[2] and failed[1].startswith("INVALID_CROSS_REFERENCE_KEY:")
    ok = csv_rows(bulk.results(str(update.id), "successfulResults").text)[1]
    assert ok[:3] == [first, "false", first]
    delete = bulk.load("delete", "Account", f"Id\n{second}\n")
    assert delete.number_records_failed == 0
    assert [r["Name"] for r in org.records("Account")] == ["Uno"]
    assert org.count("Account", include_deleted=True) == 2
    hard = bulk.load("hardDelete", "Account", f"Id\n{second}\n")
    assert hard.number_records_failed == 0 and org.count("Account", include_deleted=True) == 1


@pytest.mark.parametrize("status", [200, 204])
def test_empty_failed_results_answer_as_configured(clock: ManualClock, status: int) -> None:
    org = FakeOrg(clock=clock, bulk2_empty_failed_results_status=status)
    bulk = Bulk2Caller(org)
    job = bulk.load("insert", "Account", "Name,Site\nAcme,HQ\n")
    reply = bulk.results(str(job.id), "failedResults")
    assert reply.status_code == status
    assert reply.text == ('"sf__Id","sf__Error",Name,Site\n' if status == 200 else "")
    with pytest.raises(ValueError, match="200 or 204"):
        FakeOrg(bulk2_empty_failed_results_status=404)


def test_failed_results_have_no_sf_id_before_53(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org, version="52.0")
    job = bulk.load("insert", "Account", "Name,Site\n,HQ\n")
    header = bulk.results(str(job.id), "failedResults").text.splitlines()[0]
    assert header == '"sf__Error",Name,Site'


# ---------------------------------------------------------------------------
# create, multipart, listing, allocations


def test_create_errors(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    cases = [
        ({"object": "Nope__c", "operation": "insert"}, "INVALIDJOB"),
        ({"object": "Account", "operation": "query"}, "API_ERROR"),
        ({"object": "Account", "operation": "upsert"}, "INVALIDJOB"),
        ({"object": "Account", "operation": "upsert", "externalIdFieldName": "Site"}, "INVALIDJOB"),
        ({"object": "Account", "operation": "insert", "columnDelimiter": "COLON"}, "API_ERROR"),
        ({"object": "Account", "operation": "insert", "lineEnding": "CR"}, "API_ERROR"),
        ({"object": "Account", "operation": "insert", "contentType": "JSON"}, "API_ERROR"),
        ({"object": "Account", "operation": "insert", "colour": "red"}, "JSON_PARSER_ERROR"),
    ]
    for body, code in cases:
        reply = bulk.request("POST", "/jobs/ingest", json=body)
        assert (reply.status_code, errors(reply)[0][0]) == (400, code), body
    assert errors(bulk.request("POST", "/jobs/ingest", json=cases[0][0])) == [
        ("INVALIDJOB", "InvalidJob : Unable to find object: Nope__c")
    ]
    assert errors(bulk.request("POST", "/jobs/ingest", json=cases[3][0])) == [
        (
            "INVALIDJOB",
            "InvalidJob : Field name provided, Site does not match an External ID for Account",
        )
    ]
    assert errors(bulk.request("POST", "/jobs/ingest", content=b"{not json")) == [
        (
            "JSON_PARSER_ERROR",
            "Unable to parse the JSON request body: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        )
    ]


def test_multipart_carries_at_most_100000_characters(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = {"object": "Account", "operation": "insert", "lineEnding": "CRLF"}
    body, media = multipart(job, "Name\r\nAcme\r\n")
    created = bulk.request("POST", "/jobs/ingest", content=body, headers={"Content-Type": media})
    assert created.json()["state"] == "UploadComplete" and "contentUrl" not in created.json()
    assert bulk.ingest(created.json()["id"]).state is Bulk2JobState.JOB_COMPLETE
    assert bulk.upload(created.json()["id"], "Name\nB\n").status_code == 400  # data came already
    big, media = multipart(job, "Name\r\n" + "x" * 100_000 + "\r\n")
    refused = bulk.request("POST", "/jobs/ingest", content=big, headers={"Content-Type": media})
    assert refused.status_code == 400 and errors(refused)[0][0] == "API_ERROR"
    assert org.count("Account") == 1


def test_the_job_list_pages(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, bulk2_jobs_page_size=2)
    bulk = Bulk2Caller(org)
    made = [bulk.create_ingest("insert", "Account").id for _ in range(5)]
    seen: list[str] = []
    url: str | None = "/services/data/v62.0/jobs/ingest"
    pages = 0
    while url is not None:
        reply = bulk.get_url(url)
        page = reply.json()
        assert list(page) == ["done", "records", "nextRecordsUrl"]
        seen += [r["id"] for r in page["records"]]
        assert all(r["jobType"] == "V2Ingest" for r in page["records"])
        assert page["done"] is (page["nextRecordsUrl"] is None)
        url = page["nextRecordsUrl"]
        pages += 1
    assert seen == made and pages == 3
    classic = bulk.request("GET", "/jobs/ingest", params={"jobType": "Classic"}).json()
    assert classic == {"done": True, "records": [], "nextRecordsUrl": None}


def test_internal_batches_share_the_daily_batch_allocation(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, max_batches_per_day=3)
    bulk = Bulk2Caller(org)
    data = "Name\n" + "".join(f"A{n}\n" for n in range(20_001))  # three internal batches
    assert bulk.load("insert", "Account", data).state is Bulk2JobState.JOB_COMPLETE
    assert org.state.bulk1.batch_allowance_left() == 0
    job = bulk.load("insert", "Account", "Name\nLate\n")
    assert job.state is Bulk2JobState.FAILED
    assert str(job.error_message).startswith("ExceededQuota : ")
    assert csv_rows(bulk.results(str(job.id), "unprocessedrecords").text)[1:] == [["Late"]]
    clock.advance(24 * 3600)
    tomorrow = Bulk2Caller(org)  # the first session expired meanwhile
    assert (
        tomorrow.load("insert", "Account", "Name\nNext day\n").state is Bulk2JobState.JOB_COMPLETE
    )
    assert org.count("Account") == 20_002


def test_the_control_lists_bulk2_jobs(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    bulk.load("insert", "Account", "Name\nAcme\n")
    bulk.create_query("SELECT Id FROM Account")
    listed = bulk.get_url("/_fake/bulk2/jobs").json()
    assert [j["jobType"] for j in listed] == ["V2Ingest", "V2Query"]
    assert json.dumps(listed).count(bulk.session_id) == 0
