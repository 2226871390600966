"""Every recorded Bulk 2.0 and REST-error JSON reply parses into its model, values checked.

The fixtures live in ``../shared/fixtures/bulk2/docs`` and ``../shared/fixtures/rest_errors``
(read in place; the tests skip where the folder is absent).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from sfbulk_sdk.models.bulk2 import (
    Bulk2JobState,
    ColumnDelimiter,
    IngestJobInfo,
    JobType,
    LineEnding,
    QueryJobInfo,
    RestErrors,
    ResultPages,
)
from tests.conftest import read_fixture

INGEST = [
    "ingest_job_create_insert_open_v66.json",
    "ingest_job_create_multipart_uploadcomplete_v66.json",
    "ingest_job_create_upsert_open_v66.json",
    "ingest_job_get_jobcomplete_insert_v66.json",
    "ingest_job_get_jobcomplete_multipart_v66.json",
    "ingest_job_get_open_v66.json",
    "ingest_job_patch_uploadcomplete_insert_v66.json",
    "ingest_job_patch_uploadcomplete_upsert_v66.json",
]
QUERY = [
    "query_job_abort_aborted_v46.json",
    "query_job_create_uploadcomplete_v46.json",
    "query_job_create_uploadcomplete_v66.json",
    "query_job_get_jobcomplete_v46.json",
    "query_job_get_jobcomplete_v66.json",
]
ERRORS = [
    ("bulk2/docs/error_400_API_ERROR_delete_unterminated_query_job.json", "API_ERROR"),
    ("bulk2/docs/error_400_INVALIDJOBSTATE_abort_completed_query_job.json", "INVALIDJOBSTATE"),
    ("bulk2/docs/error_404_NOT_FOUND_deleted_job.json", "NOT_FOUND"),
    ("rest_errors/docs/rest_400_MALFORMED_ID.json", "MALFORMED_ID"),
    ("rest_errors/docs/rest_404_NOT_FOUND.json", "NOT_FOUND"),
    ("rest_errors/rest_401_INVALID_SESSION_ID_restforce.json", "INVALID_SESSION_ID"),
]


def _wire(name: str) -> tuple[bytes, dict[str, object]]:
    raw = read_fixture(f"bulk2/docs/{name}")
    return raw, json.loads(raw)


@pytest.mark.parametrize("name", INGEST + QUERY)
def test_every_job_fixture_parses_with_every_wire_value(name: str) -> None:
    raw, wire = _wire(name)
    model = (IngestJobInfo if name.startswith("ingest") else QueryJobInfo).from_json(raw)
    assert model.id == wire["id"]
    assert model.state is not None and model.state.value == wire["state"]
    assert model.sobject == wire["object"]
    assert model.operation is not None and model.operation.value == wire["operation"]
    assert model.api_version == float(str(wire["apiVersion"]))
    assert model.created_date is not None and model.created_date.tzinfo is not None
    for key, field in [
        ("numberRecordsProcessed", "number_records_processed"),
        ("retries", "retries"),
        ("totalProcessingTime", "total_processing_time"),
    ]:
        assert getattr(model, field) == wire.get(key)
    if "lineEnding" in wire:
        assert model.line_ending is not None and model.line_ending.value == wire["lineEnding"]
    if "columnDelimiter" in wire:
        assert model.column_delimiter is not None
        assert model.column_delimiter.value == wire["columnDelimiter"]
    if "jobType" in wire:
        assert model.job_type is not None and model.job_type.value == wire["jobType"]


def test_an_upsert_job_keeps_its_external_id_and_content_url() -> None:
    raw, _ = _wire("ingest_job_create_upsert_open_v66.json")
    job = IngestJobInfo.from_json(raw)
    assert job.external_id_field_name == "customExtIdField__c"
    assert job.state is Bulk2JobState.OPEN
    assert job.content_url == "services/data/66.0/jobs/ingest/7476gEXAMPLE4X2ZWO/batches"
    assert job.line_ending is LineEnding.LF and job.column_delimiter is ColumnDelimiter.COMMA


def test_a_completed_ingest_job_carries_its_counters() -> None:
    raw, _ = _wire("ingest_job_get_jobcomplete_insert_v66.json")
    job = IngestJobInfo.from_json(raw)
    assert job.state is Bulk2JobState.JOB_COMPLETE and job.job_type is JobType.V2_INGEST
    assert (job.number_records_processed, job.number_records_failed) == (7, 0)
    assert (job.api_active_processing_time, job.apex_processing_time) == (813, 619)
    assert job.created_date == datetime(2022, 1, 2, 21, 33, 43, tzinfo=timezone.utc)


def test_a_completed_query_job_says_pk_chunking_is_supported() -> None:
    raw, _ = _wire("query_job_get_jobcomplete_v66.json")
    job = QueryJobInfo.from_json(raw)
    assert job.is_pk_chunking_supported is True
    assert job.number_records_processed == 28 and job.job_type is JobType.V2_QUERY


def test_result_pages_list_every_url_and_the_continuation() -> None:
    raw, wire = _wire("query_result_pages_v58.json")
    pages = ResultPages.from_json(raw)
    urls = [p["resultUrl"] for p in wire["resultPages"]]  # type: ignore[attr-defined]
    assert [p.result_url for p in pages.result_pages] == urls and len(urls) == 5
    assert pages.next_records_url == wire["nextRecordsUrl"]
    assert pages.done is False
    # the other spelling the docs use reads the same
    other = ResultPages.from_json(raw.replace(b'"nextRecordsUrl"', b'"nextRecordUrl"'))
    assert other.next_records_url == wire["nextRecordsUrl"]


@pytest.mark.parametrize(("name", "code"), ERRORS)
def test_every_rest_error_fixture_parses_by_key(name: str, code: str) -> None:
    raw = read_fixture(name)
    wire = json.loads(raw)
    errors = RestErrors.from_json(raw)
    assert errors.first is not None
    assert errors.first.error_code == code
    assert errors.first.message == wire[0]["message"] and errors.first.message
