"""What the REST handlers (Bulk API 2.0, describe) share: one call, its errors, its replies.

The second half holds the pieces of a Bulk 2.0 request that ingest and query
jobs both read: the operation, the CSV options, the job listings' pages.

A :class:`RestCall` is one authenticated request under
``/services/data/v{version}/``: the org's state, the request, the version, the
path's parts after the resource name, the user, and the counter ``kind`` it is
counted under. Handlers raise :class:`RestFailure` for a REST error, which
becomes a JSON array of one ``{"errorCode", "message"}`` (spec §3.1): Bulk 2.0
errors print ``errorCode`` first, platform errors (session, limits, methods,
describe) ``message`` first, as Salesforce does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar
from urllib.parse import parse_qs

from ...models.bulk2 import (
    Bulk2JobState,
    Bulk2Operation,
    ColumnDelimiter,
    IngestJobInfo,
    LineEnding,
    QueryJobInfo,
)
from ..accounts import FakeUser
from ..bulk2_jobs import IngestJob, QueryJob, View
from ..http import JSON, FakeRequest, FakeResponse
from ..state import OrgState

__all__ = [
    "INGEST_OPERATIONS",
    "NOT_FOUND",
    "QUERY_OPERATIONS",
    "JobHandler",
    "JobResource",
    "JobRoutes",
    "RestCall",
    "RestFailure",
    "abort",
    "decode_locator",
    "encode_locator",
    "invalid_value",
    "job_options",
    "list_page",
    "lists_own_jobs",
    "not_terminated",
    "operation_of",
    "require_json",
    "rest_error",
    "route_jobs",
]

#: What a real org answers for a job (or any resource) that does not exist.
NOT_FOUND = "The requested resource does not exist"


def rest_error(
    status: int,
    code: str,
    message: str,
    *,
    platform: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
) -> FakeResponse:
    """A REST error array; ``platform`` errors put ``message`` before ``errorCode``."""
    entry = (
        {"message": message, "errorCode": code}
        if platform
        else {
            "errorCode": code,
            "message": message,
        }
    )
    body = json.dumps([entry], separators=(",", ":"))
    return FakeResponse(status, body.encode(), [("Content-Type", JSON), *headers])


class RestFailure(Exception):
    """A REST error to answer with (see :func:`rest_error`)."""

    def __init__(self, status: int, code: str, message: str, *, platform: bool = False) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.platform = platform

    def response(self) -> FakeResponse:
        """The error array."""
        return rest_error(self.status, self.code, self.message, platform=self.platform)


def encode_locator(offset: int, size: int) -> str:
    """An opaque locator: rows from ``offset`` in pages of ``size`` (base64, like ``MTAwMDA``)."""
    return base64.urlsafe_b64encode(f"{offset}:{size}".encode()).decode().rstrip("=")


def decode_locator(locator: str) -> tuple[int, int]:
    """``(offset, size)`` of a locator from :func:`encode_locator`; ``ValueError`` if not one."""
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(locator) from None
    offset, sep, size = text.partition(":")
    if not sep or not offset.isdigit() or not size.isdigit() or int(size) < 1:
        raise ValueError(locator)
    return int(offset), int(size)


class RestCall:
    """One authenticated REST request, as the Bulk 2.0 and describe handlers see it."""

    def __init__(
        self,
        state: OrgState,
        request: FakeRequest,
        version: str,
        parts: list[str],
        user: FakeUser,
    ) -> None:
        self.state = state
        self.request = request
        self.version = version
        self.parts = parts
        self.user = user
        self.kind = "rest"
        self._query = parse_qs(request.query, keep_blank_values=True)

    @property
    def method(self) -> str:
        """The HTTP method, upper case."""
        return self.request.method.upper()

    @property
    def base(self) -> str:
        """``/services/data/v{version}``: where this call's URLs start."""
        return f"/services/data/v{self.version}"

    def param(self, name: str) -> str | None:
        """A query-string parameter (the first value), or ``None``."""
        values = self._query.get(name)
        return values[0] if values else None

    def allow(self, *methods: str) -> None:
        """Refuse other methods with 405, as the REST API does."""
        if self.method not in methods:
            raise RestFailure(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{self.method}' not allowed. Allowed are {','.join(methods)}",
                platform=True,
            )

    def text(self) -> str:
        """The body as UTF-8 text."""
        try:
            return self.request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise RestFailure(
                400, "CLIENTINPUTERROR", "ClientInputError : The request body is not UTF-8"
            ) from None

    def json_object(self, allowed: frozenset[str], data: bytes | None = None) -> dict[str, object]:
        """The body as a JSON object whose keys are all in ``allowed``."""
        raw = self.request.body if data is None else data
        try:
            document = json.loads(raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise RestFailure(
                400, "JSON_PARSER_ERROR", f"Unable to parse the JSON request body: {exc}"
            ) from None
        if not isinstance(document, dict):
            raise RestFailure(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        unknown = sorted(set(document) - allowed)
        if unknown:
            raise RestFailure(400, "JSON_PARSER_ERROR", f'Unrecognized field "{unknown[0]}"')
        return document

    @staticmethod
    def json_reply(status: int, document: str | Mapping[str, object]) -> FakeResponse:
        """A JSON reply (a rendered document, or a mapping to render)."""
        text = document if isinstance(document, str) else json.dumps(document)
        return FakeResponse.text(status, text, JSON)


# ---------------------------------------------------------------------------
# Bulk 2.0 request pieces shared by ingest and query jobs


def require_json(call: RestCall) -> None:
    """Refuse a create request whose body is not JSON."""
    media = call.request.media_type
    if media not in ("application/json", ""):
        raise RestFailure(
            400,
            "UNSUPPORTEDCONTENTTYPE",
            f"UnsupportedContentType : Unsupported content type: {media}",
        )


def not_terminated() -> RestFailure:
    """Deleting a job that is still open or running (spec §4.3)."""
    return RestFailure(
        400,
        "API_ERROR",
        "Error encountered when deleting the job because the job is not terminated",
    )


#: The operations of query jobs; every other operation is an ingest job's.
QUERY_OPERATIONS = frozenset({Bulk2Operation.QUERY, Bulk2Operation.QUERY_ALL})
INGEST_OPERATIONS = frozenset(Bulk2Operation) - QUERY_OPERATIONS


def operation_of(document: Mapping[str, object], *, query: bool) -> Bulk2Operation:
    """The create request's ``operation``: a query job's, or an ingest job's."""
    raw = document.get("operation")
    try:
        operation = Bulk2Operation(raw)
    except ValueError:
        raise invalid_value(raw, "operation") from None
    if operation not in (QUERY_OPERATIONS if query else INGEST_OPERATIONS):
        raise invalid_value(raw, "operation")
    return operation


def abort(call: RestCall, job: IngestJob | QueryJob) -> None:
    """``PATCH {"state": "Aborted"}``: refused once finished, a no-op once aborted."""
    if job.state in (Bulk2JobState.JOB_COMPLETE, Bulk2JobState.FAILED):
        raise RestFailure(400, "INVALIDJOBSTATE", "Aborting already Completed Job not allowed")
    if job.state is not Bulk2JobState.ABORTED:
        call.state.bulk2.abort(job)


_Job = TypeVar("_Job", IngestJob, QueryJob)
JobHandler: TypeAlias = Callable[[RestCall, _Job], FakeResponse]


@dataclass(frozen=True)
class JobResource(Generic[_Job]):
    """One resource under a job (``batches``, ``results``, ...): its method and counter kind."""

    method: str
    kind: str
    handle: JobHandler[_Job]
    since: float = 0.0  # the first API version that has it (older ones answer 404)


@dataclass(frozen=True)
class JobRoutes(Generic[_Job]):
    """What one kind of Bulk 2.0 job answers under ``jobs/{resource}``.

    ``resources`` maps the lower-case name of what follows a job's id to its
    :class:`JobResource`.
    """

    resource: str  # "ingest" or "query": also the prefix of the counter kinds
    since: float  # the first API version with these jobs
    create: Callable[[RestCall], FakeResponse]
    listed: Callable[[RestCall], Sequence[_Job]]  # the jobs a listing's filters keep
    find: Callable[[RestCall, str], _Job | None]
    info: Callable[[_Job, View], IngestJobInfo | QueryJobInfo]  # a job's document
    update: JobHandler[_Job]
    deletable: Callable[[_Job], bool]  # others: "the job is not terminated"
    resources: Mapping[str, JobResource[_Job]]
    #: Documents a listing shows after this kind's own (Bulk 1.0 jobs, as ``Classic``).
    also_listed: Callable[[RestCall], list[str]] = lambda call: []


_VERBS = {"GET": "get", "PATCH": "update", "DELETE": "delete"}


def route_jobs(call: RestCall, routes: JobRoutes[_Job]) -> FakeResponse:
    """Answer one request under ``jobs/{routes.resource}`` (``call.parts`` come after it)."""
    if float(call.version) < routes.since:
        raise RestFailure(404, "NOT_FOUND", NOT_FOUND)
    prefix, parts = routes.resource, call.parts
    if not parts:
        call.allow("GET", "POST")
        if call.method == "POST":
            call.kind = f"{prefix}_create"
            return routes.create(call)
        call.kind = f"{prefix}_list"
        listed = [routes.info(j, "list").to_wire_json() for j in routes.listed(call)]
        return list_page(call, listed + routes.also_listed(call), prefix)
    job = routes.find(call, parts[0])
    if job is None or len(parts) > 2:
        raise RestFailure(404, "NOT_FOUND", NOT_FOUND)
    if len(parts) == 1:
        call.allow("GET", "PATCH", "DELETE")
        call.kind = f"{prefix}_{_VERBS[call.method]}"
        if call.method == "GET":
            return call.json_reply(200, routes.info(job, "full").to_wire_json())
        if call.method == "PATCH":
            return routes.update(call, job)
        if not routes.deletable(job):
            raise not_terminated()
        call.state.bulk2.delete(job)
        return FakeResponse(204)
    found = routes.resources.get(parts[1].lower())
    if found is None or float(call.version) < found.since:
        raise RestFailure(404, "NOT_FOUND", NOT_FOUND)
    call.allow(found.method)
    call.kind = found.kind
    return found.handle(call, job)


def lists_own_jobs(call: RestCall, job_types: tuple[str, ...]) -> bool:
    """Whether a job listing's ``jobType`` and ``isPkChunkingEnabled`` filters keep
    this kind's jobs; ``job_types`` are the types the listing accepts, its own first
    (another accepted type lists nothing; an unknown one fails)."""
    job_type = call.param("jobType")
    if job_type not in (None, "", *job_types):
        raise invalid_value(job_type, "jobType")
    chunking = (call.param("isPkChunkingEnabled") or "").lower() == "true"
    return not chunking and job_type in (None, "", job_types[0])


def invalid_value(value: object, name: str) -> RestFailure:
    """``API_ERROR`` for a value a property cannot take (spec §3.1)."""
    shown = "" if value is None else value
    message = f"Invalid value: '{shown}' supplied for property: '{name}'"
    return RestFailure(400, "API_ERROR", message)


def job_options(document: dict[str, object]) -> tuple[ColumnDelimiter, LineEnding]:
    """The CSV options of a create request (``contentType`` must be ``CSV``)."""
    content = document.get("contentType", "CSV")
    if content != "CSV":
        raise invalid_value(content, "contentType")
    raw_delimiter = document.get("columnDelimiter", "COMMA")
    raw_ending = document.get("lineEnding", "LF")
    try:
        delimiter = ColumnDelimiter(raw_delimiter)
    except ValueError:
        raise invalid_value(raw_delimiter, "columnDelimiter") from None
    try:
        ending = LineEnding(raw_ending)
    except ValueError:
        raise invalid_value(raw_ending, "lineEnding") from None
    return delimiter, ending


def list_page(call: RestCall, records: list[str], resource: str) -> FakeResponse:
    """``{"done", "records", "nextRecordsUrl"}``: one page of a job listing.

    ``records`` are the rendered job documents; ``queryLocator`` says where the
    page starts (``nextRecordsUrl`` carries the next one).
    """
    size = call.state.settings.bulk2_jobs_page_size
    offset = 0
    locator = call.param("queryLocator")
    if locator:
        try:
            offset, size = decode_locator(locator)
        except ValueError:
            raise invalid_value(locator, "queryLocator") from None
    following = offset + size
    next_url = None
    if following < len(records):
        next_url = f"{call.base}/jobs/{resource}?queryLocator={encode_locator(following, size)}"
    page = {
        "done": next_url is None,
        "records": [json.loads(r) for r in records[offset:following]],
        "nextRecordsUrl": next_url,
    }
    return call.json_reply(200, page)
