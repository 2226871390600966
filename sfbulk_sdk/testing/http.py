"""The fake org's HTTP surface, independent of any server: :func:`dispatch`.

Every transport (the httpx transport, the ASGI app, the uvicorn server) turns
its request into a :class:`FakeRequest` and sends the :class:`FakeResponse`
back. Routes:

* ``POST {any prefix}/services/Soap/u/{version}[/{orgId}]``: SOAP ``login``,
  ``logout``, ``getUserInfo``;
* ``/services/async/{version}/job...``: Bulk API 1.0 (spec §2.2);
* ``/_fake/...``: JSON controls for out-of-process tests (stats, sessions,
  records, faults, clock).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from pydantic import ValidationError

from ..models import JobInfo, QueryResultList
from ..models.enums import BatchState, ConcurrencyMode, ContentType, JobState, Operation
from ..models.xml import XmlError
from .bulk import BulkError, Job, batch_list_json, batch_list_xml, error_body, parse_pk_chunking
from .clock import ManualClock
from .faults import Fault
from .formats import render_query_result, render_results
from .ids import normalize_id
from .soap import (
    EXPIRED_PASSWORD,
    INVALID_LOGIN,
    SoapFault,
    parse_soap_call,
    render_fault,
    render_login_response,
    render_logout_response,
    render_user_info_response,
)

if TYPE_CHECKING:
    from .org import FakeOrg

__all__ = ["FakeRequest", "FakeResponse", "dispatch"]

XML = "application/xml"
JSON = "application/json"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"

_SOAP = re.compile(r"^(?:/.*)?/services/Soap/u/(?P<version>[^/]+)(?:/(?P<org>[^/]*))?/?$")
_BULK = re.compile(r"^/services/async/(?P<version>[^/]+)(?:/(?P<rest>.*))?$")
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
_GZIP_MIN = 1024


@dataclass
class FakeRequest:
    """One HTTP request as the fake org sees it (header names in lower case)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = ""
    query: str = ""

    def __post_init__(self) -> None:
        self.headers = {name.lower(): value for name, value in self.headers.items()}

    def __repr__(self) -> str:  # never show headers: they carry the session id
        return f"FakeRequest({self.method} {self.path}, {len(self.body)} bytes)"

    def header(self, name: str) -> str | None:
        """A header value (name matched case-insensitively)."""
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The request's Content-Type without parameters, lower case ("" if none)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


@dataclass
class FakeResponse:
    """The answer: status, headers and body, or an instruction to drop the connection."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop_connection: bool = False

    @property
    def content_type(self) -> str | None:
        """The Content-Type header."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None

    @classmethod
    def text(cls, status: int, body: str | bytes, content_type: str) -> FakeResponse:
        """A response with a body and an exact Content-Type."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status, data, [("Content-Type", content_type)])

    @classmethod
    def json(cls, status: int, data: Any) -> FakeResponse:
        """A JSON response (the controls and generic errors)."""
        return cls.text(status, json.dumps(data), JSON)


def dispatch(org: FakeOrg, request: FakeRequest) -> FakeResponse:
    """Answer one request."""
    path = request.path
    if path == "/_fake" or path.startswith("/_fake/"):
        with org.lock:
            org.requests["control"] += 1
            return _control(org, request, path[len("/_fake") :].strip("/"))
    with org.lock:
        org.tick()
        fault = org.faults.take(request.method, path)
        if fault is not None:
            org.requests["fault"] += 1
            response = _fault_response(request, fault)
        else:
            response = _route(org, request)
    return _maybe_gzip(org, request, response)


def _decode_body(request: FakeRequest) -> tuple[int, str] | None:
    """Undo ``Content-Encoding: gzip`` in place; (status, message) when that is impossible."""
    encoding = (request.header("content-encoding") or "").strip().lower()
    if not encoding or encoding == "identity":
        return None
    if encoding != "gzip":
        return 415, f"Unsupported Content-Encoding: {encoding}"
    try:
        request.body = gzip.decompress(request.body)
    except (OSError, EOFError, zlib.error):
        return 400, "Failed to read gzip request body"
    return None


def _route(org: FakeOrg, request: FakeRequest) -> FakeResponse:
    bulk = _BULK.match(request.path)
    soap = None if bulk else _SOAP.match(request.path)
    problem = _decode_body(request)
    if problem is not None:
        status, message = problem
        org.requests["other"] += 1
        if soap:  # the SOAP API answers in its own envelope
            fault = SoapFault("UNKNOWN_EXCEPTION", message, detail="UnexpectedErrorFault")
            return FakeResponse(status, render_fault(fault), [("Content-Type", SOAP_CONTENT_TYPE)])
        return _bulk_error_response(request, BulkError("ClientInputError", message, status), None)
    if bulk:
        return _Bulk(org, request, bulk["version"], bulk["rest"] or "").run()
    if soap:
        org.requests["soap"] += 1
        return _soap(org, request, soap["version"])
    org.requests["other"] += 1
    return FakeResponse.json(
        404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
    )


def _maybe_gzip(org: FakeOrg, request: FakeRequest, response: FakeResponse) -> FakeResponse:
    accept = (request.header("accept-encoding") or "").lower()
    if (
        org.gzip_responses
        and not response.drop_connection
        and len(response.body) >= _GZIP_MIN
        and "gzip" in accept
    ):
        response.body = gzip.compress(response.body, compresslevel=1)
        response.headers.append(("Content-Encoding", "gzip"))
    return response


def _fault_response(request: FakeRequest, fault: Fault) -> FakeResponse:
    if fault.drop_connection:
        return FakeResponse(fault.status, drop_connection=True)
    if _BULK.match(request.path):
        return _bulk_error_response(
            request, BulkError(fault.exception_code, fault.message, fault.status), None
        )
    if _SOAP.match(request.path):
        body = render_fault(
            SoapFault(fault.exception_code, fault.message, detail="UnexpectedErrorFault")
        )
        return FakeResponse(fault.status, body, [("Content-Type", SOAP_CONTENT_TYPE)])
    return FakeResponse.json(
        fault.status, [{"errorCode": fault.exception_code, "message": fault.message}]
    )


# ---------------------------------------------------------------------------
# SOAP


def _soap_fault(fault: SoapFault) -> FakeResponse:
    return FakeResponse(500, render_fault(fault), [("Content-Type", SOAP_CONTENT_TYPE)])


def _soap(org: FakeOrg, request: FakeRequest, version_text: str) -> FakeResponse:
    try:
        if not _VERSION.match(version_text):
            raise SoapFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
        version = float(version_text)
        call = parse_soap_call(request.body)
        if call.operation == "login":
            return _login(org, request, version_text, version, call.username, call.password)
        user = org.authenticate(call.session_id)
        if user is None:
            raise SoapFault(
                "INVALID_SESSION_ID",
                "Invalid Session ID found in SessionHeader: Illegal Session",
                detail="UnexpectedErrorFault",
            )
        if call.operation == "logout":
            org.end_session(call.session_id)
            body = render_logout_response()
        elif user.password_expired:
            raise SoapFault(
                "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
                EXPIRED_PASSWORD,
                detail="UnexpectedErrorFault",
            )
        elif call.operation == "getUserInfo":
            body = render_user_info_response(org.user_info(user), version)
        else:
            raise SoapFault(
                "INVALID_OPERATION",
                f"The fake org does not implement {call.operation}()",
                detail="UnexpectedErrorFault",
            )
        return FakeResponse(200, body, [("Content-Type", SOAP_CONTENT_TYPE)])
    except SoapFault as fault:
        return _soap_fault(fault)


def _login(
    org: FakeOrg,
    request: FakeRequest,
    version_text: str,
    version: float,
    username: str,
    password: str,
) -> FakeResponse:
    if not org.oldest_api_version <= version <= org.latest_api_version:
        org.failed_logins += 1
        raise SoapFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
    if version >= 65.0:
        org.failed_logins += 1
        raise SoapFault(
            "INVALID_OPERATION",
            f"The SOAP Login operation is not available in the API version specified "
            f"({version_text}). Refer to the documentation for supported versions.",
        )
    if not org.soap_login_enabled:
        org.failed_logins += 1
        raise SoapFault(
            "INVALID_OPERATION",
            "SOAP API login() is disabled by default in this org. Contact the org "
            "administrator to enable SOAP API login().",
        )
    user = next((u for u in org.users if u.username.lower() == username.lower()), None)
    if user is None or password not in (user.password + user.security_token, user.password):
        org.failed_logins += 1
        raise SoapFault("INVALID_LOGIN", INVALID_LOGIN)
    if user.security_token and password == user.password:
        org.failed_logins += 1
        raise SoapFault(
            "LOGIN_MUST_USE_SECURITY_TOKEN",
            "Invalid username, password, security token; or user locked out. Are you at a new "
            "location? Outside a trusted network, append the user's security token to the "
            "password.",
        )
    if not org.check_login_rate(user):
        org.failed_logins += 1
        raise SoapFault("LOGIN_RATE_EXCEEDED", "Login rate exceeded.")
    session_id = org.new_session(user)
    org.logins += 1
    base = (request.base_url or org.instance_url).rstrip("/")
    org_id15 = org.org_id[:15]
    body = render_login_response(
        metadata_server_url=f"{base}/services/Soap/m/{version_text}/{org_id15}",
        server_url=f"{base}/services/Soap/u/{version_text}/{org_id15}",
        session_id=session_id,
        user_id=user.user_id,
        user_info=org.user_info(user),
        api_version=version,
        password_expired=user.password_expired,
        sandbox=org.sandbox,
    )
    return FakeResponse(200, body, [("Content-Type", SOAP_CONTENT_TYPE)])


# ---------------------------------------------------------------------------
# Bulk API 1.0


def _bulk_error_response(request: FakeRequest, error: BulkError, job: Job | None) -> FakeResponse:
    as_json = request.media_type == JSON and (job is None or job.content_type.is_json)
    body = error_body(error.code, error.message, as_json=as_json)
    return FakeResponse.text(error.status, body, JSON if as_json else XML)


class _Bulk:
    """One Bulk API 1.0 request."""

    def __init__(self, org: FakeOrg, request: FakeRequest, version: str, rest: str) -> None:
        self.org = org
        self.request = request
        self.version = version
        self.parts = [unquote(p) for p in rest.split("/") if p]
        self.job: Job | None = None
        self.kind = "bulk_other"

    def run(self) -> FakeResponse:
        try:
            response = self._run()
        except BulkError as error:
            response = _bulk_error_response(self.request, error, self.job)
        self.org.requests[self.kind] += 1
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
        job = self.org.get_job(job_id)
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
        org = self.org
        if not _VERSION.match(self.version):
            raise BulkError("InvalidVersion", f"Invalid API version: {self.version}")
        version = float(self.version)
        if version > org.latest_api_version:
            raise BulkError("InvalidVersion", f"Unsupported API version: {self.version}")
        if version < org.oldest_api_version:
            raise BulkError("Gone", f"API version {self.version} has been retired", 410)
        user = org.authenticate(self.request.header("x-sfdc-session"))
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
        batch = org.get_batch(job, parts[3])
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
                info = JobInfo.from_xml(text)
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
        org = self.org
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
        table = org.db.table(info.sobject)
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
            if not external:
                raise BulkError(
                    "InvalidJob",
                    f"External ID was blank for {sobject}. An External ID must be specified "
                    "for upsert.",
                )
            spec = table.spec.field(external)
            if spec is None or not (spec.external_id or spec.name == "Id"):
                raise BulkError(
                    "InvalidJob",
                    f"Field name provided, {external} does not match an External ID for {sobject}",
                )
            external = spec.name
        elif external:
            raise BulkError("InvalidJob", "An External ID can only be specified for upsert")
        pk = None
        if info.operation.is_query:
            pk = parse_pk_chunking(self.request.header("sforce-enable-pkchunking"))
        now = org.now()
        job = org.new_job(
            Job(
                id=org.next_id("750"),
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
                modstamp=now,
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
                job.modstamp = self.org.now()
            else:
                self.org.abort_job(job)
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
        org = self.org
        raw_type = self.request.header("content-type") or ""
        media = self.request.media_type
        if job.state is not JobState.OPEN:
            raise BulkError(
                "InvalidJobState",
                f"Batches can only be added to an Open job; job {job.id} is {job.state.value}",
            )
        if org.now() - job.created > _JOB_MAX_AGE:
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
        if len(self.request.body) > org.max_batch_bytes:
            raise BulkError(
                "ClientInputError",
                f"Failed to read request. Exceeded max size limit of {org.max_batch_bytes}",
            )
        text = self._text()
        if len(text) > org.max_batch_chars:
            raise BulkError(
                "ClientInputError",
                f"Failed to read request. Exceeded max size limit of {org.max_batch_chars}",
            )
        if not text.strip():
            raise BulkError("InvalidBatch", "The batch has no content")
        if not org.batch_allowance_left():
            raise BulkError(
                "ExceededQuota",
                f"The org exceeded its allocation of {org.max_batches_per_day} batches "
                "in a rolling 24-hour period",
            )
        if job.field_mapping or job.field_constants:
            text = _apply_mapping(text, job.field_mapping, job.field_constants)
        batch = org.add_batch(job, text)
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


# ---------------------------------------------------------------------------
# Controls (/_fake/...)


def _control(org: FakeOrg, request: FakeRequest, rest: str) -> FakeResponse:
    method = request.method.upper()
    parts = [unquote(p) for p in rest.split("/") if p]
    query = parse_qs(request.query)
    try:
        body: Any = json.loads(request.body) if request.body.strip() else {}
    except ValueError:
        return FakeResponse.json(400, {"error": "the body must be JSON"})
    try:
        if parts == ["stats"] and method == "GET":
            return FakeResponse.json(200, org.stats())
        if parts == ["expire-sessions"] and method == "POST":
            return FakeResponse.json(200, {"expired": org.expire_sessions()})
        if parts == ["sessions"] and method == "POST":
            username = body.get("username") if isinstance(body, dict) else None
            session_id = org.issue_session(username)
            return FakeResponse.json(
                201,
                {
                    "session_id": session_id,
                    "instance_url": (request.base_url or org.instance_url).rstrip("/"),
                },
            )
        if len(parts) == 2 and parts[0] == "records":
            if method == "GET":
                deleted = query.get("include_deleted", ["false"])[0].lower() == "true"
                return FakeResponse.json(200, org.records_json(parts[1], include_deleted=deleted))
            if method == "POST":
                if not isinstance(body, list):
                    return FakeResponse.json(400, {"error": "POST a JSON array of records"})
                return FakeResponse.json(201, {"ids": org.insert(parts[1], body)})
        if parts == ["faults"]:
            if method == "GET":
                return FakeResponse.json(200, [f.to_dict() for f in org.faults.active()])
            if method == "POST":
                if not isinstance(body, dict):
                    return FakeResponse.json(400, {"error": "POST a JSON object"})
                fault = org.faults.add(Fault.from_dict(body))
                return FakeResponse.json(201, fault.to_dict())
            if method == "DELETE":
                return FakeResponse.json(200, {"cleared": org.clear_faults()})
        if parts == ["record-errors"] and method == "POST" and isinstance(body, dict):
            org.inject_record_errors(
                str(body["sobject"]),
                count=int(body.get("count", 1)),
                status_code=str(body.get("status_code", "UNABLE_TO_LOCK_ROW")),
                message=str(
                    body.get("message", "unable to obtain exclusive access to this record")
                ),
                fields=[str(f) for f in body.get("fields", [])],
            )
            return FakeResponse.json(201, {"pending": org.db.injector.pending()})
        if parts == ["clock", "advance"] and method == "POST" and isinstance(body, dict):
            if not isinstance(org.clock, ManualClock):
                return FakeResponse.json(409, {"error": "the org runs on the system clock"})
            org.advance(float(body.get("seconds", 0)))
            return FakeResponse.json(200, {"now": org.now().isoformat()})
        if parts == ["jobs"] and method == "GET":
            return FakeResponse.json(200, [json.loads(j.to_wire_json()) for j in org.jobs()])
    except KeyError as exc:
        return FakeResponse.json(404, {"error": str(exc.args[0]) if exc.args else "not found"})
    except ValueError as exc:
        return FakeResponse.json(400, {"error": str(exc)})
    return FakeResponse.json(404, {"error": f"no control {method} /_fake/{rest}"})
