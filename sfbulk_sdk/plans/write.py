"""Write plans: a load cut into per-task Bulk 2.0 jobs that only the driver starts.

How a load maps to Salesforce:

* each task (a Spark partition attempt, a worker) runs :func:`write_partition`:
  it streams its rows into CSV and opens **its own** Bulk 2.0 ingest jobs, one
  per ``rows_per_job`` rows (and at most 100 MB each), uploads each one's
  data, and leaves them ``Open``. Salesforce processes nothing of an ``Open``
  job. The task hands back a :class:`WriteTask` naming its jobs;
* the driver runs :func:`commit_write` with the tasks that succeeded: it marks
  their jobs ``UploadComplete``, waits for them, adds up the counts and, if
  rows failed, writes them to ``failed_rows_path`` (CSV with the uploaded
  columns plus ``sf__Error``) and raises :class:`WriteFailedError`;
* :func:`abort_write` aborts every job the tasks name.

So a task that fails and is retried cannot load its rows twice: the failed
attempt's jobs are never marked complete (the attempt aborts them on its way
out; if its process died, they stay ``Open``, are never processed, and
Salesforce removes them after 24 hours), and only the retry's jobs reach
:func:`commit_write`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..core.encode import format_value
from ..errors import InvalidInputError, SfBulkError
from .connection import ConnectionSpec

if TYPE_CHECKING:
    from ..client import Bulk
    from ..models.bulk2 import IngestJobInfo

__all__ = [
    "WriteCommitError",
    "WriteFailedError",
    "WritePlan",
    "WriteSummary",
    "WriteTask",
    "abort_write",
    "commit_write",
    "write_partition",
]

WriteOperation = Literal["insert", "update", "upsert", "delete", "hardDelete"]
_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
#: Salesforce's guidance for one Bulk 2.0 job's raw CSV (spec §9).
MAX_JOB_BYTES = 100_000_000


@dataclass(frozen=True)
class WritePlan:
    """What every task of a load needs (no secret): the connection, object and columns."""

    connection: ConnectionSpec
    sobject: str
    operation: WriteOperation
    columns: tuple[str, ...]
    external_id_field: str | None = None
    rows_per_job: int = 100_000
    job_bytes: int = MAX_JOB_BYTES
    failed_rows_path: str | None = None

    def __post_init__(self) -> None:
        if self.operation not in _OPERATIONS:
            raise InvalidInputError(
                f"operation must be one of {_OPERATIONS}, not {self.operation!r}"
            )
        if self.operation == "upsert" and not self.external_id_field:
            raise InvalidInputError("upsert needs externalIdField (the external id field)")
        if not self.columns:
            raise InvalidInputError("a load needs at least one column")
        for name, value, most in (
            ("rows_per_job", self.rows_per_job, 150_000_000),
            ("job_bytes", self.job_bytes, MAX_JOB_BYTES),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
                raise InvalidInputError(f"{name} must be a whole number from 1 to {most:,}")

    def to_json(self) -> str:
        """The plan as JSON."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WritePlan:
        """The plan :meth:`to_json` wrote."""
        try:
            data = json.loads(text)
            data["connection"] = ConnectionSpec.from_dict(data["connection"])
            data["columns"] = tuple(data["columns"])
            return cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(f"not a write plan: {exc}") from None


@dataclass(frozen=True)
class WriteTask:
    """What one task did: its jobs (``Open``, data uploaded) and how many rows."""

    partition: int
    job_ids: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class WriteSummary:
    """The committed load: its jobs and Salesforce's counts."""

    job_ids: tuple[str, ...]
    processed: int
    failed: int
    details: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def failing_jobs(self) -> tuple[str, ...]:
        """The jobs with failed rows, in commit order."""
        return tuple(job_id for job_id, (_, failed) in self.details.items() if failed)


class WriteFailedError(SfBulkError):
    """Rows of a load failed: the jobs, the counts and where the failed rows went.

    ``summary`` is the whole committed load (every job, Salesforce's counts per
    job); ``job_ids`` names the jobs with failed rows, ``processed`` and
    ``failed`` are the load's totals.
    """

    def __init__(self, summary: WriteSummary, *, failed_rows_path: str | None) -> None:
        self.summary = summary
        self.job_ids = list(summary.failing_jobs)
        self.processed = summary.processed
        self.failed = summary.failed
        self.failed_rows_path = failed_rows_path
        where = f"; failed rows written to {failed_rows_path}" if failed_rows_path else ""
        jobs = ", ".join(self.job_ids)
        super().__init__(
            f"{self.failed:,} of {self.processed:,} rows failed in Bulk 2.0 jobs {jobs}{where}"
        )


def _cells(columns: Sequence[str], row: Sequence[object]) -> list[str]:
    """A row's values as the SDK's loads write them (:func:`~sfbulk_sdk.core.encode.format_value`).

    ``None`` is ``#N/A``, which clears the field (an empty value would leave it
    unchanged on an update or upsert); datetimes in UTC with a ``Z`` (a naive
    one is UTC), dates ISO, numbers without exponent. A value no CSV field
    holds (bytes, containers, NaN) is refused, naming its column.
    """
    cells = []
    for name, value in zip(columns, row, strict=True):
        try:
            cells.append(format_value(value))
        except InvalidInputError as exc:
            raise InvalidInputError(f"column {name!r}: {exc}") from None
    return cells


class _CsvJob:
    """One job's CSV being built: header first, rows appended."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = columns
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.writer.writerow(columns)
        self.rows = 0

    def add(self, row: Sequence[object]) -> None:
        self.writer.writerow(_cells(self.columns, row))
        self.rows += 1

    def data(self) -> bytes:
        return self.buffer.getvalue().encode("utf-8")


def _open_job(client: Bulk, plan: WritePlan, data: bytes) -> str:
    job = client.create_ingest_job(
        plan.operation, plan.sobject, external_id_field=plan.external_id_field
    )
    assert job.id is not None
    try:
        client.upload_job_data(job.id, data, max_bytes=plan.job_bytes)
    except SfBulkError:
        _abort_quietly(client, job.id)
        raise
    return job.id


def _abort_quietly(client: Bulk, job_id: str) -> None:
    # Best effort: an Open job is never processed anyway.
    with contextlib.suppress(SfBulkError):
        client.abort_ingest_job(job_id)


def write_partition(
    client: Bulk, plan: WritePlan, partition: int, rows: Iterable[Sequence[object]]
) -> WriteTask:
    """Upload ``rows`` into new ``Open`` jobs (never started here); see the module docstring.

    Each row holds the plan's columns in order. If anything fails (the rows'
    source included), the jobs opened so far are aborted and the error raised.
    """
    job_ids: list[str] = []
    total = 0
    current = _CsvJob(plan.columns)
    width = len(plan.columns)
    try:
        for row in rows:
            if len(row) != width:
                raise InvalidInputError(f"a row has {len(row)} values for {width} columns")
            current.add(row)
            if current.rows >= plan.rows_per_job or current.buffer.tell() >= plan.job_bytes // 2:
                job_ids.append(_open_job(client, plan, current.data()))
                total += current.rows
                current = _CsvJob(plan.columns)
        if current.rows:
            job_ids.append(_open_job(client, plan, current.data()))
            total += current.rows
    except BaseException:
        for job_id in job_ids:
            _abort_quietly(client, job_id)
        raise
    return WriteTask(partition, tuple(job_ids), total)


def _jobs_of(tasks: Iterable[WriteTask | None]) -> list[str]:
    return [job_id for task in tasks if task is not None for job_id in task.job_ids]


def commit_write(client: Bulk, plan: WritePlan, tasks: Iterable[WriteTask | None]) -> WriteSummary:
    """Start every task's jobs, wait for them, report failed rows (see the module docstring).

    If the commit itself fails partway (a job refused, a request failing), the
    jobs not started yet are aborted, those started are waited for (Bulk jobs
    have no rollback: their rows are loaded) and :class:`WriteCommitError`
    says which is which.
    """
    job_ids = _jobs_of(tasks)
    started: list[str] = []
    details: dict[str, tuple[int, int]] = {}
    ends: dict[str, str] = {}
    try:
        for job_id in job_ids:
            client.upload_complete(job_id)
            started.append(job_id)
        for job_id in job_ids:
            job = client.wait_for_ingest_job(job_id)
            details[job_id] = (job.number_records_processed or 0, job.number_records_failed or 0)
            ends[job_id] = _state(job)
    except SfBulkError as exc:
        raise _partial_commit(client, job_ids, started, details, ends, exc) from exc
    processed = sum(p for p, _ in details.values())
    failed = sum(f for _, f in details.values())
    summary = WriteSummary(tuple(job_ids), processed, failed, details)
    if failed:
        failing = summary.failing_jobs
        path = _write_failed_rows(client, plan, failing) if plan.failed_rows_path else None
        raise WriteFailedError(summary, failed_rows_path=path)
    return summary


class WriteCommitError(SfBulkError):
    """A commit failed partway (its cause is the ``__cause__``): part of the load ran.

    ``started`` maps each job started before the failure to its end state and
    ``(processed, failed)`` counts (``None`` where it could not be learnt):
    those rows are loaded, there is no rollback. ``aborted`` names the jobs
    aborted unstarted: none of their rows was loaded.
    """

    def __init__(
        self,
        cause: SfBulkError,
        started: dict[str, tuple[str, tuple[int, int] | None]],
        aborted: Sequence[str],
    ) -> None:
        self.started = started
        self.aborted = tuple(aborted)
        self.processed = sum(counts[0] for _, counts in started.values() if counts)
        done = [
            f"{job_id} {state}"
            + ("" if counts is None else f" ({counts[0]:,} rows processed, {counts[1]:,} failed)")
            for job_id, (state, counts) in started.items()
        ]
        ran = (
            f"started and not rolled back: {', '.join(done)} ({self.processed:,} rows processed)"
            if done
            else "no job was started"
        )
        stopped = f"; aborted unstarted, nothing loaded: {', '.join(aborted)}" if aborted else ""
        super().__init__(f"the load's commit failed partway ({cause}); {ran}{stopped}")


def _state(job: IngestJobInfo) -> str:
    return "state unknown" if job.state is None else str(job.state.value)


def _partial_commit(
    client: Bulk,
    job_ids: Sequence[str],
    started: Sequence[str],
    details: dict[str, tuple[int, int]],
    ends: dict[str, str],
    cause: SfBulkError,
) -> WriteCommitError:
    """What a commit that failed left: the unstarted jobs aborted, the started ones' outcomes."""
    aborted = [job_id for job_id in job_ids if job_id not in started]
    for job_id in aborted:
        _abort_quietly(client, job_id)
    outcomes: dict[str, tuple[str, tuple[int, int] | None]] = {}
    for job_id in started:
        state, counts = ends.get(job_id, "state unknown"), details.get(job_id)
        if counts is None:
            with contextlib.suppress(SfBulkError):
                job = client.wait_for_ingest_job(job_id, raise_on_failure=False)
                state = _state(job)
                counts = (job.number_records_processed or 0, job.number_records_failed or 0)
        outcomes[job_id] = (state, counts)
    return WriteCommitError(cause, outcomes, aborted)


def _failed_rows(client: Bulk, job_ids: Sequence[str]) -> Iterator[dict[str, str]]:
    for job_id in job_ids:
        for result in client.iter_ingest_results(job_id, "failed"):
            error = result.error
            text = "" if error is None else f"{error.status_code}:{error.message}"
            yield {"sf__Job": job_id, "sf__Error": text, **result.values}


def _write_failed_rows(client: Bulk, plan: WritePlan, job_ids: Sequence[str]) -> str:
    """The failed rows as one CSV file (header first) under ``failed_rows_path``."""
    assert plan.failed_rows_path is not None
    directory = Path(plan.failed_rows_path)
    header = ["sf__Job", "sf__Error", *plan.columns]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"failed-{job_ids[0]}.csv"
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, header, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            for row in _failed_rows(client, job_ids):
                writer.writerow(row)
    except OSError as exc:
        raise InvalidInputError(
            f"could not write the failed rows under {directory}: {exc.strerror}"
        ) from exc
    return str(directory)


def abort_write(client: Bulk, tasks: Iterable[WriteTask | None]) -> list[str]:
    """Abort every job the tasks opened (those already finished are left); their ids."""
    job_ids = _jobs_of(tasks)
    for job_id in job_ids:
        _abort_quietly(client, job_id)
    return job_ids
