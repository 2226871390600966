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
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
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
from .bulk2_csv import render_csv, shuffled
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
    "sf_error",
    "status_name",
]

#: Which subset of a job document a call answers with.
View: TypeAlias = Literal["create", "short", "full", "list"]
#: The three result files of an ingest job.
ResultKind: TypeAlias = Literal["successfulResults", "failedResults", "unprocessedrecords"]

#: Job states after which nothing changes any more.
TERMINAL = frozenset({Bulk2JobState.JOB_COMPLETE, Bulk2JobState.FAILED, Bulk2JobState.ABORTED})
_KIND_SEEDS = {"successfulResults": 1, "failedResults": 2, "unprocessedrecords": 3}


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
    rows: list[list[str]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    number_columns: tuple[int, ...] = ()  # re-rendered in successful results
    failed: int = 0  # rows that failed (numberRecordsFailed), counted once processed


@dataclass(eq=False)
class QueryJob(Bulk2Job):
    """One Bulk 2.0 query job: its SOQL, then the result rows."""

    soql: str = ""
    state: Bulk2JobState = Bulk2JobState.UPLOAD_COMPLETE
    shape: QueryShape | None = None
    rows: list[tuple[FieldValue, ...]] = field(default_factory=list)
    chunkable: bool = True

    @property
    def processed(self) -> int:
        """Rows the query returned (``numberRecordsProcessed``)."""
        return len(self.rows)


def status_name(state: Bulk2JobState) -> str:
    """A state as error messages spell it (``IN_PROGRESS``, ``JOB_COMPLETE``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", state.value).upper()


_Info = TypeVar("_Info", IngestJobInfo, QueryJobInfo)


def _document(model: type[_Info], job: Bulk2Job) -> _Info:
    """The keys every view of either kind of job answers (the ``short`` view's)."""
    return model(
        id=job.id,
        operation=job.operation,
        object=job.sobject,
        created_by_id=job.created_by,
        created_date=job.created,
        system_modstamp=job.modstamp or job.created,
        state=job.state,
        concurrency_mode=ConcurrencyMode.PARALLEL,
        content_type="CSV",
        api_version=job.version,
    )


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
        info.number_records_processed = len(job.outcomes)
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


def ingest_results(job: IngestJob, kind: ResultKind, seed: int) -> tuple[str, int]:
    """One result file of an ingest job (CSV text) and how many rows it holds.

    Rows come in an order drawn from ``seed`` (per file), never the upload order.
    """
    delimiter, ending = job.delimiter.char, job.line_ending.chars
    rows: list[list[str]]
    if kind == "unprocessedrecords":
        if not job.header:
            return "", 0  # no data came
        header = job.header
        rows = job.unprocessed
    elif kind == "successfulResults":
        header = ['"sf__Id"', '"sf__Created"', *job.header]
        rows = [
            [o.id or "", "true" if o.created else "false", *_rerendered(r, job.number_columns)]
            for o, r in zip(job.outcomes, job.rows, strict=False)
            if o.success
        ]
    else:
        with_id = job.version >= 53.0  # sf__Id in failed results since API 53.0
        header = [*(['"sf__Id"'] if with_id else []), '"sf__Error"', *job.header]
        rows = [
            [*([o.id or ""] if with_id else []), sf_error(o.error), *r]
            for o, r in zip(job.outcomes, job.rows, strict=False)
            if o.error is not None
        ]
    order = shuffled(rows, seed * 4 + _KIND_SEEDS[kind])
    return render_csv(header, order, delimiter, ending), len(order)


def query_page(job: QueryJob, start: int, stop: int) -> str:
    """Rows ``start:stop`` of a query's results as a CSV page, header included."""
    shape = job.shape
    assert shape is not None
    offset = shape.offset
    header = [quote_cell(h) for h in shape.headers]
    rows = ([text_value(v) for v in row[offset:]] for row in job.rows[start:stop])
    return render_csv(header, rows, job.delimiter.char, job.line_ending.chars)
