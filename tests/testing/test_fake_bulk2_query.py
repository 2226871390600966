"""Bulk API 2.0 query jobs in the fake org: states, results paging by locator, ``resultPages``."""

from __future__ import annotations

import pytest
from bulk2_support import Bulk2Caller, Page, csv_rows, errors

from sfbulk_sdk.models.bulk2 import Bulk2JobState, ColumnDelimiter, LineEnding, ResultPages
from sfbulk_sdk.testing import FakeOrg, ManualClock


def seeded(clock: ManualClock, rows: int = 23, **options: float) -> FakeOrg:
    org = FakeOrg(clock=clock, **options)  # type: ignore[arg-type]
    org.insert("Account", [{"Name": f"Account {n:03d}", "Site": f"S{n}"} for n in range(rows)])
    return org


def all_pages(bulk: Bulk2Caller, job_id: str, **params: str | int) -> list[Page]:
    pages = [bulk.page(job_id, **params)]
    while pages[-1].locator != "null":
        assert len(pages) < 1000
        pages.append(bulk.page(job_id, locator=str(pages[-1].locator), **params))
    return pages


def names(page: Page) -> list[str]:
    return [row[0] for row in page.rows[1:]]


# ---------------------------------------------------------------------------
# states


def test_a_query_job_moves_through_its_states(clock: ManualClock) -> None:
    org = seeded(clock, 3, queue_time=10, processing_time=5)
    bulk = Bulk2Caller(org)
    job = bulk.create_query("SELECT Name FROM Account")
    assert job.id is not None and job.state is Bulk2JobState.UPLOAD_COMPLETE
    assert job.sobject == "Account"
    early = bulk.page(job.id)
    assert early.status == 412
    assert errors(bulk.request("GET", f"/jobs/query/{job.id}/results")) == [
        (
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed bulk job with status: "
            "JOB_COMPLETE. Current status: UPLOAD_COMPLETE",
        )
    ]
    clock.advance(10)
    running = bulk.query(job.id)
    assert running.state is Bulk2JobState.IN_PROGRESS and running.number_records_processed == 0
    assert errors(bulk.request("GET", f"/jobs/query/{job.id}/results"))[0][1].endswith(
        "Current status: IN_PROGRESS"
    )
    org.insert("Account", [{"Name": "Added while running"}])  # the query runs at its end
    clock.advance(5)
    done = bulk.query(job.id)
    assert done.state is Bulk2JobState.JOB_COMPLETE and done.number_records_processed == 4
    assert done.total_processing_time == 5000 and done.is_pk_chunking_supported is True
    org.insert("Account", [{"Name": "Added after"}])
    assert len(bulk.page(job.id).rows) == 5  # the results are a snapshot


@pytest.mark.parametrize("when", [0, 10])  # UploadComplete, InProgress
def test_abort_and_delete(clock: ManualClock, when: int) -> None:
    org = seeded(clock, 3, queue_time=10, processing_time=5)
    bulk = Bulk2Caller(org)
    job = bulk.create_query("SELECT Name FROM Account")
    assert job.id is not None
    clock.advance(when)
    not_terminated = bulk.request("DELETE", f"/jobs/query/{job.id}")
    assert errors(not_terminated) == [
        ("API_ERROR", "Error encountered when deleting the job because the job is not terminated")
    ]
    aborted = bulk.set_state(job.id, "Aborted", "query")
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    clock.advance(60)
    assert bulk.query(job.id).state is Bulk2JobState.ABORTED
    assert errors(bulk.request("GET", f"/jobs/query/{job.id}/results"))[0][1].endswith(
        "Current status: ABORTED"
    )
    assert bulk.request("DELETE", f"/jobs/query/{job.id}").status_code == 204
    assert bulk.request("GET", f"/jobs/query/{job.id}").status_code == 404


def test_only_aborting_is_a_state_change_for_a_query(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.create_query("SELECT Id FROM Account")
    reply = bulk.set_state(str(job.id), "UploadComplete", "query")
    assert reply.status_code == 400 and errors(reply)[0][0] == "API_ERROR"


def test_the_soql_is_checked_when_the_job_is_created(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    cases = {
        "SELECT Nope FROM Account": "INVALID_FIELD",
        "SELECT Id FROM Nowhere__c": "INVALID_TYPE",
        "SELECT COUNT(Id) FROM Account": "FUNCTIONALITY_NOT_ENABLED",
        "SELECT FROM": "MALFORMED_QUERY",
    }
    for soql, code in cases.items():
        reply = bulk.request("POST", "/jobs/query", json={"operation": "query", "query": soql})
        assert (reply.status_code, errors(reply)[0][0]) == (400, code), soql
    bad_operation = bulk.request("POST", "/jobs/query", json={"operation": "insert", "query": "x"})
    assert errors(bad_operation) == [
        ("API_ERROR", "Invalid value: 'insert' supplied for property: 'operation'")
    ]
    assert org.stats()["bulk2_jobs"] == 0


def test_query_all_sees_the_recycle_bin(org: FakeOrg) -> None:
    ids = org.insert("Account", [{"Name": "Kept"}, {"Name": "Binned"}])
    bulk = Bulk2Caller(org)
    assert bulk.load("delete", "Account", f"Id\n{ids[1]}\n").number_records_failed == 0
    live = bulk.create_query("SELECT Name FROM Account")
    every = bulk.create_query("SELECT Name, IsDeleted FROM Account", "queryAll")
    assert names(bulk.page(str(live.id))) == ["Kept"]
    assert bulk.page(str(every.id)).rows[1:] == [["Kept", "false"], ["Binned", "true"]]


def test_the_daily_query_job_allocation(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, bulk2_max_query_jobs_per_day=2)
    bulk = Bulk2Caller(org)
    bulk.create_query("SELECT Id FROM Account")
    bulk.create_query("SELECT Id FROM Account")
    refused = bulk.request(
        "POST", "/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Account"}
    )
    assert refused.status_code == 400 and errors(refused)[0][0] == "EXCEEDEDQUOTA"


# ---------------------------------------------------------------------------
# results


def test_results_need_the_jobs_api_version(clock: ManualClock) -> None:
    org = seeded(clock, 3)
    creator = Bulk2Caller(org, version="62.0")
    job = creator.create_query("SELECT Name FROM Account")
    other = Bulk2Caller(org, version="60.0")
    for resource in ("results", "resultPages"):
        reply = other.request("GET", f"/jobs/query/{job.id}/{resource}")
        assert reply.status_code == 409, resource
        assert errors(reply)[0][0] == "INVALIDVERSION"
    assert other.query(str(job.id)).state is Bulk2JobState.JOB_COMPLETE  # reading the job works
    assert creator.page(str(job.id)).status == 200


def test_locators_page_through_every_row_once(clock: ManualClock) -> None:
    org = seeded(clock)
    bulk = Bulk2Caller(org)
    job = bulk.create_query("SELECT Name, Site FROM Account")
    pages = all_pages(bulk, str(job.id), maxRecords=5)
    assert [p.count for p in pages] == [5, 5, 5, 5, 3]
    assert [p.locator == "null" for p in pages] == [False] * 4 + [True]
    assert all(p.rows[0] == ["Name", "Site"] and p.status == 200 for p in pages)
    got = [n for p in pages for n in names(p)]
    assert got == [f"Account {n:03d}" for n in range(23)]
    again = bulk.page(str(job.id), maxRecords=5, locator=str(pages[1].locator))
    assert again.text == pages[2].text  # a locator stays valid and means the same rows


def test_the_default_page_size_and_the_cap(clock: ManualClock) -> None:
    org = seeded(clock, bulk2_query_page_records=7, bulk2_query_max_page_records=4)
    bulk = Bulk2Caller(org)
    job = bulk.create_query("SELECT Name FROM Account")
    assert [p.count for p in all_pages(bulk, str(job.id), maxRecords=10)] == [4] * 5 + [3]
    org.state.settings.bulk2_query_max_page_records = 100
    assert [p.count for p in all_pages(bulk, str(job.id))] == [7, 7, 7, 2]
    assert all_pages(bulk, str(job.id), maxRecords=100)[0].count == 23


def test_an_empty_result_is_the_header_alone(org: FakeOrg) -> None:
    bulk = Bulk2Caller(org)
    job = bulk.create_query("SELECT Id, Name FROM Account")
    page = bulk.page(str(job.id))
    assert (page.text, page.count, page.locator) == ('"Id","Name"\n', 0, "null")


def test_bad_paging_parameters(clock: ManualClock) -> None:
    bulk = Bulk2Caller(seeded(clock, 3))
    job = bulk.create_query("SELECT Name FROM Account")
    for params in ({"maxRecords": "0"}, {"maxRecords": "ten"}, {"locator": "not-a-locator"}):
        reply = bulk.request("GET", f"/jobs/query/{job.id}/results", params=params)
        assert (reply.status_code, errors(reply)[0][0]) == (400, "API_ERROR"), params


@pytest.mark.parametrize("delimiter", list(ColumnDelimiter))
@pytest.mark.parametrize("ending", list(LineEnding))
def test_results_use_the_jobs_delimiter_and_line_ending(
    clock: ManualClock, delimiter: ColumnDelimiter, ending: LineEnding
) -> None:
    org = seeded(clock, 3)
    bulk = Bulk2Caller(org)
    job = bulk.create_query(
        "SELECT Name, Site FROM Account",
        columnDelimiter=delimiter.value,
        lineEnding=ending.value,
    )
    assert job.column_delimiter is delimiter and job.line_ending is ending
    text = bulk.page(str(job.id)).text
    d, eol = delimiter.char, ending.chars
    lines = text.split(eol)
    assert lines[0] == f'"Name"{d}"Site"' and lines[-1] == ""
    assert lines[1] == f'"Account 000"{d}"S0"' and len(lines) == 5
    assert csv_rows(text, d)[1:] == [[f"Account {n:03d}", f"S{n}"] for n in range(3)]


def test_result_pages_partition_the_rows(clock: ManualClock) -> None:
    org = seeded(clock)
    bulk = Bulk2Caller(org, version="62.0")
    job = bulk.create_query("SELECT Name FROM Account")
    listings: list[ResultPages] = []
    reply = bulk.request("GET", f"/jobs/query/{job.id}/resultPages", params={"maxRecords": 2})
    while True:
        assert reply.status_code == 200
        assert list(reply.json()) == ["resultPages", "nextRecordsUrl", "done"]
        listing = ResultPages.from_json(reply.content)
        listings.append(listing)
        if listing.done:
            assert listing.next_records_url is None
            break
        assert listing.next_records_url is not None
        assert listing.next_records_url.startswith(f"/services/data/v62.0/jobs/query/{job.id}/")
        reply = bulk.get_url(listing.next_records_url)
    assert [len(x.result_pages) for x in listings] == [5, 5, 2]
    urls = [p.result_url for x in listings for p in x.result_pages]
    pages = [Bulk2Caller.as_page(bulk.get_url(url)) for url in urls]
    assert [p.count for p in pages] == [2] * 11 + [1]
    assert [n for p in pages for n in names(p)] == [f"Account {n:03d}" for n in range(23)]
    by_locator = all_pages(bulk, str(job.id), maxRecords=2)
    assert [p.text for p in pages] == [p.text for p in by_locator]
    follow = bulk.get_url(urls[3])  # a page URL's locator continues on the same pages
    assert follow.headers["sforce-locator"] == urls[4].rsplit("locator=", 1)[1]


def test_result_pages_exist_from_api_58(clock: ManualClock) -> None:
    org = seeded(clock, 3)
    old = Bulk2Caller(org, version="57.0")
    job = old.create_query("SELECT Name FROM Account")
    assert old.request("GET", f"/jobs/query/{job.id}/resultPages").status_code == 404
    empty = Bulk2Caller(FakeOrg(clock=clock), version="58.0")
    nothing = empty.create_query("SELECT Name FROM Account")
    listing = empty.request("GET", f"/jobs/query/{nothing.id}/resultPages").json()
    assert listing == {"resultPages": [], "nextRecordsUrl": None, "done": True}


def test_the_query_job_list(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, bulk2_jobs_page_size=2)
    bulk = Bulk2Caller(org)
    made = [bulk.create_query("SELECT Id FROM Account").id for _ in range(3)]
    bulk.create_ingest("insert", "Account")
    first = bulk.request("GET", "/jobs/query").json()
    assert [r["id"] for r in first["records"]] == made[:2] and first["done"] is False
    rest = bulk.get_url(first["nextRecordsUrl"]).json()
    assert [r["id"] for r in rest["records"]] == made[2:] and rest["done"] is True
    assert all(r["jobType"] == "V2Query" for r in first["records"] + rest["records"])
    ingest_only = bulk.request("GET", "/jobs/query", params={"jobType": "V2Ingest"}).json()
    assert ingest_only["records"] == []
