"""The sans-IO Bulk 1.0 core: request builders, reply parsing, error mapping.

(The record decoders are in ``test_decoders.py``.)
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk import errors
from sfbulk_sdk.core import bulk1, bulk2
from sfbulk_sdk.models import ContentType, JobInfo, Operation, Session
from sfbulk_sdk.models.xml import NS, parse_xml
from tests.conftest import read_fixture
from tests.recorded import ERRORS

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
SESSION = Session.static("https://na1.example.test", "00Dx!SECRET-SESSION", now=NOW)
JOB = "750x0000000001AAAA"
BATCH = "751x0000000001AAAA"


def test_create_job_request_is_xml_in_xsd_order_with_session_header() -> None:
    call = bulk1.create_job("upsert", "Contact", external_id_field="Ext__c")
    request = call.build(SESSION, "64.0")
    assert request.method == "POST"
    assert str(request.url) == "https://na1.example.test/services/async/64.0/job"
    assert request.headers["X-SFDC-Session"] == "00Dx!SECRET-SESSION"
    assert request.headers["Content-Type"] == "application/xml; charset=UTF-8"
    body = request.content.decode()
    order = [
        "operation",
        "object",
        "externalIdFieldName",
        "concurrencyMode",
        "contentType",
    ]
    positions = [body.index(f"<{name}>") for name in order]
    assert positions == sorted(positions)
    parsed = parse_xml(request.content, "jobInfo")
    assert parsed == {
        "operation": "upsert",
        "object": "Contact",
        "externalIdFieldName": "Ext__c",
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
    }
    assert call.idempotent is False


@pytest.mark.parametrize("op", ["hardDelete", "queryAll", "HARDDELETE", "query_all"])
def test_operation_casing_is_kept_on_the_wire(op: str) -> None:
    body = bulk1.create_job(op, "Account").build(SESSION, "64.0").content.decode()
    assert Operation(op).value in ("hardDelete", "queryAll")
    assert f"<operation>{Operation(op).value}</operation>" in body


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operation": "merge", "sobject": "Account"}, "unknown operation"),
        ({"operation": "upsert", "sobject": "Account"}, "external_id_field"),
        ({"operation": "insert", "sobject": "Acc ount"}, "valid API name"),
        ({"operation": "insert", "sobject": "Account", "pk_chunking": True}, "PK chunking"),
        ({"operation": "insert", "sobject": "Account", "content_type": "YAML"}, "YAML"),
    ],
)
def test_bad_job_input_is_refused_before_sending(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(errors.InvalidInputError, match=message):
        bulk1.create_job(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("operation", "field", "message"),
    [
        ("upsert", None, "upsert needs external_id_field"),
        ("upsert", "   ", "upsert needs external_id_field"),
        ("upsert", 5, "must be a field name"),
        ("insert", "Ext__c", "applies only to upsert"),
    ],
)
def test_one_external_id_rule_for_bulk1_and_bulk2_jobs(
    operation: str, field: object, message: str
) -> None:
    """Bulk 1.0 and 2.0 job creation refuse the same external id fields, the same way."""
    with pytest.raises(errors.InvalidInputError, match=message):
        bulk1.create_job(operation, "Account", external_id_field=field)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInputError, match=message):
        bulk2.create_ingest_job(operation, "Account", external_id_field=field)  # type: ignore[arg-type]
    assert bulk1.check_external_id("Ext__c", upsert=True) == "Ext__c"
    assert bulk1.check_external_id(None, upsert=False) is None


def test_pk_chunking_header() -> None:
    call = bulk1.create_job(
        "query", "Account", pk_chunking=bulk1.PkChunking(chunk_size=50_000, parent="Account")
    )
    assert call.headers["Sforce-Enable-PKChunking"] == "chunkSize=50000; parent=Account"
    assert (
        bulk1.create_job("query", "Account", pk_chunking=True).headers["Sforce-Enable-PKChunking"]
        == "TRUE"
    )
    with pytest.raises(errors.InvalidInputError):
        bulk1.PkChunking(chunk_size=300_000).header()


def test_close_and_abort_send_only_state() -> None:
    close = bulk1.close_job(JOB).build(SESSION, "64.0")
    assert parse_xml(close.content, "jobInfo") == {"state": "Closed"}
    abort = bulk1.abort_job(JOB, content_type=ContentType.JSON).build(SESSION, "64.0")
    assert json.loads(abort.content) == {"state": "Aborted"}
    assert abort.headers["Content-Type"].startswith("application/json")


def test_reply_format_rule_status_calls_send_the_job_media_type() -> None:
    # CSV jobs get XML status replies, so status calls send XML; JSON jobs send JSON.
    assert bulk1.get_job(JOB, content_type=ContentType.CSV).media_type == "application/xml"
    assert bulk1.get_job(JOB, content_type=ContentType.JSON).media_type == "application/json"
    assert bulk1.list_batches(JOB).media_type == "application/xml"
    # batch uploads and results use the data's own media type
    assert bulk1.add_batch(JOB, "a\n1\n", content_type=ContentType.CSV).media_type == "text/csv"
    request = bulk1.get_batch(JOB, BATCH, content_type=ContentType.JSON).build(SESSION, "64.0")
    assert request.method == "GET"
    assert request.headers["Content-Type"] == "application/json; charset=UTF-8"


def test_ids_and_batches_are_validated() -> None:
    with pytest.raises(errors.InvalidInputError, match="job id"):
        bulk1.get_job("../etc")
    with pytest.raises(errors.InvalidInputError, match="empty"):
        bulk1.add_batch(JOB, "  ")
    with pytest.raises(errors.InvalidInputError, match="at most"):
        bulk1.add_batch(JOB, b"x" * (bulk1.BATCH_MAX_BYTES + 1))


@pytest.mark.parametrize("version", ["64.0", "v62", "31"])
def test_api_version_normalised(version: str) -> None:
    assert bulk1.validate_api_version(version).endswith(".0")


def test_retired_api_version_refused() -> None:
    with pytest.raises(errors.InvalidInputError, match="retired"):
        bulk1.validate_api_version("26.0")


@pytest.mark.review("client")
@pytest.mark.parametrize("version", ["nan", "inf", "1e2", "64.05", "6_4.0", "64.5"])
def test_an_api_version_that_is_not_a_version_number_is_refused(version: str) -> None:
    with pytest.raises(errors.InvalidInputError):
        bulk1.validate_api_version(version)


def _xml_response(status: int, body: str, media: str = "application/xml") -> httpx.Response:
    return httpx.Response(status, headers={"content-type": media}, content=body.encode())


def _error_xml(code: str, message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{NS}">'
        f"<exceptionCode>{code}</exceptionCode><exceptionMessage>{message}</exceptionMessage></error>"
    )


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("InvalidSessionId", 400, errors.InvalidSessionError),
        ("InvalidJob", 400, errors.InvalidJobError),
        ("InvalidJobState", 400, errors.InvalidJobStateError),
        ("InvalidBatch", 400, errors.InvalidBatchError),
        ("InvalidXML", 400, errors.InvalidXmlError),
        ("UnsupportedContentType", 400, errors.UnsupportedContentTypeError),
        ("ExceededQuota", 400, errors.ExceededQuotaError),
        ("TooManyLockFailure", 400, errors.TooManyLockFailureError),
        ("InternalServerError", 500, errors.ServerError),
        ("SomethingNew", 400, errors.APIError),
        ("SomethingNew", 503, errors.ServerError),
    ],
)
def test_error_mapping_by_exception_code(code: str, status: int, cls: type) -> None:
    error = bulk1.parse_error(_xml_response(status, _error_xml(code, "why")))
    assert type(error) is cls
    assert error.code == code
    assert error.message == "why"
    assert error.status_code == status
    assert error.body is not None and code in error.body
    assert f"HTTP {status}" in str(error)


def test_error_mapping_json_and_rest_shapes() -> None:
    bulk_json = httpx.Response(
        400,
        headers={"content-type": "application/json"},
        json={"exceptionCode": "InvalidJob", "exceptionMessage": "Unable to find object: X"},
    )
    assert isinstance(bulk1.parse_error(bulk_json), errors.InvalidJobError)
    rest = httpx.Response(
        401,
        headers={"content-type": "application/json"},
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    error = bulk1.parse_error(rest)
    assert isinstance(error, errors.InvalidSessionError)
    assert error.code == "INVALID_SESSION_ID"
    garbage = httpx.Response(502, content=b"<html>bad gateway</html>")
    assert isinstance(bulk1.parse_error(garbage), errors.ServerError)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_fixture_maps_to_exception(name: str) -> None:
    code, message, cls = ERRORS[name]
    response = httpx.Response(
        400, headers={"Content-Type": "application/xml"}, content=read_fixture(f"bulk1/{name}")
    )
    error = bulk1.parse_error(response)
    assert type(error) is cls
    assert error.code == code
    assert error.message == message
    assert error.status_code == 400


def test_is_invalid_session() -> None:
    assert bulk1.is_invalid_session(_xml_response(400, _error_xml("InvalidSessionId", "x")))
    assert not bulk1.is_invalid_session(_xml_response(400, _error_xml("InvalidJob", "x")))
    assert not bulk1.is_invalid_session(httpx.Response(200, content=b""))


def test_job_reply_parsed_by_its_own_content_type() -> None:
    job = JobInfo(id=JOB, operation=Operation.INSERT, sobject="Account")
    call = bulk1.get_job(JOB)
    as_xml = call.parse(_xml_response(200, job.to_xml()))
    as_json = call.parse(
        httpx.Response(
            200, headers={"content-type": "application/json"}, content=job.to_wire_json()
        )
    )
    assert as_xml == as_json == job
    with pytest.raises(errors.ProtocolError):
        call.parse(_xml_response(200, "<jobInfo"))


def test_session_id_never_in_call_repr_or_error() -> None:
    request = bulk1.get_job(JOB).build(SESSION, "64.0")
    assert "SECRET" not in repr(request)
    assert "SECRET" not in repr(SESSION) and "SECRET" not in str(SESSION)
    error = bulk1.parse_error(
        _xml_response(400, _error_xml("InvalidSessionId", "Invalid session id"))
    )
    assert "SECRET" not in str(error) and "SECRET" not in repr(error)
