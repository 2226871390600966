"""Loads (insert, update, upsert, delete, hardDelete) over either Bulk API, as flows (sans-IO).

A load takes upload bodies from :class:`~sfbulk_sdk.core.encode.RecordEncoder`
(already within the API's limits), and:

* **Bulk API 1.0**: opens one job and runs its batches as a pipeline
  (:mod:`~sfbulk_sdk.core.bulk1_loads`): ``concurrency`` uploads and result
  reads in flight at once, each batch's results (one per uploaded row, in
  upload order) read into a :class:`~sfbulk_sdk.core.outcomes.LoadResult` as
  soon as one poll of the job's batch list shows it done, while later batches
  still upload; the job is closed once the last upload is in;
* **Bulk API 2.0**: opens one job per body (each at most 100 MB), uploads and
  completes them, waits for all, then streams each job's successful, failed
  and unprocessed records into the result, joined to their input rows by the
  uploaded ``Id`` (update, delete, hardDelete) or external id (upsert); an
  insert's outcomes have no row (the API gives no key to join by).

Rows that failed with ``UNABLE_TO_LOCK_ROW`` (or whose Bulk 1.0 batch failed
with ``TooManyLockFailure``) are sent again, at most ``lock_retries`` times,
in a Serial job unless told otherwise; the result says which rows were
re-submitted and keeps the last outcome of each.

Everything is a flow of :mod:`sfbulk_sdk.core.flow` effects: the clients only
drive it. Progress goes to the client's hook (:class:`~sfbulk_sdk.core.flow.Report`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..errors import (
    InvalidInputError,
    LoadInterruptedError,
    PollTimeoutError,
    ProtocolError,
    SfBulkError,
)
from ..models.bulk2 import ColumnDelimiter, IngestJobInfo
from ..models.enums import BatchState, ContentType, Operation
from ..models.jobs import BatchInfo, JobInfo
from . import bulk1, bulk2, bulk2_flows, states
from .bulk1_loads import Sent as _Sent
from .bulk1_loads import report as _report
from .bulk1_loads import run_job
from .bulk2_outcomes import UNPROCESSED, JobRows, Joiner, ResultRows, appender, outcome_sink
from .csvbatch import BATCH_LIMITS, Limits
from .encode import EncodedBody, RecordEncoder
from .flow import Flow, FlowContext, Gather, exchange, perform, poll, request
from .outcomes import LoadResult
from .policy import PollPolicy

__all__ = [
    "LoadOptions",
    "bulk1_load",
    "bulk2_load",
    "bulk2_results",
    "job_ids",
    "reattach_bulk1",
    "reattach_bulk2",
]

#: Why a row sent is failed when no result file of its job answered it.
NO_RESULT = "NO_RESULT:Salesforce's results of the job did not include this row:"

#: The line ending of the bodies a load encodes itself (the csv writer then quotes a
#: bare ``\r`` inside a value, which it leaves bare with ``\n``).
CRLF = "\r\n"


@dataclass(frozen=True)
class LoadOptions:
    """How a load runs."""

    operation: Operation
    sobject: str
    external_id_field: str | None = None
    #: Batches (Bulk 1.0) or jobs (Bulk 2.0) in flight at once.
    concurrency: int = 4
    #: A Serial Bulk 1.0 job (batches one after another: fewer lock conflicts).
    serial: bool = False
    #: Compress uploads (``Content-Encoding: gzip``; both APIs accept it).
    gzip: bool = True
    #: How many times rows that failed on a lock are sent again.
    lock_retries: int = 2
    #: Send lock failures again in a Serial job (Bulk 1.0).
    serial_retries: bool = True
    poll: PollPolicy = dataclasses.field(default_factory=PollPolicy)
    #: How the uploaded bodies' lines end (a Bulk 2.0 job declares it).
    line_ending: str = CRLF


class _Guarded(Iterator[EncodedBody]):
    """The bodies of a load, ending (not raising) where the records fail mid-load.

    The failure is kept (:attr:`error`): the load then finishes the rows already
    sent (closes their jobs, reads their outcomes) before :func:`_interrupted`
    raises it, so that no sent row is left without an outcome or in an open job.
    """

    def __init__(self, bodies: Iterator[EncodedBody]) -> None:
        self._bodies = bodies
        self.error: Exception | None = None

    def __next__(self) -> EncodedBody:
        if self.error is not None:
            raise StopIteration
        try:
            return next(self._bodies)
        except StopIteration:
            raise
        except Exception as exc:
            self.error = exc
            raise StopIteration from None


def _peek(bodies: Iterator[EncodedBody]) -> _Guarded:
    """The bodies, guarded; the first taken now (before any request): a failure then,
    or no body at all, raises at once."""
    try:
        first = next(bodies, None)
    except SfBulkError:
        raise
    except Exception as exc:
        raise InvalidInputError(
            f"reading the records failed before anything was sent: {type(exc).__name__}: {exc}"
        ) from exc
    if first is None:
        raise InvalidInputError("the input holds no records: nothing to load")
    return _Guarded(itertools.chain([first], bodies))


def _interrupted(bodies: _Guarded, result: LoadResult) -> None:
    """Raise the failure the records ended with, if any, once the rows before are done."""
    error = bodies.error
    if error is None:
        return
    cause = str(error) if isinstance(error, SfBulkError) else f"{type(error).__name__}: {error}"
    jobs = ", ".join(result.jobs)
    interrupted = LoadInterruptedError(
        f"the records failed ({cause}) after {result.size:,} rows were sent: those were "
        f"loaded (jobs {jobs}; their outcomes are in error.result), and the rows from "
        f"{result.size:,} on (0-based) were not sent"
    )
    interrupted.job_ids = tuple(result.jobs)
    interrupted.result = result
    raise interrupted from error


# --------------------------------------------------------------------------- Bulk API 1.0


def bulk1_load(
    options: LoadOptions, bodies: Iterator[EncodedBody], fields: Sequence[str], *, ctx: FlowContext
) -> Flow[LoadResult]:
    """Load every body as a batch of one Bulk 1.0 job; the outcome of every row."""
    pending = _peek(bodies)
    result = LoadResult(options.operation.value, options.sobject, "bulk1")
    job_id, sent = yield from run_job(options, pending, result, ctx, serial=options.serial)
    yield from _retry_bulk1(options, job_id, sent, fields, result, ctx)
    result.fail_unanswered(NO_RESULT)
    yield from _report("done", result.succeeded, detail=f"{result.failed_count} failed")
    _interrupted(pending, result)
    return result


def _uploaded_rows(
    job_id: str, batches: list[_Sent], rows: set[int], ctx: FlowContext
) -> Flow[dict[int, list[str]]]:
    """The values uploaded for ``rows``, read back from their batches' requests."""
    found: dict[int, list[str]] = {}
    for batch in batches:
        if not any(batch.first_row <= r < batch.first_row + batch.rows for r in rows):
            continue
        call = bulk1.get_batch_request(job_id, batch.batch_id, content_type=ContentType.CSV)
        body = yield from request(call, ctx)
        reader = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
        next(reader, None)
        for offset, values in enumerate(reader):
            row = batch.first_row + offset
            if row in rows:
                found[row] = values
    return found


def _retry_bulk1(
    options: LoadOptions,
    job_id: str,
    sent: list[_Sent],
    fields: Sequence[str],
    result: LoadResult,
    ctx: FlowContext,
) -> Flow[None]:
    values: dict[int, list[str]] = {}
    sources: dict[int, tuple[str, list[_Sent]]] = {}
    for _attempt in range(options.lock_retries):
        rows = sorted(result.lock_failures())
        if not rows:
            return
        missing = set(rows) - set(values)
        if missing:
            origin = sources.get(rows[0], (job_id, sent))
            values.update((yield from _uploaded_rows(origin[0], origin[1], missing, ctx)))
        todo = [row for row in rows if row in values]
        if not todo:
            return
        yield from _report("lock_resubmit", len(todo))
        encoder = RecordEncoder(fields, limits=BATCH_LIMITS, line_ending=CRLF)
        again = LoadResult(options.operation.value, options.sobject, "bulk1")
        bodies = encoder.bodies(values[row] for row in todo)
        retry_job, retry_sent = yield from run_job(
            options, bodies, again, ctx, serial=options.serial_retries or options.serial
        )
        result.jobs.append(retry_job)
        for position, row in enumerate(todo):
            outcome = again[position]
            result.record(row, outcome.id or "", outcome.success, outcome.created, outcome.error)
        result.mark_resubmitted(todo)
        for row in todo:
            sources[row] = (retry_job, retry_sent)


# --------------------------------------------------------------------------- Bulk API 2.0


def _open_job2(
    options: LoadOptions, body: EncodedBody, delimiter: ColumnDelimiter, ctx: FlowContext
) -> Flow[IngestJobInfo]:
    job = yield from request(
        bulk2.create_ingest_job(
            options.operation,
            options.sobject,
            external_id_field=options.external_id_field,
            column_delimiter=delimiter,
            line_ending="CRLF" if options.line_ending == CRLF else "LF",
        ),
        ctx,
    )
    assert job.id is not None
    yield from request(bulk2.upload_job_data(job.id, body.payload, gzip=options.gzip), ctx)
    return (yield from request(bulk2.upload_complete(job.id), ctx))


def _open_jobs2(
    options: LoadOptions,
    bodies: Iterator[EncodedBody],
    rows_of: Callable[[EncodedBody], Sequence[int]],
    result: LoadResult,
    delimiter: ColumnDelimiter,
    ctx: FlowContext,
) -> Flow[list[JobRows]]:
    jobs: list[JobRows] = []
    while True:
        window = list(itertools.islice(bodies, options.concurrency))
        if not window:
            return jobs
        opening = [_open_job2(options, body, delimiter, ctx) for body in window]
        opened = yield from perform(Gather(opening, options.concurrency))
        for body, job in zip(window, opened, strict=True):
            assert isinstance(job, IngestJobInfo)
            assert job.id is not None
            jobs.append(JobRows(job.id, rows_of(body), body.keys))
            result.jobs.append(job.id)
            yield from _report("job_created", body.rows, job_id=job.id)


def bulk2_load(
    options: LoadOptions,
    bodies: Iterator[EncodedBody],
    fields: Sequence[str],
    *,
    key_column: str | None,
    ctx: FlowContext,
    delimiter: ColumnDelimiter = ColumnDelimiter.COMMA,
) -> Flow[LoadResult]:
    """Load every body as a Bulk 2.0 job; the outcome of every row (joined where possible)."""
    pending = _peek(bodies)
    result = LoadResult(
        options.operation.value, options.sobject, "bulk2", rows_known=key_column is not None
    )

    def new_rows(body: EncodedBody) -> Sequence[int]:
        first = result.grow(body.rows)
        return range(first, first + body.rows)

    jobs = yield from _open_jobs2(options, pending, new_rows, result, delimiter, ctx)
    locked: dict[int, list[str]] = {}
    yield from bulk2_results(options, jobs, result, key_column, fields, delimiter.char, ctx, locked)
    yield from _retry_bulk2(options, fields, result, key_column, delimiter, ctx, locked)
    result.fail_unanswered(NO_RESULT)
    yield from _report("done", result.succeeded, detail=f"{result.failed_count} failed")
    _interrupted(pending, result)
    return result


def bulk2_results(
    options: LoadOptions,
    jobs: list[JobRows],
    result: LoadResult,
    key_column: str | None,
    fields: Sequence[str],
    delimiter: str,
    ctx: FlowContext,
    locked: dict[int, list[str]],
) -> Flow[None]:
    """Wait for the jobs and stream their results into ``result``.

    The uploaded values of rows that failed on a lock go to ``locked`` (row → values
    in ``fields`` order, as the failed results echo them).
    """
    waits = [
        bulk2_flows.wait_for_job(
            bulk2.get_ingest_job(job.job_id), policy=options.poll, ctx=ctx, raise_on_failure=False
        )
        for job in jobs
    ]
    try:
        infos = yield from perform(Gather(waits, max(1, options.concurrency)))
    except PollTimeoutError as exc:
        ids = [job.job_id for job in jobs]
        if len(ids) < 2:
            raise
        raise PollTimeoutError(
            f"{exc}; the load's {len(ids)} jobs keep running: {', '.join(ids)} "
            "(re-attach to all of them with bulk.job(error.job_ids))",
            job_id=exc.job_id,
            job_ids=ids,
        ) from exc
    joiner = Joiner(jobs, key_column)
    for job, info in zip(jobs, infos, strict=True):
        assert isinstance(info, IngestJobInfo)
        unprocessed = UNPROCESSED
        if info.error_message:  # a failed or aborted job: why its records were not processed
            unprocessed = f"NOT_PROCESSED:the job ended ({info.error_message}):"
        for kind in ("successful", "failed", "unprocessed"):
            sink = outcome_sink(kind, job, joiner, result, fields, locked, unprocessed)
            call = bulk2.ingest_results(job.job_id, kind)
            lead = kind == "successful" and key_column is None  # ids and flags only
            yield from exchange(call, ctx, ResultRows(call.parse, delimiter, sink, lead=lead))
        yield from _report("job_completed", len(job.rows), job_id=job.job_id)


def _retry_bulk2(
    options: LoadOptions,
    fields: Sequence[str],
    result: LoadResult,
    key_column: str | None,
    delimiter: ColumnDelimiter,
    ctx: FlowContext,
    locked: dict[int, list[str]],
) -> Flow[None]:
    for _attempt in range(options.lock_retries):
        todo = sorted(row for row in result.lock_failures() if row in locked)
        if not todo:
            return
        yield from _report("lock_resubmit", len(todo))
        encoder = RecordEncoder(
            fields,
            limits=Limits(_NO_RECORD_CAP, bulk2.MAX_UPLOAD_BYTES, bulk2.MAX_UPLOAD_BYTES),
            delimiter=delimiter.char,
            line_ending=options.line_ending,
            key=key_column,
        )
        offsets = iter(todo)

        def retry_rows(body: EncodedBody, offsets: Iterator[int] = offsets) -> Sequence[int]:
            return [next(offsets) for _ in range(body.rows)]

        bodies = encoder.bodies(locked[row] for row in todo)
        jobs = yield from _open_jobs2(options, bodies, retry_rows, result, delimiter, ctx)
        again: dict[int, list[str]] = {}
        yield from bulk2_results(
            options, jobs, result, key_column, fields, delimiter.char, ctx, again
        )
        result.mark_resubmitted(todo)
        locked.update(again)


#: A Bulk 2.0 job has no record cap of its own (the daily allocation is 150M).
_NO_RECORD_CAP = 150_000_000


# --------------------------------------------------------------------------- re-attaching


def job_ids(given: str | Sequence[str]) -> list[str]:
    """The job ids ``bulk.job()`` was given (one id, or a load's several).

    ``auto`` asks Bulk 2.0 first, then Bulk 1.0. A Bulk 1.0 job's rows come batch
    after batch in upload order; Bulk 2.0 jobs' rows job after job, each in
    Salesforce's order.
    """
    if isinstance(given, str):
        ids = [given]
    elif isinstance(given, Sequence) and all(isinstance(one, str) for one in given):
        ids = list(given)
    else:
        raise InvalidInputError(
            f"job() takes a job id or a sequence of them, not {type(given).__name__}"
        )
    if not ids or not all(one.strip() for one in ids):
        raise InvalidInputError("job() needs a job id")
    return ids


def reattach_bulk1(job_id: str, *, policy: PollPolicy, ctx: FlowContext) -> Flow[LoadResult]:
    """The result of a Bulk 1.0 ingest job started earlier (by any process), once done.

    Rows are numbered across the job's batches in the order Salesforce lists
    them, each batch's results in upload order.
    """
    job = yield from request(bulk1.get_job(job_id, content_type=ContentType.CSV), ctx)
    operation = job.operation.value if job.operation else "unknown"
    if job.operation is not None and job.operation.is_query:
        raise InvalidInputError(f"job {job_id} is a query job: read it with query results")
    listed = yield from request(bulk1.list_batches(job_id, content_type=ContentType.CSV), ctx)
    result = LoadResult(operation, job.sobject or "", "bulk1")
    result.jobs.append(job_id)
    del listed  # the batches as they are now; wait until every one is done
    waited = yield from _wait_all_batches(job_id, policy, ctx)
    for info in waited:
        if info.state is BatchState.COMPLETED:
            body = yield from request(bulk1.get_batch_results_body(job_id, info.id), ctx)
            result.append_bulk1_results(body)
        else:
            count = yield from _batch_rows(job, info, ctx)
            first = result.grow(count)
            reason = f"BATCH_{info.state.value.upper()}:{info.state_message or 'no reason given'}:"
            result.not_processed(first, count, reason)
    return result


def _batch_rows(job: JobInfo, info: BatchInfo, ctx: FlowContext) -> Flow[int]:
    """How many records a batch that did not complete carried: counted in its uploaded
    CSV (its counters say how many were processed, not how many were sent), or, for a
    job of another content type, taken from its counters once they are plausible."""
    if job.content_type in (None, ContentType.CSV):
        call = bulk1.get_batch_request(job.id or "", info.id, content_type=ContentType.CSV)
        body = yield from request(call, ctx)
        reader = csv.reader(io.StringIO(body.decode("utf-8-sig", "replace"), newline=""))
        try:
            return max(0, sum(1 for values in reader if values) - 1)  # less the header
        except csv.Error:  # CSV Salesforce could not read either: go by the counters
            pass
    count = info.number_records_processed
    if not 0 <= count <= bulk1.BATCH_MAX_RECORDS or info.number_records_failed > count:
        raise ProtocolError(
            f"batch {info.id} reports {count} records processed and "
            f"{info.number_records_failed} failed, which no batch can hold"
        )
    return count


def _wait_all_batches(job_id: str, policy: PollPolicy, ctx: FlowContext) -> Flow[list[BatchInfo]]:
    call = bulk1.list_batches(job_id, content_type=ContentType.CSV)

    def probe() -> Flow[list[BatchInfo] | None]:
        listed = yield from request(call, ctx)
        batches = list(listed)
        return batches if states.all_batches_done(batches) else None

    return (yield from poll(probe, policy, job_id=job_id))


def reattach_bulk2(
    job_ids: Sequence[str], *, policy: PollPolicy, ctx: FlowContext
) -> Flow[LoadResult]:
    """The result of Bulk 2.0 ingest jobs started earlier (one load's jobs), once all are
    done: job after job, each job's rows in Salesforce's order (the input is not at hand
    to join them to)."""
    result: LoadResult | None = None
    for job_id in job_ids:
        job = yield from bulk2_flows.wait_for_job(
            bulk2.get_ingest_job(job_id), policy=policy, ctx=ctx, raise_on_failure=False
        )
        if result is None:
            operation = job.operation.value if job.operation else "unknown"
            result = LoadResult(operation, job.sobject or "", "bulk2", rows_known=False)
        result.jobs.append(job_id)
        delimiter = (job.column_delimiter or ColumnDelimiter.COMMA).char
        version = None if job.api_version is None else f"{job.api_version:.1f}"
        for kind in ("successful", "failed", "unprocessed"):
            call = bulk2.ingest_results(job_id, kind, api_version=version)
            sink = appender(kind, result)
            reader = ResultRows(call.parse, delimiter, sink, lead=kind == "successful")
            yield from exchange(call, ctx, reader)
    if result is None:
        raise InvalidInputError("job() needs at least one job id")
    return result
