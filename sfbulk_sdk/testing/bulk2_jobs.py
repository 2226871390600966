"""Bulk API 2.0 jobs inside the fake org, the job documents they answer with, and their results.

An :class:`IngestJob` is ``Open`` until its data is complete (``UploadComplete``),
then ``InProgress`` and ``JobComplete`` or ``Failed``; a :class:`QueryJob`
starts at ``UploadComplete``. Either may be ``Aborted`` before it finishes.
Job documents are the SDK's own models
(:class:`~sfbulk_sdk.models.bulk2.IngestJobInfo`,
:class:`~sfbulk_sdk.models.bulk2.QueryJobInfo`), whose fields are declared in
the wire's key order; each call answers its own subset of the keys (spec §3.3):

* ``create``: no ``jobType`` and no counters (``contentUrl`` while ``Open``);
* ``short`` (the ``PATCH`` replies): up to ``apiVersion`` only;
* ``full`` (``GET``): everything, counters only once the data is complete;
* ``list`` (``GET jobs/ingest``): up to ``columnDelimiter``, no counters.

A job's result files are rendered once, as it finishes (:func:`seal_ingest`,
:func:`seal_query`), and kept as bytes; the rows they came from are let go, so
that a finished job holds about as much memory as its results' text, and a
request for results (or a page of them) costs no rendering.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias, TypeVar

from ..models.bulk2 import (
    Bulk2JobState,
    Bulk2Operation,
    ColumnDelimiter,
    IngestJobInfo,
    JobType,
    LineEnding,
    QueryJobInfo,
)
from ..models.enums import ConcurrencyMode
from .bulk2_csv import RenderedRows, quoted_line, shuffled
from .formats import QueryShape, quote_cell
from .schema import FieldValue, FieldValueError
from .store import Outcome
from .values import java_double, text_value

__all__ = [
    "Bulk2Job",
    "IngestJob",
    "QueryJob",
    "ResultKind",
    "View",
    "ingest_info",
    "ingest_results",
    "query_info",
    "query_page",
    "seal_ingest",
    "seal_query",
    "sf_error",
    "status_name",
]

#: Which subset of a job document a call answers with.
View: TypeAlias = Literal["create", "short", "full", "list"]
#: The three result files of an ingest job.
ResultKind: TypeAlias = Literal["successfulResults", "failedResults", "unprocessedrecords"]

#: Job states after which nothing changes any more.
TERMINAL = frozenset({Bulk2JobState.JOB_COMPLETE, Bulk2JobState.FAILED, Bulk2JobState.ABORTED})
_KIND_SEEDS: dict[ResultKind, int] = {
    "successfulResults": 1,
    "failedResults": 2,
    "unprocessedrecords": 3,
}


@dataclass(eq=False)
class Bulk2Job:
    """What ingest and query jobs share: identity, format and where they are in their life."""

    id: str
    operation: Bulk2Operation
    sobject: str
    created_by: str
    created: datetime
    api_version: str
    delimiter: ColumnDelimiter = ColumnDelimiter.COMMA
    line_ending: LineEnding = LineEnding.LF
    state: Bulk2JobState = Bulk2JobState.OPEN
    modstamp: datetime | None = None
    ready: datetime | None = None  # when the job became UploadComplete
    started: datetime | None = None
    finished: datetime | None = None
    error_message: str | None = None
    total_ms: int = 0
    processed: int = 0  # rows processed (numberRecordsProcessed), set once finished

    @property
    def is_terminal(self) -> bool:
        """True once the job completed, failed or was aborted."""
        return self.state in TERMINAL

    @property
    def version(self) -> float:
        """The API version the job was created with."""
        return float(self.api_version)

    def touch(self, at: datetime) -> None:
        """Record a change at ``at`` (``systemModstamp``)."""
        self.modstamp = at


@dataclass(eq=False)
class IngestJob(Bulk2Job):
    """One Bulk 2.0 ingest job: its uploaded CSV, then one outcome per row."""

    external_id_field: str | None = None
    assignment_rule_id: str | None = None
    uploaded: bool = False  # data came (once: a second PUT is refused)
    body: str | None = None  # the data until it is processed
    header: list[str] = field(default_factory=list)  # as uploaded, quotes included
    rows: list[list[str]] = field(default_factory=list)  # while processing
    outcomes: list[Outcome] = field(default_factory=list)  # while processing
    unprocessed: list[list[str]] = field(default_factory=list)  # while processing
    number_columns: tuple[int, ...] = ()  # re-rendered in successful results
    failed: int = 0  # rows that failed (numberRecordsFailed), counted once processed
    # once sealed: each file as encoded chunks (header first), and its row count
    results: dict[ResultKind, tuple[tuple[bytes, ...], int]] = field(default_factory=dict)


@dataclass(eq=False)
class QueryJob(Bulk2Job):
    """One Bulk 2.0 query job: its SOQL, then the result rows."""

    soql: str = ""
    state: Bulk2JobState = Bulk2JobState.UPLOAD_COMPLETE
    shape: QueryShape | None = None
    results: RenderedRows | None = None  # once it completed
    chunkable: bool = True


def status_name(state: Bulk2JobState) -> str:
    """A state as error messages spell it (``IN_PROGRESS``, ``JOB_COMPLETE``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", state.value).upper()


_Info = TypeVar("_Info", IngestJobInfo, QueryJobInfo)


def _document(model: type[_Info], job: Bulk2Job) -> _Info:
    """The keys every view of either kind of job answers (the ``short`` view's)."""
    info = model(id=job.id, operation=job.operation, object=job.sobject, state=job.state)
    info.created_by_id, info.created_date = job.created_by, job.created
    info.system_modstamp = job.modstamp or job.created
    info.concurrency_mode, info.content_type = ConcurrencyMode.PARALLEL, "CSV"
    info.api_version = job.version
    return info


def _format(info: IngestJobInfo | QueryJobInfo, job: Bulk2Job, view: View, kind: JobType) -> bool:
    """Add what the longer views answer after the short keys; True when ``view`` is ``full``."""
    if view != "create":
        info.job_type = kind
    info.line_ending = job.line_ending
    info.column_delimiter = job.delimiter
    return view == "full"


def ingest_info(job: IngestJob, view: View) -> IngestJobInfo:
    """The ingest job's document as the call behind ``view`` answers it."""
    info = _document(IngestJobInfo, job)
    info.external_id_field_name = job.external_id_field
    info.assignment_rule_id = job.assignment_rule_id
    if view == "short":
        return info
    is_open = job.state is Bulk2JobState.OPEN
    if is_open and view in ("create", "full"):
        info.content_url = f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"
    if not _format(info, job, view, JobType.V2_INGEST):
        return info
    if not is_open:
        info.number_records_processed = job.processed
        info.number_records_failed = job.failed
    info.retries = 0
    info.total_processing_time = job.total_ms
    info.api_active_processing_time = job.total_ms * 6 // 10
    info.apex_processing_time = 0
    info.error_message = job.error_message
    return info


def query_info(job: QueryJob, view: View) -> QueryJobInfo:
    """The query job's document as the call behind ``view`` answers it."""
    info = _document(QueryJobInfo, job)
    if view == "short" or not _format(info, job, view, JobType.V2_QUERY):
        return info
    info.number_records_processed = job.processed
    info.retries = 0
    info.total_processing_time = job.total_ms
    info.is_pk_chunking_supported = job.chunkable
    info.error_message = job.error_message
    return info


def sf_error(error: FieldValueError) -> str:
    """``sf__Error``: ``STATUS_CODE:message:fields--``."""
    return f"{error.status_code}:{error.message}:{','.join(error.fields)}--"


def _rerendered(row: Sequence[str], columns: tuple[int, ...]) -> list[str]:
    """A successful row as echoed: numbers as Salesforce renders them (``9.12260031E8``)."""
    cells = list(row)
    for i in columns:
        raw = cells[i]
        if raw and raw != "#N/A":
            with contextlib.suppress(ValueError):
                cells[i] = java_double(float(raw))
    return cells


def _ingest_lines(job: IngestJob, kind: ResultKind) -> list[str]:
    """The lines of one result file, in upload order."""
    d, end = job.delimiter.char, job.line_ending.chars
    if kind == "unprocessedrecords":
        return [quoted_line(r, d) + end for r in job.unprocessed]
    pairs = zip(job.outcomes, job.rows, strict=False)
    if kind == "successfulResults":
        numbers = job.number_columns
        return [
            f'"{o.id or ""}"{d}"{"true" if o.created else "false"}"{d}'
            f"{quoted_line(_rerendered(r, numbers) if numbers else r, d)}{end}"
            for o, r in pairs
            if o.success
        ]
    with_id = job.version >= 53.0  # sf__Id in failed results since API 53.0
    return [
        f"{quote_cell(o.id or '') + d if with_id else ''}{quote_cell(sf_error(o.error))}{d}"
        f"{quoted_line(r, d)}{end}"
        for o, r in pairs
        if o.error is not None
    ]


def _ingest_header(job: IngestJob, kind: ResultKind) -> list[str]:
    if kind == "unprocessedrecords":
        return job.header
    if kind == "successfulResults":
        return ['"sf__Id"', '"sf__Created"', *job.header]
    with_id = job.version >= 53.0
    return [*(['"sf__Id"'] if with_id else []), '"sf__Error"', *job.header]


def seal_ingest(job: IngestJob, seed: int) -> None:
    """Render a finished ingest job's three result files, and let go of its rows.

    Rows come in an order drawn from ``seed`` (per file), never the upload order.
    The rows go before the lines are encoded, a chunk at a time, so that the
    rows, their lines and the encoded file are never all held at once.
    """
    job.processed = len(job.outcomes)
    kinds = [k for k in _KIND_SEEDS if k != "unprocessedrecords" or job.header]  # else no data
    lines = {kind: _ingest_lines(job, kind) for kind in kinds}
    job.rows, job.outcomes, job.unprocessed = [], [], []
    d, end = job.delimiter.char, job.line_ending.chars
    for kind in kinds:
        order = shuffled(lines.pop(kind), seed * 4 + _KIND_SEEDS[kind])
        chunks = [(d.join(_ingest_header(job, kind)) + end).encode()]
        chunks += ("".join(part).encode() for part in _chunked(order))
        job.results[kind] = (tuple(chunks), len(order))
        del order


def _chunked(lines: list[str], size: int = 10_000) -> Iterator[list[str]]:
    for first in range(0, len(lines), size):
        yield lines[first : first + size]


def ingest_results(job: IngestJob, kind: ResultKind) -> tuple[bytes, int]:
    """One result file of a finished ingest job (CSV bytes) and how many rows it holds."""
    chunks, rows = job.results.get(kind, ((), 0))
    return b"".join(chunks), rows


def seal_query(job: QueryJob, rows: Sequence[tuple[FieldValue, ...]]) -> None:
    """Render a completed query's rows once, as its pages will be cut from them."""
    shape = job.shape
    assert shape is not None
    offset, d, end = shape.offset, job.delimiter.char, job.line_ending.chars
    header = d.join(quote_cell(h) for h in shape.headers) + end
    lines = (
        quoted_line([v if type(v) is str else text_value(v) for v in row[offset:]], d) + end
        for row in rows
    )
    job.results = RenderedRows(header, lines)
    job.processed = len(rows)


def query_page(job: QueryJob, start: int, stop: int) -> bytes:
    """Rows ``start:stop`` of a completed query's results as a CSV page, header included."""
    assert job.results is not None
    return job.results.page(start, stop)
