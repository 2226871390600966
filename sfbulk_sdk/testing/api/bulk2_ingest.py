"""Bulk API 2.0 ingest jobs (spec §3.2): ``/services/data/v{version}/jobs/ingest[/...]``.

Create a job (JSON, or multipart with the data), upload its CSV once with
``PUT .../batches``, close it (``PATCH {"state": "UploadComplete"}``) or abort
it, read it, list the jobs, delete it, and read its three result files. The
jobs and their processing are the org's
:class:`~sfbulk_sdk.testing.bulk2_engine.Bulk2Engine` (``state.bulk2``).
"""

from __future__ import annotations

import re
from typing import TypeVar

from ...models.bulk2 import (
    Bulk2JobState,
    Bulk2Operation,
    ColumnDelimiter,
    IngestJobInfo,
    JobType,
    LineEnding,
)
from ...models.enums import ConcurrencyMode
from ..bulk2_jobs import IngestJob, QueryJob, ResultKind, ingest_info, ingest_results, status_name
from ..http import FakeResponse
from .rest import (
    JobResource,
    JobRoutes,
    RestCall,
    RestFailure,
    abort,
    invalid_value,
    job_options,
    lists_own_jobs,
    operation_of,
    require_json,
)

__all__ = ["MULTIPART_MAX_CHARS", "ROUTES", "SECOND_UPLOAD", "new_job"]

#: The most CSV characters a multipart create may carry (spec §3.2).
MULTIPART_MAX_CHARS = 100_000
_CREATE_FIELDS = frozenset(
    {
        "object",
        "operation",
        "externalIdFieldName",
        "contentType",
        "columnDelimiter",
        "lineEnding",
        "assignmentRuleId",
        "concurrencyMode",
    }
)
#: Salesforce's message for a second upload, spelling included (spec §3.1).
SECOND_UPLOAD = (
    "Found multipe contents for job: {id}, please 'Close' / 'Abort' / 'Delete' the current Job "
    "then create a new Job and make sure you only do 'PUT' once on a given Job."
)
_JobT = TypeVar("_JobT", IngestJob, QueryJob)
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(rb'name="([^"]*)"', re.IGNORECASE)


# -- create ------------------------------------------------------------------


def _create(call: RestCall) -> FakeResponse:
    media = call.request.media_type
    if media == "multipart/form-data":
        parts = _multipart(call)
        if "job" not in parts:
            raise RestFailure(400, "API_ERROR", "A multipart create needs a 'job' part")
        document = call.json_object(_CREATE_FIELDS, parts["job"])
        if "content" not in parts:
            raise RestFailure(400, "API_ERROR", "A multipart create needs a 'content' part")
        job = _new_job(call, document)
        try:
            text = parts["content"].decode("utf-8")
        except UnicodeDecodeError:
            raise RestFailure(
                400, "CLIENTINPUTERROR", "ClientInputError : The job data is not UTF-8"
            ) from None
        if len(text) > MULTIPART_MAX_CHARS:
            raise RestFailure(
                400,
                "API_ERROR",
                f"The CSV data of a multipart request can't exceed {MULTIPART_MAX_CHARS} "
                "characters: upload larger data with PUT .../batches",
            )
        job.body = text
        job.uploaded = True
        job.state = Bulk2JobState.UPLOAD_COMPLETE
        call.state.bulk2.add(job)
        return call.json_reply(200, ingest_info(job, "create").to_wire_json())
    require_json(call)
    job = _new_job(call, call.json_object(_CREATE_FIELDS))
    call.state.bulk2.add(job)
    return call.json_reply(200, ingest_info(job, "create").to_wire_json())


def _new_job(call: RestCall, document: dict[str, object]) -> IngestJob:
    operation = operation_of(document, query=False)
    name = document.get("object")
    table = call.state.db.table(name) if isinstance(name, str) and name else None
    if table is None:
        raise RestFailure(
            400, "INVALIDJOB", f"InvalidJob : Unable to find object: {name if name else ''}"
        )
    layout = job_options(document)
    external = document.get("externalIdFieldName")
    external_name: str | None = None
    if operation is Bulk2Operation.UPSERT:
        try:
            external_name = table.spec.upsert_key(external if isinstance(external, str) else None)
        except ValueError as exc:
            raise RestFailure(400, "INVALIDJOB", f"InvalidJob : {exc}") from None
    job = new_job(call, IngestJob, operation, table.name, layout)
    job.external_id_field = external_name
    rule = document.get("assignmentRuleId")
    job.assignment_rule_id = rule if isinstance(rule, str) and rule else None
    return job


def new_job(
    call: RestCall,
    kind: type[_JobT],
    operation: Bulk2Operation,
    sobject: str,
    layout: tuple[ColumnDelimiter, LineEnding],
) -> _JobT:
    """A new job of ``kind`` by the caller, now, in ``layout`` (its delimiter and line ending)."""
    delimiter, ending = layout
    now = call.state.now()
    return kind(
        id=call.state.bulk2.next_id(),
        operation=operation,
        sobject=sobject,
        created_by=call.user.user_id,
        created=now,
        api_version=call.version,
        delimiter=delimiter,
        line_ending=ending,
        modstamp=now,
    )


def _multipart(call: RestCall) -> dict[str, bytes]:
    """The parts of a ``multipart/form-data`` body by name."""
    match = _BOUNDARY.search(call.request.header("content-type") or "")
    if match is None:
        raise RestFailure(400, "API_ERROR", "The multipart request has no boundary")
    delimiter = b"--" + match[1].encode()
    parts: dict[str, bytes] = {}
    for chunk in call.request.body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        name = _PART_NAME.search(head)
        if not sep or name is None:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        parts[name[1].decode()] = content
    return parts


# -- upload, close, abort, delete -----------------------------------------------


def _upload(call: RestCall, job: IngestJob) -> FakeResponse:
    settings = call.state.settings
    if job.uploaded:
        raise RestFailure(400, "BULK_API_ERROR", SECOND_UPLOAD.format(id=job.id))
    if job.state is not Bulk2JobState.OPEN:
        raise RestFailure(
            400,
            "INVALIDJOBSTATE",
            f"InvalidJobState : Data can only be uploaded to an Open job; job {job.id} is "
            f"{job.state.value}",
        )
    media = call.request.media_type
    if media != "text/csv":
        raise RestFailure(
            400,
            "UNSUPPORTEDCONTENTTYPE",
            f"UnsupportedContentType : Unsupported content type: {media or 'none'}",
        )
    if len(call.request.body) > settings.bulk2_max_upload_bytes:
        raise RestFailure(
            400,
            "CLIENTINPUTERROR",
            "ClientInputError : Failed to read request. Exceeded max size limit of "
            f"{settings.bulk2_max_upload_bytes}",
        )
    job.body = call.text()
    job.uploaded = True
    job.touch(call.state.now())
    return FakeResponse(201)


def _update(call: RestCall, job: IngestJob) -> FakeResponse:
    wanted = call.json_object(frozenset({"state"})).get("state")
    if wanted == Bulk2JobState.UPLOAD_COMPLETE.value:
        if job.state is not Bulk2JobState.OPEN:
            raise RestFailure(
                400,
                "INVALIDJOBSTATE",
                f"InvalidJobState : Only an Open job can be closed; job {job.id} is "
                f"{job.state.value}",
            )
        call.state.bulk2.complete_upload(job)
    elif wanted == Bulk2JobState.ABORTED.value:
        abort(call, job)
    else:
        raise invalid_value(wanted, "state")
    return call.json_reply(200, ingest_info(job, "short").to_wire_json())


# -- listing and results -------------------------------------------------------------


def _listed(call: RestCall) -> list[IngestJob]:
    own = lists_own_jobs(call, ("V2Ingest", "Classic", "BigObjectIngest"))
    return call.state.bulk2.ingest_jobs() if own else []


def _classic(call: RestCall) -> list[str]:
    """The org's Bulk 1.0 ingest jobs as an ingest listing shows them (``jobType``
    ``Classic``, their own states: ``Open``, ``Closed``, ``Aborted``, ``Failed``), unless
    the listing's ``jobType`` keeps another type only."""
    lists_own_jobs(call, ("V2Ingest", "Classic", "BigObjectIngest"))  # (refuses a bad filter)
    chunked = (call.param("isPkChunkingEnabled") or "").lower() == "true"
    if chunked or call.param("jobType") not in (None, "", "Classic"):
        return []
    documents = []
    for job in call.state.bulk1.all_jobs():
        if job.operation.is_query:
            continue
        info = IngestJobInfo(
            id=job.id, operation=job.operation, object=job.sobject, state=job.state.value
        )
        info.created_by_id, info.created_date = job.created_by, job.created
        info.system_modstamp = job.modstamp
        info.concurrency_mode = ConcurrencyMode(job.concurrency.value)
        info.content_type, info.api_version = job.content_type.value, float(job.api_version)
        info.job_type = JobType.CLASSIC
        documents.append(info.to_wire_json())
    return documents


def _results(call: RestCall, job: IngestJob, kind: ResultKind) -> FakeResponse:
    if not job.is_terminal:
        raise RestFailure(
            412,
            "JOB_NOT_COMPLETE",
            "can only download results of a finished bulk job with status: JOB_COMPLETE, "
            f"FAILED or ABORTED. Current status: {status_name(job.state)}",
        )
    body, rows = ingest_results(job, kind)
    no_content = call.state.settings.bulk2_empty_failed_results_status == 204
    if rows == 0 and kind == "failedResults" and no_content:
        return FakeResponse(204)
    return FakeResponse.text(200, body, "text/csv")


def _result_file(kind: ResultKind) -> JobResource[IngestJob]:
    return JobResource("GET", "ingest_results", lambda call, job: _results(call, job, kind))


#: What ``jobs/ingest[/...]`` answers (:func:`.rest.route_jobs` follows it).
ROUTES = JobRoutes[IngestJob](
    resource="ingest",
    since=41.0,  # Bulk 2.0 ingest came in 41.0
    create=_create,
    listed=_listed,
    find=lambda call, job_id: call.state.bulk2.ingest_job(job_id),
    info=ingest_info,
    update=_update,
    deletable=lambda job: job.state not in (Bulk2JobState.OPEN, Bulk2JobState.IN_PROGRESS),
    resources={
        "batches": JobResource("PUT", "ingest_upload", _upload),
        "successfulresults": _result_file("successfulResults"),
        "failedresults": _result_file("failedResults"),
        "unprocessedrecords": _result_file("unprocessedrecords"),
    },
    also_listed=_classic,
)
