"""Every recorded Bulk API 1.0 response parses into its model.

The payloads are read in place from ``../shared/fixtures`` (see
``fixtures/SOURCES.md`` there for which request produced each); the tests skip
when that folder is absent. The recorded SOAP login replies are parsed in
``tests/auth/test_soap_login.py``, the recorded errors mapped to exceptions in
``tests/core/test_bulk1.py``.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sfbulk_sdk.core import states
from sfbulk_sdk.models import (
    BatchInfo,
    BatchInfoList,
    BatchResult,
    BatchState,
    BulkErrorInfo,
    ConcurrencyMode,
    ContentType,
    JobInfo,
    JobState,
    Operation,
    QueryResultList,
)
from sfbulk_sdk.models.results import iter_csv_results
from sfbulk_sdk.models.xml import NS, parse_xml
from tests.conftest import read_fixture
from tests.recorded import ERRORS


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def child_names(xml: str | bytes) -> list[str]:
    """The local names of the root element's children, in document order."""
    return [child.tag.rpartition("}")[2] for child in ET.fromstring(xml)]


# --------------------------------------------------------------------------- coverage


def test_every_bulk1_and_soap_fixture_is_covered(shared_fixtures: Path) -> None:
    """A new fixture file must get a test: this lists the ones covered below, in
    ``tests/auth/test_soap_login.py`` (``soap_login/``) and ``tests/core/test_bulk1.py``."""
    present = {
        str(p.relative_to(shared_fixtures))
        for folder in ("bulk1", "soap_login")
        for p in (shared_fixtures / folder).rglob("*")
        if p.is_file()
    }
    covered = (
        {f"bulk1/{name}" for name in XML_JOBS}
        | {f"bulk1/{name}" for name in JSON_JOBS}
        | {f"bulk1/{name}" for name in XML_BATCHES}
        | {f"bulk1/{name}" for name in JSON_BATCHES}
        | {f"bulk1/{name}" for name in ERRORS}
        | {
            "bulk1/batchinfolist_two_completed_jorgevaldivia.xml",
            "bulk1/docs/batchinfolist_two_inprogress_xml.xml",
            "bulk1/docs/batchinfolist_pk_chunking_notprocessed_xml.xml",
            "bulk1/docs/json_batchinfolist_queued_completed.json",
            "bulk1/batch_result_upsert_updated_jorgevaldivia.csv",
            "bulk1/docs/batch_results_csv_with_failure.csv",
            "bulk1/docs/batch_results_insert_xml.xml",
            "bulk1/docs/json_batch_results_insert.json",
            "bulk1/query_result_list_one_jorgevaldivia.xml",
            "bulk1/docs/walkthrough_query_result_list.xml",
            "bulk1/query_result_csv_jorgevaldivia.csv",
            "bulk1/docs/walkthrough_query_result.csv",
            "bulk1/docs/batch_request_xml.xml",
            "bulk1/docs/json_batch_request.json",
            "soap_login/partner_login_response_v24_jorgevaldivia.xml",
            "soap_login/partner_login_fault_INVALID_LOGIN_jorgevaldivia.xml",
        }
    )
    assert present - covered == set()
    assert covered - present == set()


# --------------------------------------------------------------------------- jobInfo

# file -> expected values
XML_JOBS: dict[str, dict[str, Any]] = {
    "jobinfo_create_upsert_open_v24_jorgevaldivia.xml": {
        "id": "750E00000004MzbIAE",
        "operation": Operation.UPSERT,
        "sobject": "VideoEvent__c",
        "created_by_id": "005E00000017spfIAA",
        "created_date": utc(2012, 5, 29, 21, 50, 47),
        "system_modstamp": utc(2012, 5, 29, 21, 50, 47),
        "state": JobState.OPEN,
        "external_id_field_name": "Id__c",
        "concurrency_mode": ConcurrencyMode.PARALLEL,
        "content_type": ContentType.CSV,
        "number_batches_total": 0,
        "number_records_processed": 0,
        "api_version": 24.0,
        "total_processing_time": 0,
    },
    "jobinfo_get_open_v24_jorgevaldivia.xml": {
        "id": "750E00000004N1mIAE",
        "operation": Operation.UPSERT,
        "sobject": "VideoEvent__c",
        "created_date": utc(2012, 5, 30, 4, 8, 30),
        "state": JobState.OPEN,
        "external_id_field_name": "Id__c",
        "content_type": ContentType.CSV,
        "api_version": 24.0,
    },
    "jobinfo_close_closed_v24_jorgevaldivia.xml": {
        "id": "750E00000004MzbIAE",
        "operation": Operation.UPSERT,
        "created_date": utc(2012, 5, 29, 23, 51, 53),
        "state": JobState.CLOSED,
        "external_id_field_name": "Id__c",
        "api_version": 24.0,
    },
    "jobinfo_abort_aborted_v24_jorgevaldivia.xml": {
        "id": "750E00000004N1NIAU",
        "operation": Operation.UPSERT,
        "created_date": utc(2012, 5, 30, 0, 16, 4),
        "state": JobState.ABORTED,
        "number_batches_queued": 0,
        "number_retries": 0,
        "api_version": 24.0,
    },
    "docs/jobinfo_create_insert_csv_open_v36.xml": {
        "id": "750D00000004SkLIAU",
        "operation": Operation.INSERT,
        "sobject": "Account",
        "created_by_id": "005D0000001b0fFIAQ",
        "created_date": utc(2015, 12, 15, 21, 41, 45),
        "state": JobState.OPEN,
        "external_id_field_name": None,
        "content_type": ContentType.CSV,
        "api_version": 36.0,
    },
    "docs/jobinfo_close_closed_xml_v36.xml": {
        "id": "750D0000000002lIAA",
        "operation": Operation.INSERT,
        "created_by_id": "005D0000001ALVFIA4",
        "state": JobState.CLOSED,
        "content_type": ContentType.XML,
        "number_batches_completed": 1,
        "number_batches_total": 1,
        "number_records_processed": 2,
        "number_records_failed": 0,
        "total_processing_time": 3647,
        "api_active_processing_time": 2136,
        "apex_processing_time": 0,
        "api_version": 36.0,
    },
    "docs/jobinfo_abort_aborted_xml_v36.xml": {
        "id": "750D0000000002lIAA",
        "state": JobState.ABORTED,
        "system_modstamp": utc(2009, 4, 14, 18, 16, 0),
        "number_batches_completed": 1,
        "total_processing_time": 3647,
        "api_version": 36.0,
    },
    "docs/walkthrough_query_jobinfo_create_open_csv_v36.xml": {
        "id": "750x000000009tvAAA",
        "operation": Operation.QUERY,
        "sobject": "Account",
        "created_by_id": "005x0000001WR0lAAG",
        "created_date": utc(2016, 1, 10, 0, 53, 19),
        "state": JobState.OPEN,
        "content_type": ContentType.CSV,
        "number_batches_total": 0,
        "api_version": 36.0,
    },
    "docs/walkthrough_query_jobinfo_closed_v36.xml": {
        "id": "750x000000009tvAAA",
        "operation": Operation.QUERY,
        "state": JobState.CLOSED,
        "number_batches_completed": 1,
        "number_batches_total": 1,
        "number_records_processed": 10,
        "api_version": 36.0,
    },
}

JSON_JOBS: dict[str, dict[str, Any]] = {
    "docs/json_jobinfo_create_insert_json_open_v36.json": {
        "id": "750D00000004SkGIAU",
        "operation": Operation.INSERT,
        "sobject": "Account",
        "created_by_id": "005D0000001b0fFIAQ",
        "created_date": utc(2015, 12, 15, 20, 45, 25),
        "state": JobState.OPEN,
        "content_type": ContentType.JSON,
        "concurrency_mode": ConcurrencyMode.PARALLEL,
        "number_batches_total": 0,
        "api_version": 36.0,
    },
    "docs/json_jobinfo_close_closed_v36.json": {
        "id": "750xx000000000GAAQ",
        "created_by_id": "005xx000001SyhGAAS",
        "created_date": utc(2015, 11, 19, 1, 45, 3),
        "state": JobState.CLOSED,
        "content_type": ContentType.JSON,
        "number_batches_completed": 10,
        "number_batches_total": 10,
        "number_records_processed": 100,
        "api_active_processing_time": 5059,
        "total_processing_time": 5759,
        "api_version": 36.0,
    },
    "docs/json_jobinfo_abort_aborted_v36.json": {
        "id": "750D00000004SkVIAU",
        "operation": Operation.INSERT,
        "created_date": utc(2015, 12, 15, 21, 54, 29),
        "state": JobState.ABORTED,
        "number_batches_completed": 2,
        "number_records_processed": 2,
        "api_active_processing_time": 2166,
        "total_processing_time": 2870,
        "api_version": 36.0,
    },
}


def assert_fields(model: Any, expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        actual = getattr(model, name)
        assert actual == value, f"{name}: {actual!r} != {value!r}"
        if isinstance(value, float):
            assert isinstance(actual, float), name


@pytest.mark.parametrize("name", sorted(XML_JOBS))
def test_xml_jobinfo_fixture(name: str) -> None:
    job = JobInfo.from_xml(read_fixture(f"bulk1/{name}"))
    assert_fields(job, XML_JOBS[name])
    assert job.model_extra == {}
    assert job.assignment_rule_id is None


@pytest.mark.parametrize("name", sorted(XML_JOBS))
def test_xml_jobinfo_round_trip_keeps_salesforce_element_order(name: str) -> None:
    raw = read_fixture(f"bulk1/{name}")
    job = JobInfo.from_xml(raw)
    rendered = job.to_xml()
    assert JobInfo.from_xml(rendered) == job
    assert child_names(rendered) == child_names(raw)
    root = ET.fromstring(rendered)
    assert root.tag == f"{{{NS}}}jobInfo"
    # Values come back in the wire's spelling.
    original = {c.tag: c.text for c in ET.fromstring(raw)}
    assert {c.tag: c.text for c in root} == original


@pytest.mark.parametrize("name", sorted(JSON_JOBS))
def test_json_jobinfo_fixture(name: str) -> None:
    raw = read_fixture(f"bulk1/{name}")
    job = JobInfo.from_json(raw)
    assert_fields(job, JSON_JOBS[name])
    # Round trips through both wire forms.
    assert JobInfo.from_xml(job.to_xml()) == job
    assert JobInfo.from_json(job.to_wire_json()) == job
    # Salesforce's JSON: the same keys, sorted, "+0000" dates, apiVersion a number.
    rendered = json.loads(job.to_wire_json())
    assert rendered == json.loads(raw)
    assert list(rendered) == sorted(rendered)
    assert isinstance(rendered["apiVersion"], float)
    assert rendered["createdDate"].endswith(".000+0000")


def test_json_jobinfo_xml_rendering_uses_the_xsd_order() -> None:
    job = JobInfo.from_json(read_fixture("bulk1/docs/json_jobinfo_close_closed_v36.json"))
    xml_twin = read_fixture("bulk1/docs/jobinfo_close_closed_xml_v36.xml")
    assert child_names(job.to_xml()) == child_names(xml_twin)


# --------------------------------------------------------------------------- job requests


def test_job_create_request_parses_and_renders_in_the_same_order() -> None:
    raw = read_fixture("requests/bulk1_job_create_upsert_request_jorgevaldivia.xml")
    job = JobInfo.from_xml(raw)
    assert job.operation is Operation.UPSERT
    assert job.sobject == "VideoEvent__c"
    assert job.external_id_field_name == "Id__c"
    assert job.content_type is ContentType.CSV
    assert job.id is None
    assert job.state is None
    built = JobInfo(
        operation=Operation.UPSERT,
        sobject="VideoEvent__c",
        external_id_field_name="Id__c",
        content_type=ContentType.CSV,
    )
    assert built == job
    assert child_names(built.to_xml()) == child_names(raw)


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("requests/bulk1_job_close_request_jorgevaldivia.xml", JobState.CLOSED),
        ("requests/bulk1_job_abort_request_jorgevaldivia.xml", JobState.ABORTED),
    ],
)
def test_job_state_requests(name: str, state: JobState) -> None:
    raw = read_fixture(name)
    job = JobInfo.from_xml(raw)
    assert job.state is state
    assert job.model_dump(exclude_none=True) == {"state": state}
    assert child_names(JobInfo(state=state).to_xml()) == ["state"]


# --------------------------------------------------------------------------- batchInfo

XML_BATCHES: dict[str, dict[str, Any]] = {
    "batchinfo_create_queued_jorgevaldivia.xml": {
        "id": "751E00000004ZmUIAU",
        "job_id": "750E00000004NRfIAM",
        "state": BatchState.QUEUED,
        "created_date": utc(2012, 6, 2, 21, 3, 56),
        "number_records_processed": 0,
    },
    "batchinfo_get_completed_jorgevaldivia.xml": {
        "id": "751E00000004ZRbIAM",
        "job_id": "750E00000004N97IAE",
        "state": BatchState.COMPLETED,
        "created_date": utc(2012, 5, 31, 1, 22, 47),
        "number_records_processed": 2,
        "number_records_failed": 0,
        "total_processing_time": 72,
        "api_active_processing_time": 28,
        "apex_processing_time": 0,
    },
    "docs/batchinfo_add_batch_queued_xml.xml": {
        "id": "751D0000000004rIAA",
        "job_id": "750D0000000002lIAA",
        "state": BatchState.QUEUED,
        "created_date": utc(2009, 4, 14, 18, 15, 59),
    },
    "docs/batchinfo_get_inprogress_xml.xml": {
        "id": "751D0000000004rIAA",
        "state": BatchState.IN_PROGRESS,
    },
    "docs/pkchunking_original_batchinfo_state_with_space.xml": {
        "id": "751x000000009vwAAA",
        "job_id": "750x000000009tvAAA",
        "state": BatchState.NOT_PROCESSED,
        "system_modstamp": utc(2016, 1, 10, 1, 0, 19),
    },
    "docs/walkthrough_query_batchinfo_queued.xml": {
        "id": "751x000000009vwAAA",
        "state": BatchState.QUEUED,
        "system_modstamp": utc(2016, 1, 10, 0, 59, 47),
    },
    "docs/walkthrough_query_batchinfo_completed.xml": {
        "id": "751x000000009vwAAA",
        "state": BatchState.COMPLETED,
        "number_records_processed": 10,
    },
}

JSON_BATCHES: dict[str, dict[str, Any]] = {
    "docs/json_batchinfo_add_batch_queued.json": {
        "id": "751D00000004YGZIA2",
        "job_id": "750D00000004SkVIAU",
        "state": BatchState.QUEUED,
        "created_date": utc(2015, 12, 15, 21, 56, 43),
        "number_records_processed": 0,
    },
    "docs/json_batchinfo_get_inprogress.json": {
        "id": "751D00000004YGeIAM",
        "job_id": "750D00000004SkVIAU",
        "state": BatchState.IN_PROGRESS,
        "created_date": utc(2015, 12, 15, 22, 52, 49),
    },
}


@pytest.mark.parametrize("name", sorted(XML_BATCHES))
def test_xml_batchinfo_fixture(name: str) -> None:
    raw = read_fixture(f"bulk1/{name}")
    batch = BatchInfo.from_xml(raw)
    assert_fields(batch, XML_BATCHES[name])
    assert batch.state_message is None
    assert states.batch_is_done(batch) == (
        batch.state in (BatchState.COMPLETED, BatchState.NOT_PROCESSED)
    )
    assert BatchInfo.from_xml(batch.to_xml()) == batch
    assert child_names(batch.to_xml()) == child_names(raw)


def test_not_processed_is_emitted_without_the_space() -> None:
    raw = read_fixture("bulk1/docs/pkchunking_original_batchinfo_state_with_space.xml")
    batch = BatchInfo.from_xml(raw)
    assert batch.state.value == "NotProcessed"
    assert "<state>NotProcessed</state>" in batch.to_xml()
    assert json.loads(batch.to_wire_json())["state"] == "NotProcessed"


@pytest.mark.parametrize("name", sorted(JSON_BATCHES))
def test_json_batchinfo_fixture(name: str) -> None:
    raw = read_fixture(f"bulk1/{name}")
    batch = BatchInfo.from_json(raw)
    assert_fields(batch, JSON_BATCHES[name])
    assert json.loads(batch.to_wire_json()) == json.loads(raw)


def test_batchinfolist_live_two_completed() -> None:
    raw = read_fixture("bulk1/batchinfolist_two_completed_jorgevaldivia.xml")
    batches = BatchInfoList.from_xml(raw)
    assert [b.id for b in batches] == ["751E00000004ZRbIAM", "751E00000004ZQsIAM"]
    assert {b.job_id for b in batches} == {"750E00000004N97IAE"}
    assert [b.state for b in batches] == [BatchState.COMPLETED] * 2
    assert batches[1].created_date == utc(2012, 5, 31, 1, 23, 20)
    assert sum(b.number_records_processed for b in batches) == 4
    assert BatchInfoList.from_xml(batches.to_xml()) == batches


def test_batchinfolist_docs_two_in_progress() -> None:
    batches = BatchInfoList.from_xml(
        read_fixture("bulk1/docs/batchinfolist_two_inprogress_xml.xml")
    )
    assert len(batches) == 2
    assert [b.state for b in batches] == [BatchState.IN_PROGRESS] * 2
    assert batches[1].id == "751D0000000004sIAA"
    assert batches[1].number_records_processed == 800
    assert batches[1].total_processing_time == 5870
    assert batches[1].apex_processing_time == 2166
    assert not any(states.batch_is_done(b) for b in batches)


def test_batchinfolist_pk_chunking_original_batch_not_processed() -> None:
    batches = BatchInfoList.from_xml(
        read_fixture("bulk1/docs/batchinfolist_pk_chunking_notprocessed_xml.xml")
    )
    assert [b.state for b in batches] == [BatchState.NOT_PROCESSED] + [BatchState.COMPLETED] * 4
    assert batches[0].id == "751D00000004YjwIAE"
    assert [b.number_records_processed for b in batches] == [0, 100000, 100000, 100000, 50000]
    assert all(states.batch_is_done(b) for b in batches)
    assert "<state>NotProcessed</state>" in batches.to_xml()


def test_json_batchinfolist_object_with_batchinfo_array() -> None:
    raw = read_fixture("bulk1/docs/json_batchinfolist_queued_completed.json")
    batches = BatchInfoList.from_json(raw)
    assert [(b.id, b.state) for b in batches] == [
        ("751D00000004YGZIA2", BatchState.QUEUED),
        ("751D00000004YGeIAM", BatchState.COMPLETED),
    ]
    assert batches[1].number_records_processed == 800
    assert batches[1].api_active_processing_time == 2166
    assert batches[1].system_modstamp == utc(2015, 12, 15, 22, 54, 54)
    assert json.loads(batches.to_wire_json()) == json.loads(raw)


# --------------------------------------------------------------------------- results


def test_batch_results_csv_live_upsert_updated() -> None:
    results = BatchResult.from_csv(
        read_fixture("bulk1/batch_result_upsert_updated_jorgevaldivia.csv")
    )
    assert [r.id for r in results] == ["a00E0000002V30LIAS", "a00E0000002V30MIAS"]
    assert all(r.success for r in results)
    assert not any(r.created for r in results)  # created=false: the upsert updated them
    assert results.failed == []
    assert all(r.errors == [] and r.error == "" for r in results)


def test_batch_results_csv_with_failure_row() -> None:
    results = BatchResult.from_csv(read_fixture("bulk1/docs/batch_results_csv_with_failure.csv"))
    assert len(results) == 3
    assert [r.id for r in results] == ["003D000000Q89kQIAR", "003D000000Q89kRIAR", None]
    assert [r.success for r in results] == [True, True, False]
    assert [r.created for r in results] == [True, True, False]
    failed = results.failed
    assert failed == [results[2]]
    (error,) = failed[0].errors
    assert error.status_code == "REQUIRED_FIELD_MISSING"
    assert error.message == "Required fields are missing: [LastName]"
    assert error.fields == ["LastName"]
    assert (
        failed[0].error
        == "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    )
    # The failure survives the XML form (WSC's order: errors, id, success, created).
    assert BatchResult.from_xml(results.to_xml()) == results
    assert child_names(results.to_xml()) == ["result"] * 3


def test_batch_results_csv_streamed_line_by_line() -> None:
    raw = read_fixture("bulk1/docs/batch_results_csv_with_failure.csv").decode()
    streamed = list(iter_csv_results(io.StringIO(raw, newline="")))
    assert streamed == BatchResult.from_csv(raw).result


def test_batch_results_xml() -> None:
    raw = read_fixture("bulk1/docs/batch_results_insert_xml.xml")
    results = BatchResult.from_xml(raw)
    assert [r.id for r in results] == ["001D000000ISUr3IAH", "001D000000ISUr4IAH"]
    assert all(r.success and r.created and r.errors == [] for r in results)
    first = ET.fromstring(raw)[0]
    assert child_names(results.to_xml()) == ["result", "result"]
    assert [c.tag.rpartition("}")[2] for c in ET.fromstring(results.to_xml())[0]] == [
        c.tag.rpartition("}")[2] for c in first
    ]


def test_batch_results_json() -> None:
    results = BatchResult.from_json(read_fixture("bulk1/docs/json_batch_results_insert.json"))
    assert [r.id for r in results] == ["001xx000003DHP0AAO", "001xx000003DHP1AAO"]
    assert all(r.success and r.created and r.errors == [] for r in results)


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("bulk1/query_result_list_one_jorgevaldivia.xml", ["752E0000000TNaq"]),
        ("bulk1/docs/walkthrough_query_result_list.xml", ["752x00000004CJE"]),
    ],
)
def test_query_result_list(name: str, ids: list[str]) -> None:
    result_list = QueryResultList.from_xml(read_fixture(name))
    assert list(result_list) == ids
    assert len(result_list) == 1
    assert QueryResultList.from_xml(result_list.to_xml()) == result_list
    assert QueryResultList.from_json(json.dumps(ids)) == result_list


def test_query_result_csv_live() -> None:
    text = read_fixture("bulk1/query_result_csv_jorgevaldivia.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == ["Id__c", "Title__c", "IsPreview__c"]
    assert [(r["Id__c"], r["IsPreview__c"]) for r in rows] == [
        ("23456.0", "true"),  # numbers come back re-rendered by the server
        ("12345.0", "false"),
        ("3456.0", "false"),
        ("4567.0", "true"),
    ]
    assert rows[3]["Title__c"] == "Another test title for testing"


def test_query_result_csv_walkthrough() -> None:
    text = read_fixture("bulk1/docs/walkthrough_query_result.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 10
    assert rows[0] == {"Id": "001x000xxx4TU4JAAW", "Name": "name161268--1296595660659"}
    assert rows[-1]["Id"] == "001x000xxx4TU4SAAW"
    assert all(len(r["Id"]) == 18 and r["Id"].startswith("001") for r in rows)


def test_batch_request_xml_body() -> None:
    content = parse_xml(read_fixture("bulk1/docs/batch_request_xml.xml"), "sObjects")
    records = content["sObject"]
    assert records == [
        {"description": "Created from Bulk API", "name": "[Bulk API] Account 0 (batch 0)"},
        {"description": "Created from Bulk API", "name": "[Bulk API] Account 1 (batch 0)"},
    ]


def test_batch_request_json_body() -> None:
    records = json.loads(read_fixture("bulk1/docs/json_batch_request.json"))
    assert [r["Name"] for r in records] == [
        "[Bulk API] Account 0 (batch 0)",
        "[Bulk API] Account 1 (batch 0)",
    ]
    assert {r["description"] for r in records} == {"Created from Bulk API"}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_fixture_parses(name: str) -> None:
    code, message, _ = ERRORS[name]
    raw = read_fixture(f"bulk1/{name}")
    info = BulkErrorInfo.from_xml(raw)
    assert info.exception_code == code
    assert info.exception_message == message
    assert child_names(info.to_xml()) == child_names(raw) == ["exceptionCode", "exceptionMessage"]
