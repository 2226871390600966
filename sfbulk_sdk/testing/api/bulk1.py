"""Bulk API 1.0 of the fake org (spec §2.2): jobs, batches, results, query results.

Route: ``/services/async/{version}/job...``. :class:`_Bulk` answers one request:
it checks the version and the ``X-SFDC-Session`` header, then creates, reads,
closes or aborts a job, uploads its field-mapping ``spec``, adds and lists
batches and serves their requests, results and query result files. The jobs and
batches themselves, and their processing, are the org's
:class:`~sfbulk_sdk.testing.engine.Bulk1Engine` (``state.bulk1``).

Errors are ``<error>`` documents, or their JSON twin for JSON requests.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import unquote

from pydantic import ValidationError

from ...models import BulkErrorInfo, JobInfo, QueryResultList
from ...models.enums import BatchState, ConcurrencyMode, ContentType, JobState, Operation
from ...models.xml import XmlError, parse_xml
from ..accounts import EXPIRED_PASSWORD
from ..formats import render_query_result, render_results
from ..http import JSON, XML, FakeRequest, FakeResponse
from ..ids import normalize_id
from ..jobs import ChunkingRequest, Job, batch_list_json, batch_list_xml
from ..state import OrgState

__all__ = [
    "BODY_ERROR_CODE",
    "PATTERN",
    "BulkError",
    "error",
    "error_body",
    "handle",
    "parse_chunking_header",
]

#: Bulk API 1.0 paths.
PATTERN = re.compile(r"^/services/async/(?P<version>[^/]+)(?:/(?P<rest>.*))?$")
#: The exceptionCode answering a request body that cannot be read.
BODY_ERROR_CODE = "ClientInputError"
_VERSION = re.compile(r"^\d{1,3}\.\d$")
_BATCH_MEDIA = {
    "text/csv": ContentType.CSV,
    "application/xml": ContentType.XML,
    "text/xml": ContentType.XML,
    "application/json": ContentType.JSON,
    "zip/csv": ContentType.ZIP_CSV,
    "zip/xml": ContentType.ZIP_XML,
    "zip/json": ContentType.ZIP_JSON,
}
_CREATE_FIELDS = {
    "operation",
    "object",
    "externalIdFieldName",
    "concurrencyMode",
    "contentType",
    "assignmentRuleId",
}
_JOB_MAX_AGE = timedelta(hours=24)


class BulkError(Exception):
    """A request-level Bulk 1.0 error: HTTP status plus ``exceptionCode`` / message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def error_body(code: str, message: str, *, as_json: bool) -> str:
    """The ``<error>`` document (or its JSON twin) for a failed request."""
    info = BulkErrorInfo(exception_code=code, exception_message=message)
    if as_json:
        return json.dumps(
            {"exceptionCode": code, "exceptionMessage": message}, separators=(",", ":")
        )
    return info.to_xml()


MAX_CHUNK_SIZE = 250_000


def parse_chunking_header(header: str | None) -> ChunkingRequest | None:
    """Parse ``TRUE``, ``FALSE`` or ``chunkSize=N; startRow=Id; parent=Obj``."""
    if header is None:
        return None
    text = header.strip()
    if not text or text.lower() == "false":
        return None
    if text.lower() == "true":
        return ChunkingRequest()
    settings: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise BulkError("InvalidJob", f"Invalid Sforce-Enable-PKChunking value: {text}")
        settings[key.strip().lower()] = value.strip()
    unknown = set(settings) - {"chunksize", "startrow", "parent"}
    if unknown:
        raise BulkError("InvalidJob", f"Invalid Sforce-Enable-PKChunking value: {text}")
    size = ChunkingRequest.chunk_size
    if "chunksize" in settings:
        raw = settings["chunksize"]
        if not raw.isdigit() or not 0 < int(raw) <= MAX_CHUNK_SIZE:
            raise BulkError(
                "InvalidJob",
                f"Invalid chunkSize {raw}: it must be a whole number from 1 to {MAX_CHUNK_SIZE}",
            )
        size = int(raw)
    return ChunkingRequest(size, settings.get("startrow") or None, settings.get("parent") or None)


def _error_response(request: FakeRequest, error: BulkError, job: Job | None) -> FakeResponse:
    as_json = request.media_type == JSON and (job is None or job.content_type.is_json)
    body = error_body(error.code, error.message, as_json=as_json)
    return FakeResponse.text(error.status, body, JSON if as_json else XML)


def error(request: FakeRequest, status: int, code: str, message: str) -> FakeResponse:
    """An ``<error>`` document (JSON for JSON requests) with HTTP ``status``."""
    return _error_response(request, BulkError(code, message, status), None)


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer one Bulk 1.0 request (the caller holds the org's lock)."""
    return _Bulk(state, request, match["version"], match["rest"] or "").run()


class _Bulk:
    """One Bulk API 1.0 request."""

    def __init__(self, state: OrgState, request: FakeRequest, version: str, rest: str) -> None:
        self.state = state
        self.request = request
        self.version = version
        self.parts = [unquote(p) for p in rest.split("/") if p]
        self.job: Job | None = None
        self.kind = "bulk_other"

    def run(self) -> FakeResponse:
        try:
            response = self._run()
        except BulkError as error:
            response = _error_response(self.request, error, self.job)
        self.state.requests[self.kind] += 1
        return response

    # -- helpers -----------------------------------------------------------

    def _reply_json(self) -> bool:
        """Status documents are JSON only for JSON jobs asked for JSON (spec §2.1)."""
        job = self.job
        return self.request.media_type == JSON and job is not None and job.content_type.is_json

    def _text(self) -> str:
        charset = "utf-8"
        match = re.search(r"charset=([\w-]+)", self.request.header("content-type") or "", re.I)
        if match:
            charset = match[1]
        try:
            return self.request.body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise BulkError("ClientInputError", f"Failed to read request as {charset}") from None

    def _method(self, *allowed: str) -> None:
        if self.request.method.upper() not in allowed:
            raise BulkError(
                "InvalidUrl",
                f"HTTP method '{self.request.method}' is not allowed on this URI",
                405,
            )

    def _load_job(self, job_id: str) -> Job:
        job = self.state.bulk1.get_job(job_id)
        if job is None:
            raise BulkError("InvalidJob", f"Invalid job id: {job_id}")
        self.job = job
        return job

    def _job_reply(
        self, job: Job, status: int = 200, *, as_json: bool | None = None
    ) -> FakeResponse:
        if as_json is None:
            as_json = self._reply_json()
        if as_json:
            return FakeResponse.text(status, job.info_json(), JSON)
        return FakeResponse.text(status, job.info().to_xml(), XML)

    # -- routing -----------------------------------------------------------

    def _run(self) -> FakeResponse:
        state = self.state
        settings = state.settings
        if not _VERSION.match(self.version):
            raise BulkError("InvalidVersion", f"Invalid API version: {self.version}")
        version = float(self.version)
        if version > settings.latest_api_version:
            raise BulkError("InvalidVersion", f"Unsupported API version: {self.version}")
        if version < settings.oldest_api_version:
            # Bulk 1.0 answers a retired version 400 InvalidVersion (REST keeps 410; spec §9).
            raise BulkError("InvalidVersion", f"API version {self.version} has been retired")
        user = state.accounts.authenticate(self.request.header("x-sfdc-session"))
        if user is None:
            raise BulkError("InvalidSessionId", "Invalid session id")
        if user.password_expired:  # the session only allows setPassword() (spec §1.2)
            raise BulkError("InvalidSessionId", EXPIRED_PASSWORD)
        parts = self.parts
        if not parts:
            raise BulkError("InvalidUrl", "Invalid URL: no operation given")
        if parts[0] != "job":
            raise BulkError("InvalidOperation", f"Unknown operation: {parts[0]}")
        n = len(parts)
        if n == 1:
            self._method("POST")
            self.kind = "job_create"
            return self._create_job(user.user_id)
        job = self._load_job(parts[1])
        if n == 2:
            self._method("GET", "POST")
            if self.request.method.upper() == "GET":
                self.kind = "job_get"
                return self._job_reply(job)
            self.kind = "job_update"
            return self._update_job(job, user.user_id)
        if parts[2] == "spec" and n == 3:
            self._method("POST")
            self.kind = "job_spec"
            return self._field_mapping(job)
        if parts[2] != "batch":
            raise BulkError("InvalidUrl", f"Invalid URL: {self.request.path}")
        if float(job.api_version) != version:  # spec §2.1: batch calls use the job's version
            raise BulkError(
                "InvalidVersion",
                f"The API version of this request ({self.version}) does not match the "
                f"API version of job {job.id} ({job.api_version})",
            )
        if n == 3:
            self._method("GET", "POST")
            if self.request.method.upper() == "POST":
                self.kind = "batch_create"
                return self._add_batch(job)
            self.kind = "batch_list"
            if self._reply_json():
                return FakeResponse.text(200, batch_list_json(job.batches), JSON)
            return FakeResponse.text(200, batch_list_xml(job.batches), XML)
        self._method("GET")
        batch = state.bulk1.get_batch(job, parts[3])
        if batch is None:
            raise BulkError("InvalidBatch", f"Invalid batch id: {parts[3]}")
        if n == 4:
            self.kind = "batch_get"
            if self._reply_json():
                return FakeResponse.text(200, batch.info_json(), JSON)
            return FakeResponse.text(200, batch.info().to_xml(), XML)
        if n == 5 and parts[4] == "request":
            self.kind = "batch_request"
            return FakeResponse.text(200, batch.body, job.content_type.media_type)
        if parts[4] != "result" or n > 6:
            raise BulkError("InvalidUrl", f"Invalid URL: {self.request.path}")
        finished = batch.state is BatchState.COMPLETED or (
            batch.state is BatchState.FAILED and batch.outcomes
        )
        if not finished:
            raise BulkError("InvalidBatch", "Records not processed")
        if n == 5:
            self.kind = "batch_result"
            if job.is_query:
                ids = list(batch.result_files)
                if self._reply_json():
                    return FakeResponse.text(200, json.dumps(ids), JSON)
                return FakeResponse.text(200, QueryResultList(result=ids).to_xml(), XML)
            assert batch.outcomes is not None
            body = render_results(batch.outcomes, job.content_type)
            return FakeResponse.text(200, body, job.content_type.media_type)
        self.kind = "query_result"
        wanted = normalize_id(parts[5])
        for result_id, rows in batch.result_files.items():
            if normalize_id(result_id) == wanted and batch.shape is not None:
                body = render_query_result(batch.shape, rows, job.content_type)
                return FakeResponse.text(200, body, job.content_type.media_type)
        raise BulkError("InvalidBatch", f"Invalid result id: {parts[5]}")

    # -- jobs --------------------------------------------------------------

    def _parse_job_document(self) -> tuple[JobInfo, set[str]]:
        """Parse a jobInfo body (XML or JSON by Content-Type); also its wire field names."""
        media = self.request.media_type
        text = self._text()
        try:
            if media == JSON:
                raw = json.loads(text)
                if not isinstance(raw, dict):
                    raise BulkError("InvalidJob", "The job document must be a JSON object")
                info = JobInfo.model_validate(raw)
                names = set(raw)
            else:
                # Validated here, not by JobInfo.from_xml (a reply parser, which raises
                # the SDK's MalformedReplyError): a bad value is InvalidJob, not InvalidXml.
                content = parse_xml(text, JobInfo.xml_root)
                info = JobInfo.model_validate(content if isinstance(content, dict) else {})
                names = {(JobInfo.model_fields[n].alias or n) for n in info.model_fields_set} | set(
                    info.model_extra or {}
                )
        except XmlError as exc:
            raise BulkError("InvalidXml", f"Failed to parse the jobInfo document: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BulkError(
                "InvalidJob", f"Failed to parse the JSON job document: {exc.msg}"
            ) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "jobInfo"
            raise BulkError(
                "InvalidJob", f"Invalid value '{first.get('input')}' for {where}"
            ) from None
        return info, names

    def _create_job(self, user_id: str) -> FakeResponse:
        state = self.state
        media = self.request.media_type
        if media not in ("", XML, "text/xml", JSON):
            raise BulkError(
                "UnsupportedContentType",
                f"Unsupported content type: {self.request.header('content-type')}",
            )
        info, names = self._parse_job_document()
        _refuse_fields(names - _CREATE_FIELDS)
        if info.operation is None:
            raise BulkError("InvalidJob", "A job must specify an operation")
        if not info.sobject:
            raise BulkError("InvalidJob", "A job must specify an object")
        table = state.db.table(info.sobject)
        if table is None:
            raise BulkError("InvalidJob", f"Unable to find object: {info.sobject}")
        sobject = table.name
        content_type = info.content_type or ContentType.XML
        if content_type in (ContentType.ZIP_CSV, ContentType.ZIP_XML, ContentType.ZIP_JSON):
            raise BulkError(
                "InvalidJob", f"contentType {content_type.value} is not supported by the fake org"
            )
        external = info.external_id_field_name
        if info.operation is Operation.UPSERT:
            try:
                external = table.spec.upsert_key(external)
            except ValueError as exc:
                raise BulkError("InvalidJob", str(exc)) from None
        elif external:
            raise BulkError("InvalidJob", "An External ID can only be specified for upsert")
        pk = None
        if info.operation.is_query:
            pk = parse_chunking_header(self.request.header("sforce-enable-pkchunking"))
        now = state.now()
        job = state.bulk1.new_job(
            Job(
                id=state.bulk1.next_id("750"),
                operation=info.operation,
                sobject=sobject,
                created_by=user_id,
                created=now,
                content_type=content_type,
                api_version=self.version,
                concurrency=info.concurrency_mode or ConcurrencyMode.PARALLEL,
                external_id_field=external,
                assignment_rule_id=info.assignment_rule_id,
                pk_chunking=pk,
            )
        )
        self.job = job
        # The reply follows the request body's format, whatever the job's contentType.
        response = self._job_reply(job, 201, as_json=media == JSON)
        response.headers.append(("Location", f"/services/async/{self.version}/job/{job.id}"))
        return response

    def _update_job(self, job: Job, user_id: str) -> FakeResponse:
        info, names = self._parse_job_document()
        _refuse_fields(names - {"state"})
        wanted = info.state
        if wanted not in (JobState.CLOSED, JobState.ABORTED):
            raise BulkError(
                "InvalidJobState",
                f"Invalid state for a job update: {wanted.value if wanted else 'none given'}",
            )
        if wanted is not job.state:
            if job.state in (JobState.ABORTED, JobState.FAILED):
                raise BulkError(
                    "InvalidJobState", f"Job {job.id} is {job.state.value} and cannot change state"
                )
            if wanted is JobState.CLOSED:
                if job.created_by != user_id:
                    raise BulkError("InvalidUser", "Only the user who created a job can close it")
                job.state = JobState.CLOSED
                job.modstamp = self.state.now()
            else:
                self.state.bulk1.abort_job(job)
        return self._job_reply(job)

    def _field_mapping(self, job: Job) -> FakeResponse:
        text = self._text()
        if len(text) >= 8192:
            raise BulkError("InvalidJob", "The field mapping spec must be under 8,192 characters")
        mapping: dict[str, str] = {}
        constants: dict[str, str] = {}
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [c.strip().lower() for c in rows[0][:2]] != [
            "salesforce field",
            "csv header",
        ]:
            raise BulkError(
                "InvalidJob", "The field mapping spec needs the header Salesforce Field,Csv Header"
            )
        for row in rows[1:]:
            if not row:
                continue
            target = row[0].strip()
            header = row[1].strip() if len(row) > 1 else ""
            value = row[2] if len(row) > 2 else ""
            if header:
                mapping[header] = target
            elif value:
                constants[target] = value
        job.field_mapping = mapping
        job.field_constants = constants
        return FakeResponse(201, b"", [("Content-Type", XML)])

    # -- batches -----------------------------------------------------------

    def _add_batch(self, job: Job) -> FakeResponse:
        state = self.state
        settings = state.settings
        raw_type = self.request.header("content-type") or ""
        media = self.request.media_type
        if job.state is not JobState.OPEN:
            # not created, but counted against the daily batch allocation all the same (§9)
            state.bulk1.charge_batch()
            raise BulkError(
                "InvalidJobState",
                f"Batches can only be added to an Open job; job {job.id} is {job.state.value}",
            )
        if state.now() - job.created > _JOB_MAX_AGE:
            raise BulkError(
                "InvalidJobState", "No batch can be added to a job that is more than 24 hours old"
            )
        batch_type = _BATCH_MEDIA.get(media)
        if batch_type is None:
            raise BulkError("UnsupportedContentType", f"Unsupported content type: {raw_type}")
        if batch_type.media_type != job.content_type.media_type:
            raise BulkError(
                "InvalidBatch",
                f"The batch Content-Type {media} does not match the job's contentType "
                f"{job.content_type.value}",
            )
        if len(self.request.body) > settings.max_batch_bytes:
            raise BulkError(
                "ClientInputError",
                f"Failed to read request. Exceeded max size limit of {settings.max_batch_bytes}",
            )
        text = self._text()
        if len(text) > settings.max_batch_chars:
            raise BulkError(
                "ClientInputError",
                f"Failed to read request. Exceeded max size limit of {settings.max_batch_chars}",
            )
        if not text.strip():
            raise BulkError("InvalidBatch", "The batch has no content")
        if not state.bulk1.batch_allowance_left():
            raise BulkError(
                "ExceededQuota",
                f"The org exceeded its allocation of {settings.max_batches_per_day} batches "
                "in a rolling 24-hour period",
            )
        if job.field_mapping or job.field_constants:
            text = _apply_mapping(text, job.field_mapping, job.field_constants)
        batch = state.bulk1.add_batch(job, text)
        if self._reply_json():
            response = FakeResponse.text(201, batch.info_json(), JSON)
        else:
            response = FakeResponse.text(201, batch.info().to_xml(), XML)
        response.headers.append(
            ("Location", f"/services/async/{self.version}/job/{job.id}/batch/{batch.id}")
        )
        return response


def _refuse_fields(names: set[str]) -> None:
    """A jobInfo body may only carry the fields the call allows (``CreatedById cannot...``)."""
    if names:
        name = sorted(names)[0]
        raise BulkError("InvalidJob", f"{name[0].upper()}{name[1:]} cannot be specified")


def _apply_mapping(text: str, mapping: dict[str, str], constants: dict[str, str]) -> str:
    """Rewrite a CSV batch through a field mapping spec (renamed headers, constant columns)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    header = [mapping.get(h, h) for h in rows[0]] + list(constants)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    extra = list(constants.values())
    for row in rows[1:]:
        if row:
            writer.writerow(row + extra)
    return out.getvalue()
