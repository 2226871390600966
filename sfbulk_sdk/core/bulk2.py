"""Bulk API 2.0 (``/services/data/vXX.X/jobs/...``): requests and replies, sans-IO (spec §3).

Ingest: create a job (``POST jobs/ingest``), upload its CSV once (``PUT
jobs/ingest/{id}/batches``: 201 with an empty body; a second upload is
refused), mark it ``UploadComplete`` (``PATCH``), then read
``successfulResults``, ``failedResults`` and ``unprocessedrecords``. Query:
create (``POST jobs/query``), wait for ``JobComplete``, then read results page
by page with the ``Sforce-Locator`` header (``maxRecords`` always sent; the
literal ``null`` ends it) or, from API 58.0, list page URLs with
``/resultPages`` and fetch several at once. Results must be read with the API
version the job was created with (409 otherwise): every result call here is
pinned to the job's version.

Builders check their input before anything is sent; replies are parsed by
key, never by position, and every error becomes a typed SDK error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

import httpx
from typing_extensions import Unpack

from ..errors import InvalidInputError, ProtocolError
from ..models.bulk2 import (
    Bulk2JobState,
    Bulk2Operation,
    ColumnDelimiter,
    IngestJobInfo,
    JobList,
    LineEnding,
    QueryJobInfo,
    ResultPages,
)
from .batch_input import CheckedCsv, check_csv_records, guess_delimiter, to_bytes
from .bulk1 import check_external_id, validate_api_version
from .reconcile_specs import IngestJobCreate, IngestUpload, JobCreate, StateChange
from .rest import RestCall, check_id, json_body, parse_empty, parse_json, relative_path

__all__ = [
    "DEFAULT_MAX_RECORDS",
    "MAX_UPLOAD_BYTES",
    "MULTIPART_MAX_CHARS",
    "RESULT_PAGES_VERSION",
    "IngestOptions",
    "ResultPage",
    "abort_ingest_job",
    "abort_query_job",
    "create_ingest_job",
    "create_ingest_job_with_data",
    "create_query_job",
    "delete_ingest_job",
    "delete_query_job",
    "get_ingest_job",
    "get_query_job",
    "ingest_results",
    "list_jobs",
    "next_locator_from",
    "query_results",
    "result_pages",
    "upload_complete",
    "upload_job_data",
]

#: Salesforce's guidance: at most 100 MB of raw CSV per job (150 MB after base64).
MAX_UPLOAD_BYTES = 100_000_000
#: The multipart create-and-upload form takes at most 100,000 characters of CSV.
MULTIPART_MAX_CHARS = 100_000
#: Rows per results page asked for when the caller does not say: always sent,
#: since without it an extract was seen stalling for hours (spec §9).
DEFAULT_MAX_RECORDS = 50_000
#: ``/resultPages`` exists from API 58.0 on.
RESULT_PAGES_VERSION = 58.0

_INGEST_OPERATIONS = frozenset(
    {
        Bulk2Operation.INSERT,
        Bulk2Operation.UPDATE,
        Bulk2Operation.UPSERT,
        Bulk2Operation.DELETE,
        Bulk2Operation.HARD_DELETE,
    }
)
_QUERY_OPERATIONS = frozenset({Bulk2Operation.QUERY, Bulk2Operation.QUERY_ALL})
_BOUNDARY = "sfbulk-sdk-multipart-boundary"


class IngestOptions(TypedDict, total=False):
    """Keyword arguments of :func:`create_ingest_job`."""

    #: The external id field of an upsert job (required for upsert, refused otherwise).
    external_id_field: str | None
    #: ``COMMA`` (default), ``BACKQUOTE``, ``CARET``, ``PIPE``, ``SEMICOLON`` or ``TAB``.
    column_delimiter: ColumnDelimiter | str
    #: ``LF`` (default) or ``CRLF``: how the uploaded records end.
    line_ending: LineEnding | str
    #: The assignment rule applied to inserted/updated Cases or Leads (API 49.0+).
    assignment_rule_id: str | None


def _operation(value: Bulk2Operation | str, allowed: frozenset[Bulk2Operation]) -> Bulk2Operation:
    try:
        operation: Bulk2Operation | None = Bulk2Operation(value)
    except ValueError:
        operation = None
    if operation is None or operation not in allowed:
        names = sorted(o.value for o in allowed)
        raise InvalidInputError(f"unknown operation {value!r}; expected one of {names}")
    return operation


def _sobject(name: str) -> str:
    if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
        raise InvalidInputError(f"sObject name {name!r} is not a valid API name")
    return name


def _enum(kind: type[ColumnDelimiter] | type[LineEnding], value: object, what: str) -> str:
    try:
        return str(kind(value).value)
    except ValueError:
        names = [m.value for m in kind]
        raise InvalidInputError(f"{what} must be one of {names}, not {value!r}") from None


def _ingest_document(
    operation: Bulk2Operation | str, sobject: str, options: IngestOptions
) -> dict[str, object]:
    op = _operation(operation, _INGEST_OPERATIONS)
    upsert = op is Bulk2Operation.UPSERT
    external = check_external_id(options.get("external_id_field"), upsert=upsert)
    document: dict[str, object] = {
        "object": _sobject(sobject),
        "operation": op.value,
        "contentType": "CSV",
        "columnDelimiter": _enum(
            ColumnDelimiter, options.get("column_delimiter", "COMMA"), "column_delimiter"
        ),
        "lineEnding": _enum(LineEnding, options.get("line_ending", "LF"), "line_ending"),
    }
    if external:
        document["externalIdFieldName"] = external
    rule = options.get("assignment_rule_id")
    if rule:
        document["assignmentRuleId"] = rule
    return document


def _parse_ingest(response: httpx.Response) -> IngestJobInfo:
    job = parse_json(IngestJobInfo.from_json, "the ingest job")(response)
    if not job.id:
        raise ProtocolError("the ingest job reply holds no job id", response=response)
    return job


def _parse_query(response: httpx.Response) -> QueryJobInfo:
    job = parse_json(QueryJobInfo.from_json, "the query job")(response)
    if not job.id:
        raise ProtocolError("the query job reply holds no job id", response=response)
    return job


_JSON = "application/json; charset=UTF-8"


# --------------------------------------------------------------------------- ingest


def create_ingest_job(
    operation: Bulk2Operation | str, sobject: str, **options: Unpack[IngestOptions]
) -> RestCall[IngestJobInfo]:
    """``POST jobs/ingest``: open an ingest job (state ``Open``)."""
    document = _ingest_document(operation, sobject, options)
    return RestCall(
        "POST",
        "jobs/ingest",
        _parse_ingest,
        body=json_body(document),
        media_type=_JSON,
        idempotent=False,
        reconcile=IngestJobCreate.of(document),
    )


def create_ingest_job_with_data(
    operation: Bulk2Operation | str, sobject: str, data: bytes, **options: Unpack[IngestOptions]
) -> RestCall[IngestJobInfo]:
    """``POST jobs/ingest`` as ``multipart/form-data``: create and upload at once.

    For small loads (at most 100,000 characters of CSV); the job answers
    ``UploadComplete`` at once.
    """
    document = _ingest_document(operation, sobject, options)
    data = to_bytes(data, "job data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("the CSV data is not valid UTF-8") from None
    chars = len(text)
    if chars > MULTIPART_MAX_CHARS:
        raise InvalidInputError(
            f"the multipart create-and-upload form takes at most {MULTIPART_MAX_CHARS:,} "
            f"characters of CSV; this data has {chars:,}: upload it to an Open job instead"
        )
    _check_upload(data)
    delimiter = ColumnDelimiter(str(document["columnDelimiter"])).char
    check_csv_records(text.removeprefix("\ufeff"), delimiter=delimiter, what="job data")
    body = b"".join(
        [
            f"--{_BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="job"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            json_body(document),
            f"\r\n--{_BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="content"; filename="content"\r\n',
            b"Content-Type: text/csv\r\n\r\n",
            data,
            f"\r\n--{_BOUNDARY}--\r\n".encode(),
        ]
    )
    return RestCall(
        "POST",
        "jobs/ingest",
        _parse_ingest,
        body=body,
        media_type=f"multipart/form-data; boundary={_BOUNDARY}",
        idempotent=False,
        reconcile=IngestJobCreate.of(document, with_data=True),
    )


def _check_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidInputError(f"job data must be bytes, not {type(data).__name__}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise InvalidInputError(f"max_bytes must be a positive integer, not {max_bytes!r}")
    if not data or data.isspace():  # as ``not data.strip()``, without copying the data
        raise InvalidInputError("a job needs data; got an empty body")
    if len(data) > max_bytes:
        raise InvalidInputError(
            f"the job data is {len(data):,} bytes; a Bulk API 2.0 job takes at most "
            f"{max_bytes:,} bytes of CSV: split it into several jobs"
        )


def _check_job_data(data: bytes, column_delimiter: ColumnDelimiter | str | None) -> None:
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"the job data is not valid UTF-8 (byte {exc.start:,} cannot be decoded)"
        ) from None
    if column_delimiter is None:
        delimiter = guess_delimiter(text)
    else:
        delimiter = ColumnDelimiter(
            _enum(ColumnDelimiter, column_delimiter, "column_delimiter")
        ).char
    check_csv_records(text, delimiter=delimiter, what="job data")


def upload_job_data(
    job_id: str,
    data: bytes | CheckedCsv,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    gzip: bool = False,
    column_delimiter: ColumnDelimiter | str | None = None,
) -> RestCall[None]:
    """``PUT jobs/ingest/{id}/batches``: the job's CSV, once (201, empty body).

    ``data`` is sent as is (the exact encoded bytes are measured against
    ``max_bytes``); with ``gzip`` it is compressed and sent with
    ``Content-Encoding: gzip``. Before anything is sent it is checked in one
    pass of :mod:`csv`: UTF-8, at least one record, every row as wide as the
    header (the message names the row and column). ``column_delimiter`` is the
    job's; without it the delimiter is read from the header line.
    """
    path = f"jobs/ingest/{check_id(job_id)}/batches"
    if isinstance(data, CheckedCsv):  # the SDK's own CSV is not read again
        body = data.data
        _check_upload(body, max_bytes)
    else:
        _check_upload(data, max_bytes)
        _check_job_data(data, column_delimiter)
        body = bytes(data)
    headers: dict[str, str] = {}
    if gzip:
        import gzip as _gzip

        body = _gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return RestCall(
        "PUT",
        path,
        parse_empty,
        body=body,
        media_type="text/csv",
        headers=headers,
        idempotent=False,
        reconcile=IngestUpload(job_id),
    )


def _set_state(kind: str, job_id: str, state: Bulk2JobState) -> RestCall[IngestJobInfo]:
    return RestCall(
        "PATCH",
        f"jobs/{kind}/{check_id(job_id)}",
        _parse_ingest,
        body=json_body({"state": state.value}),
        media_type=_JSON,
    )


def upload_complete(job_id: str) -> RestCall[IngestJobInfo]:
    """``PATCH jobs/ingest/{id}`` ``{"state":"UploadComplete"}``: the data is all there.

    Salesforce refuses to close a job twice, so a lost reply is reconciled by
    reading the job (:mod:`~sfbulk_sdk.core.reconcile`), not by closing again.
    """
    call = _set_state("ingest", job_id, Bulk2JobState.UPLOAD_COMPLETE)
    spec = StateChange(job_id, Bulk2JobState.UPLOAD_COMPLETE.value)
    return dataclasses.replace(call, reconcile=spec)


def abort_ingest_job(job_id: str) -> RestCall[IngestJobInfo]:
    """``PATCH jobs/ingest/{id}`` ``{"state":"Aborted"}``."""
    return _set_state("ingest", job_id, Bulk2JobState.ABORTED)


def get_ingest_job(job_id: str) -> RestCall[IngestJobInfo]:
    """``GET jobs/ingest/{id}``: the full job (counters, ``errorMessage`` when Failed)."""
    return RestCall("GET", f"jobs/ingest/{check_id(job_id)}", _parse_ingest)


def delete_ingest_job(job_id: str) -> RestCall[None]:
    """``DELETE jobs/ingest/{id}`` (204; only once the job is no longer Open)."""
    return RestCall("DELETE", f"jobs/ingest/{check_id(job_id)}", parse_empty)


_RESULT_KINDS = {
    "successful": "successfulResults/",
    "failed": "failedResults/",
    "unprocessed": "unprocessedrecords/",
}


def ingest_results(
    job_id: str, kind: str, *, api_version: str | None = None
) -> RestCall[httpx.Response]:
    """``GET jobs/ingest/{id}/successfulResults/`` (or ``failedResults/``, ``unprocessedrecords/``).

    The body is streamed by the caller; a 204 (or an empty 200) means no rows.
    """
    tail = _RESULT_KINDS.get(kind) if isinstance(kind, str) else None
    if tail is None:
        raise InvalidInputError(f"result kind must be one of {sorted(_RESULT_KINDS)}, not {kind!r}")
    return RestCall(
        "GET",
        f"jobs/ingest/{check_id(job_id)}/{tail}",
        _check_stream,
        headers={"Accept": "text/csv"},
        api_version=_version(api_version),
    )


def _version(api_version: str | None) -> str | None:
    """A job's API version, checked before it goes into a URL (``None`` for the client's)."""
    return None if api_version is None else validate_api_version(api_version)


def _check_stream(response: httpx.Response) -> httpx.Response:
    # The driver has read an error reply's body before this runs.
    parse_empty(response)
    return response


# --------------------------------------------------------------------------- query


def create_query_job(
    soql: str,
    *,
    query_all: bool = False,
    column_delimiter: ColumnDelimiter | str = ColumnDelimiter.COMMA,
    line_ending: LineEnding | str = LineEnding.LF,
) -> RestCall[QueryJobInfo]:
    """``POST jobs/query``: a query job (``queryAll`` includes deleted and archived rows)."""
    if not isinstance(soql, str) or not soql.strip():
        raise InvalidInputError("a query needs SOQL text (a non-empty string)")
    document = {
        "operation": (Bulk2Operation.QUERY_ALL if query_all else Bulk2Operation.QUERY).value,
        "query": soql,
        "contentType": "CSV",
        "columnDelimiter": _enum(ColumnDelimiter, column_delimiter, "column_delimiter"),
        "lineEnding": _enum(LineEnding, line_ending, "line_ending"),
    }
    return RestCall(
        "POST",
        "jobs/query",
        _parse_query,
        body=json_body(document),
        media_type=_JSON,
        idempotent=False,
        reconcile=JobCreate(),  # a second query job only costs a query
    )


def get_query_job(job_id: str) -> RestCall[QueryJobInfo]:
    """``GET jobs/query/{id}``."""
    return RestCall("GET", f"jobs/query/{check_id(job_id)}", _parse_query)


def abort_query_job(job_id: str) -> RestCall[QueryJobInfo]:
    """``PATCH jobs/query/{id}`` ``{"state":"Aborted"}`` (only before JobComplete)."""
    call = _set_state("query", job_id, Bulk2JobState.ABORTED)
    return RestCall(call.method, call.path, _parse_query, body=call.body, media_type=_JSON)


def delete_query_job(job_id: str) -> RestCall[None]:
    """``DELETE jobs/query/{id}`` (204; only once the job is done)."""
    return RestCall("DELETE", f"jobs/query/{check_id(job_id)}", parse_empty)


def _check_max_records(max_records: int) -> int:
    if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
        raise InvalidInputError(f"max_records must be a positive integer, not {max_records!r}")
    return max_records


def query_results(
    job_id: str,
    *,
    locator: str | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
    api_version: str | None = None,
) -> RestCall[httpx.Response]:
    """``GET jobs/query/{id}/results?locator=&maxRecords=``: one page of CSV, streamed.

    ``api_version`` must be the job's own (Salesforce answers 409 otherwise).
    """
    query = {"maxRecords": str(_check_max_records(max_records))}
    if locator is not None:
        query["locator"] = locator
    return RestCall(
        "GET",
        f"jobs/query/{check_id(job_id)}/results",
        _check_stream,
        headers={"Accept": "text/csv"},
        query=query,
        api_version=_version(api_version),
    )


def next_locator_from(headers: httpx.Headers) -> str | None:
    """The ``Sforce-Locator`` of a results page, or ``None`` on the last page.

    The last page says so with the literal string ``null``, not with an absent
    header (spec §3.4): a page without the header is a broken reply.
    """
    value: str | None = headers.get("sforce-locator")
    if value is None:
        raise ProtocolError("a query results page came without its Sforce-Locator header")
    value = value.strip()
    return None if value in ("", "null") else value


@dataclass(frozen=True)
class ResultPage:
    """One page of a query's results, as ``/resultPages`` lists it."""

    path: str

    def call(self, api_version: str | None) -> RestCall[httpx.Response]:
        """The request that fetches this page (pinned to the job's version)."""
        return RestCall(
            "GET", self.path, _check_stream, headers={"Accept": "text/csv"}, api_version=api_version
        )


def result_pages(
    job_id: str, *, next_url: str | None = None, api_version: str | None = None
) -> RestCall[tuple[list[ResultPage], str | None]]:
    """``GET jobs/query/{id}/resultPages`` (API 58.0+): up to five page URLs, and where next."""
    version = validate_api_version(api_version) if api_version is not None else None
    if version is not None and float(version) < RESULT_PAGES_VERSION:
        raise InvalidInputError(
            f"/resultPages needs API {RESULT_PAGES_VERSION:.1f} or later; this job is {version}"
        )

    def parse(response: httpx.Response) -> tuple[list[ResultPage], str | None]:
        pages = parse_json(ResultPages.from_json, "the result pages")(response)
        found = [ResultPage(relative_path(page.result_url)) for page in pages.result_pages]
        more = None if pages.done or not pages.next_records_url else pages.next_records_url
        return found, (relative_path(more) if more else None)

    path = relative_path(next_url) if next_url else f"jobs/query/{check_id(job_id)}/resultPages"
    return RestCall("GET", path, parse, api_version=api_version)


def list_jobs(
    kind: str = "ingest", *, next_url: str | None = None, params: Mapping[str, str] | None = None
) -> RestCall[JobList]:
    """``GET jobs/ingest`` or ``jobs/query`` (one page; follow ``next_records_url`` verbatim)."""
    if not isinstance(kind, str) or kind not in ("ingest", "query"):
        raise InvalidInputError(f"kind must be 'ingest' or 'query', not {kind!r}")
    if next_url:
        return RestCall("GET", relative_path(next_url), parse_json(JobList.from_json, "job list"))
    return RestCall(
        "GET", f"jobs/{kind}", parse_json(JobList.from_json, "job list"), query=dict(params or {})
    )
