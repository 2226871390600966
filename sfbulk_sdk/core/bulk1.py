"""Bulk API 1.0 (``/services/async/{version}/``): requests and responses, sans-IO.

Each builder returns a :class:`Call`: a request description that is not yet
bound to a session. A client binds it with :meth:`Call.build` for the session
it holds *at that moment*, so a request retried after a session refresh goes
out with the new session id. Parsers take an :class:`httpx.Response` and
return a model or raise an error from :mod:`sfbulk_sdk.errors`.

Rules encoded here (see the Bulk API Developer Guide):

* ``X-SFDC-Session`` carries the session id on every request.
* The reply format follows the request's ``Content-Type``: status replies are
  JSON only when the request says JSON (and the job is a JSON job), so every
  call sends the job's media type, GETs included. Parsers read the reply's own
  ``Content-Type`` rather than assume.
* Create job and add batch answer 201; everything else 200; every client error
  (an expired session included) answers 400 with an ``<error>`` body.
* Close and abort send a body holding *only* ``state``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypedDict, TypeVar

import httpx

from ..errors import (
    APIError,
    InvalidInputError,
    InvalidSessionError,
    MalformedReplyError,
    ProtocolError,
    SfBulkError,
    error_class_for_code,
)
from ..models.base import load_json
from ..models.enums import ConcurrencyMode, ContentType, JobState, Operation
from ..models.jobs import BatchInfo, BatchInfoList, BulkErrorInfo, JobInfo
from ..models.results import BatchResult, QueryResultList
from ..models.session import Session
from ..models.xml import render_document
from .batch_input import CheckedCsv, check_batch_data
from .csvsplit import MAX_BATCH_BYTES, MAX_BATCH_CHARS, MAX_BATCH_RECORDS
from .reconcile_specs import BatchUpload, JobCreate, ReconcileSpec

__all__ = [
    "DEFAULT_API_VERSION",
    "LATEST_API_VERSION",
    "Call",
    "JobOptions",
    "JobSettings",
    "PkChunking",
    "abort_job",
    "add_batch",
    "check_external_id",
    "close_job",
    "create_job",
    "get_batch",
    "get_batch_request",
    "get_batch_results",
    "get_batch_results_body",
    "get_job",
    "get_query_result_ids",
    "is_invalid_session",
    "list_batches",
    "parse_error",
    "query_result",
    "raise_for_status",
    "validate_api_version",
]

#: The API version of a client that logs in with SOAP ``login()`` (or not at all
#: yet, as the seed's ``Bulk()`` then ``login()``): the last one with ``login()``.
DEFAULT_API_VERSION = "64.0"
#: The newest API version the SDK speaks: the default with OAuth and static sessions.
LATEST_API_VERSION = "66.0"

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Salesforce's Bulk 1.0 batch limits.
BATCH_MAX_BYTES = MAX_BATCH_BYTES
BATCH_MAX_RECORDS = MAX_BATCH_RECORDS
BATCH_MAX_CHARS = MAX_BATCH_CHARS

_XML_MEDIA = "application/xml"
_JSON_MEDIA = "application/json"
_CSV_MEDIA = "text/csv"


_API_VERSION = re.compile(r"v?(\d{2,3})(?:\.0)?")


def validate_api_version(version: str) -> str:
    """Return ``version`` normalised to ``NN.0`` or raise :class:`InvalidInputError`.

    Salesforce API versions are whole numbers (``64.0``); ``v64`` and ``64``
    are accepted too. Anything ``float()`` would also take (``nan``, ``1e2``,
    ``64.05``) is refused rather than rewritten into another URL.
    """
    text = str(version).strip()
    match = _API_VERSION.fullmatch(text)
    if match is None:
        raise InvalidInputError(f"API version must look like '64.0', got {version!r}")
    text = f"{int(match.group(1))}.0"
    if float(text) < 31.0:
        raise InvalidInputError(f"API version {text} is retired by Salesforce (31.0 is the oldest)")
    return text


@dataclass(frozen=True)
class Call(Generic[T_co]):
    """One Bulk API 1.0 request, not yet bound to a session."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T_co]
    media_type: str = _XML_MEDIA
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = True
    #: What the request leaves behind, to reconcile a lost reply (see :mod:`.reconcile`).
    reconcile: ReconcileSpec | None = field(default=None, repr=False)

    def build(self, session: Session, api_version: str) -> httpx.Request:
        """The :class:`httpx.Request` for ``session`` (read per request, never cached)."""
        headers = {
            "X-SFDC-Session": session.session_id.get_secret_value(),
            "Content-Type": f"{self.media_type}; charset=UTF-8"
            if not self.media_type.startswith("zip/")
            else self.media_type,
            "Accept-Encoding": "gzip",
            **self.headers,
        }
        url = f"{session.bulk_url(api_version)}/{self.path}"
        return httpx.Request(self.method, url, headers=headers, content=self.body)


# --------------------------------------------------------------------------- errors


def _media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def _content(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:  # a streamed reply not read: nothing to parse
        return b""


def _reply_format(response: httpx.Response) -> str | None:
    """``"json"``, ``"xml"`` or ``"csv"`` by the reply's media type (sniffed when it has
    none); ``None`` for any other type (an HTML page from a proxy, plain text...)."""
    media = _media_type(response)
    if not media:
        head = _content(response).lstrip()[:1]
        return "json" if head in (b"{", b"[") else "xml"
    if media.endswith(("/json", "+json")):
        return "json"
    if media.endswith(("/xml", "+xml")):
        return "xml"
    if media == _CSV_MEDIA:
        return "csv"
    return None


#: Longest Salesforce error message kept on an error (they are one sentence).
_MAX_MESSAGE = 1000


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` of an error body: Bulk 1.0 XML or JSON, or a REST error array.

    Never raises: a body that is none of those gives empty strings.
    """
    content = _content(response)
    try:
        if _reply_format(response) == "json" or content.lstrip()[:1] in (b"{", b"["):
            data = load_json(content, "the error reply")
            if isinstance(data, list) and data and isinstance(data[0], dict):
                data = data[0]
            if isinstance(data, dict):
                code = data.get("exceptionCode") or data.get("errorCode") or ""
                message = data.get("exceptionMessage") or data.get("message") or ""
                if isinstance(code, str) and isinstance(message, str):
                    return code.strip()[:100], message[:_MAX_MESSAGE]
            return "", ""
        info = BulkErrorInfo.from_xml(content)
        return info.exception_code.strip()[:100], info.exception_message[:_MAX_MESSAGE]
    except SfBulkError:  # not an error document of either kind
        return "", ""


def parse_error(response: httpx.Response) -> APIError:
    """The exception for an error reply (Bulk 1.0 ``<error>``, JSON, or REST array).

    Whatever the body (HTML from a proxy, a DTD, nothing), the class follows
    Salesforce's code or, without one, the HTTP status; the error keeps the
    status, the masked body and its :attr:`~sfbulk_sdk.errors.APIError.excerpt`.
    """
    status = response.status_code
    code, message = _error_fields(response)
    if not code:
        code = "InternalServerError" if status >= 500 else f"HTTP{status}"
        message = message or response.reason_phrase
    cls = error_class_for_code(code, status, message)
    text = _content(response).decode("utf-8", errors="replace")
    return cls(code, message, status_code=status, body=text, response=response)


def is_invalid_session(response: httpx.Response) -> bool:
    """True when the reply rejects the session (Bulk 1.0: 400 ``InvalidSessionId``)."""
    if response.status_code not in (400, 401, 500):
        return False
    return isinstance(parse_error(response), InvalidSessionError)


def raise_for_status(response: httpx.Response) -> None:
    """Raise the mapped :class:`APIError` for any 4xx/5xx reply."""
    if response.status_code >= 400:
        raise parse_error(response)


class _Parsed(Protocol):
    @classmethod
    def from_xml(cls, data: str | bytes) -> Any: ...

    @classmethod
    def from_json(cls, data: str | bytes) -> Any: ...


def _parser(model: type[_Parsed], what: str) -> Callable[[httpx.Response], Any]:
    """A reply parser for ``model``: errors raised, format chosen by the reply's type.

    A reply of another media type (an HTML page, plain text), a body that is
    not the document, or one of the wrong shape raises a
    :class:`~sfbulk_sdk.errors.ProtocolError` (the parser's own class, such as
    :class:`~sfbulk_sdk.errors.UnsafeXmlError`) with the status and an excerpt.
    """

    def parse(response: httpx.Response) -> Any:
        raise_for_status(response)
        kind = _reply_format(response)
        try:
            if kind == "csv" and model is BatchResult:
                return BatchResult.from_csv(response.content)
            if kind == "json":
                return model.from_json(response.content)
            if kind == "xml":
                return model.from_xml(response.content)
        except ProtocolError as exc:
            raise type(exc)(f"could not parse {what}: {exc}", response=response) from exc
        except SfBulkError as exc:  # pragma: no cover - parsers raise ProtocolError only
            raise ProtocolError(f"could not parse {what}: {exc}", response=response) from exc
        raise MalformedReplyError(
            f"could not parse {what}: the reply is {_media_type(response)[:60]}, not XML or JSON",
            response=response,
        )

    return parse


_parse_job_info: Callable[[httpx.Response], JobInfo] = _parser(JobInfo, "jobInfo")


def _parse_job(response: httpx.Response) -> JobInfo:
    # Every jobInfo field is optional (the model also builds requests), so an
    # empty or foreign document would otherwise pass as a job without an id.
    job = _parse_job_info(response)
    if not job.id:
        raise ProtocolError("the jobInfo reply holds no job id", response=response)
    return job


_parse_batch: Callable[[httpx.Response], BatchInfo] = _parser(BatchInfo, "batchInfo")
_parse_batch_list: Callable[[httpx.Response], BatchInfoList] = _parser(
    BatchInfoList, "batchInfoList"
)
_parse_batch_result: Callable[[httpx.Response], BatchResult] = _parser(BatchResult, "batch results")
_parse_result_list: Callable[[httpx.Response], QueryResultList] = _parser(
    QueryResultList, "query result list"
)


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class PkChunking:
    """The ``Sforce-Enable-PKChunking`` header of a query job."""

    chunk_size: int | None = None
    parent: str | None = None
    start_row: str | None = None

    def header(self) -> str:
        """The header value (``TRUE`` or ``chunkSize=N; parent=X; startRow=Y``)."""
        size = self.chunk_size
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 250_000
        ):
            raise InvalidInputError("PK chunk size must be a whole number between 1 and 250,000")
        parts = []
        if self.chunk_size is not None:
            parts.append(f"chunkSize={self.chunk_size}")
        if self.parent:
            parts.append(f"parent={self.parent}")
        if self.start_row:
            parts.append(f"startRow={self.start_row}")
        return "; ".join(parts) or "TRUE"


def _job_media(content_type: ContentType) -> str:
    return _JSON_MEDIA if content_type.is_json else _XML_MEDIA


class JobSettings(TypedDict, total=False):
    """How a job runs (keyword arguments of :func:`create_job` but the upsert key)."""

    #: ``CSV`` (default), ``XML``, ``JSON`` or a ``ZIP_*`` type.
    content_type: ContentType | str
    #: ``Parallel`` (default) or ``Serial``.
    concurrency_mode: ConcurrencyMode | str
    #: The assignment rule applied to inserted/updated Cases or Leads.
    assignment_rule_id: str | None
    #: Split a query job by Id ranges (``True`` for Salesforce's default chunk size).
    pk_chunking: PkChunking | bool | None


class JobOptions(JobSettings, total=False):
    """Every keyword argument of :func:`create_job`."""

    #: The external id field of an upsert job (required for upsert, refused otherwise).
    external_id_field: str | None


def check_external_id(external_id_field: object, *, upsert: bool) -> str | None:
    """A job's external id field: a field name for upsert (required), none otherwise.

    The rule of Bulk API 1.0 and 2.0 jobs alike; raises :class:`InvalidInputError`.
    """
    if external_id_field is not None and not isinstance(external_id_field, str):
        raise InvalidInputError("external_id_field must be a field name (a string)")
    if upsert and not (external_id_field or "").strip():
        raise InvalidInputError("upsert needs external_id_field (the external id field name)")
    if not upsert and external_id_field:
        raise InvalidInputError("external_id_field applies only to upsert jobs")
    return external_id_field


def create_job(
    operation: Operation | str,
    sobject: str,
    *,
    external_id_field: str | None = None,
    content_type: ContentType | str = ContentType.CSV,
    concurrency_mode: ConcurrencyMode | str = ConcurrencyMode.PARALLEL,
    assignment_rule_id: str | None = None,
    pk_chunking: PkChunking | bool | None = None,
) -> Call[JobInfo]:
    """``POST job``: open a job. Input is checked before anything is sent."""
    try:
        op = Operation(operation)
    except ValueError:
        raise InvalidInputError(
            f"unknown operation {operation!r}; expected one of {[o.value for o in Operation]}"
        ) from None
    try:
        ctype = ContentType(content_type)
        mode = ConcurrencyMode(concurrency_mode)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    if not isinstance(sobject, str) or not sobject or not sobject.replace("_", "").isalnum():
        raise InvalidInputError(f"sObject name {sobject!r} is not a valid API name")
    check_external_id(external_id_field, upsert=op is Operation.UPSERT)
    if pk_chunking and not op.is_query:
        raise InvalidInputError("PK chunking applies only to query and queryAll jobs")
    headers: dict[str, str] = {}
    if pk_chunking:
        chunking = pk_chunking if isinstance(pk_chunking, PkChunking) else PkChunking()
        headers["Sforce-Enable-PKChunking"] = chunking.header()
    # The create reply follows the request body's format: XML in, XML out.
    body = render_document(
        "jobInfo",
        [
            ("operation", op.value),
            ("object", sobject),
            ("externalIdFieldName", external_id_field),
            ("concurrencyMode", mode.value),
            ("contentType", ctype.value),
            ("assignmentRuleId", assignment_rule_id),
        ],
    ).encode("utf-8")
    return Call(
        "POST",
        "job",
        _parse_job,
        _XML_MEDIA,
        body,
        headers,
        idempotent=False,
        reconcile=JobCreate(),
    )


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.isalnum() or len(value) not in (15, 18):
        raise InvalidInputError(f"{what} {value!r} is not a 15- or 18-character Salesforce id")
    return value


def _batch_path(job_id: str, batch_id: str, tail: str = "") -> str:
    return f"job/{_check_id(job_id, 'job id')}/batch/{_check_id(batch_id, 'batch id')}{tail}"


def _content_type(value: ContentType | str | None) -> ContentType:
    """A job's content type (``XML`` when not known), or :class:`InvalidInputError`."""
    if value is None:
        return ContentType.XML
    try:
        return ContentType(value)
    except ValueError:
        names = [c.value for c in ContentType]
        raise InvalidInputError(f"content type must be one of {names}, not {value!r}") from None


def get_job(job_id: str, *, content_type: ContentType | None = None) -> Call[JobInfo]:
    """``GET job/{jobId}``."""
    media = _job_media(_content_type(content_type))
    return Call("GET", f"job/{_check_id(job_id, 'job id')}", _parse_job, media)


def _set_state(job_id: str, state: JobState, content_type: ContentType | None) -> Call[JobInfo]:
    ctype = _content_type(content_type)
    if ctype.is_json:
        body = json.dumps({"state": state.value}).encode()
    else:
        body = render_document("jobInfo", [("state", state.value)]).encode()
    path = f"job/{_check_id(job_id, 'job id')}"
    return Call("POST", path, _parse_job, _job_media(ctype), body, idempotent=True)


def close_job(job_id: str, *, content_type: ContentType | None = None) -> Call[JobInfo]:
    """``POST job/{jobId}`` with only ``<state>Closed</state>``."""
    return _set_state(job_id, JobState.CLOSED, content_type)


def abort_job(job_id: str, *, content_type: ContentType | None = None) -> Call[JobInfo]:
    """``POST job/{jobId}`` with only ``<state>Aborted</state>``."""
    return _set_state(job_id, JobState.ABORTED, content_type)


# --------------------------------------------------------------------------- batches


def _batch_media(content_type: ContentType) -> str:
    return content_type.media_type


def _get_from_batch(
    job_id: str,
    batch_id: str,
    tail: str,
    parse: Callable[[httpx.Response], T],
    content_type: ContentType | str,
) -> Call[T]:
    """``GET job/{jobId}/batch/{batchId}{tail}``, the reply in ``content_type``."""
    media = _batch_media(_content_type(content_type))
    return Call("GET", _batch_path(job_id, batch_id, tail), parse, media)


def add_batch(
    job_id: str,
    data: bytes | str | CheckedCsv,
    *,
    content_type: ContentType = ContentType.CSV,
    operation: Operation | str | None = None,
) -> Call[BatchInfo]:
    """``POST job/{jobId}/batch``: upload records (or a SOQL query) as one batch.

    ``data`` is sent as is, after checks made before anything is sent
    (:mod:`sfbulk_sdk.core.batch_input`): its type, Salesforce's batch limits,
    at least one record, CSV rows as wide as the header (the message names the
    row and column), a JSON array of objects without ``NaN`` or ``Infinity``,
    an ``sObjects`` XML document. ``operation`` is the job's: a query job's
    batch is SOQL (without it, a body starting with ``SELECT`` is taken for
    SOQL). The caller (see :mod:`sfbulk_sdk.core.csvsplit`) keeps batches
    within the limits.
    """
    path = f"job/{_check_id(job_id, 'job id')}/batch"
    ctype = _content_type(content_type)
    op = None
    if operation is not None:
        try:
            op = Operation(operation)
        except ValueError:
            raise InvalidInputError(f"unknown operation {operation!r}") from None
    size = len(data) if isinstance(data, (bytes, bytearray, CheckedCsv)) else 0
    if size > BATCH_MAX_BYTES:  # refused before a 10 MB+ body is read
        raise InvalidInputError(
            f"batch is {size:,} bytes; Salesforce accepts at most {BATCH_MAX_BYTES:,}"
        )
    body = check_batch_data(data, ctype, operation=op)
    if len(body) > BATCH_MAX_BYTES:
        raise InvalidInputError(
            f"batch is {len(body):,} bytes; Salesforce accepts at most {BATCH_MAX_BYTES:,}"
        )
    spec = BatchUpload(job_id, body, ctype)
    return Call(
        "POST", path, _parse_batch, _batch_media(ctype), body, idempotent=False, reconcile=spec
    )


def get_batch(
    job_id: str, batch_id: str, *, content_type: ContentType | None = None
) -> Call[BatchInfo]:
    """``GET job/{jobId}/batch/{batchId}``."""
    path = _batch_path(job_id, batch_id)
    return Call("GET", path, _parse_batch, _job_media(_content_type(content_type)))


def list_batches(job_id: str, *, content_type: ContentType | None = None) -> Call[BatchInfoList]:
    """``GET job/{jobId}/batch``."""
    path = f"job/{_check_id(job_id, 'job id')}/batch"
    return Call("GET", path, _parse_batch_list, _job_media(_content_type(content_type)))


def _parse_bytes(response: httpx.Response) -> bytes:
    raise_for_status(response)
    return response.content


def get_batch_request(
    job_id: str, batch_id: str, *, content_type: ContentType = ContentType.CSV
) -> Call[bytes]:
    """``GET job/{jobId}/batch/{batchId}/request``: the uploaded data, as bytes."""
    return _get_from_batch(job_id, batch_id, "/request", _parse_bytes, content_type)


def get_batch_results(
    job_id: str, batch_id: str, *, content_type: ContentType = ContentType.CSV
) -> Call[BatchResult]:
    """``GET job/{jobId}/batch/{batchId}/result`` for an ingest batch."""
    return _get_from_batch(job_id, batch_id, "/result", _parse_batch_result, content_type)


def get_batch_results_body(job_id: str, batch_id: str) -> Call[bytes]:
    """``GET job/{jobId}/batch/{batchId}/result`` of a CSV ingest batch, as raw CSV bytes.

    Loads read millions of results: they parse the CSV into columns themselves
    (:mod:`sfbulk_sdk.core.outcomes`) rather than one model per row.
    """
    return _get_from_batch(job_id, batch_id, "/result", _parse_bytes, ContentType.CSV)


def get_query_result_ids(
    job_id: str, batch_id: str, *, content_type: ContentType = ContentType.CSV
) -> Call[QueryResultList]:
    """``GET job/{jobId}/batch/{batchId}/result`` for a query batch: the result ids."""
    return _get_from_batch(job_id, batch_id, "/result", _parse_result_list, content_type)


def query_result(
    job_id: str, batch_id: str, result_id: str, *, content_type: ContentType = ContentType.CSV
) -> Call[httpx.Response]:
    """``GET job/{jobId}/batch/{batchId}/result/{resultId}``: one result file.

    The parse step only checks the status; the body is streamed with
    :func:`record_decoder` (see :class:`~sfbulk_sdk.core.flow.RecordStream`).
    """
    path = _batch_path(job_id, batch_id, f"/result/{_check_id(result_id, 'result id')}")

    def check(response: httpx.Response) -> httpx.Response:
        # The driver has read an error reply's body before this runs.
        if response.status_code >= 400:
            raise parse_error(response)
        return response

    return Call("GET", path, check, _batch_media(_content_type(content_type)))
