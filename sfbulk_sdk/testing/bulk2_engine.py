"""The Bulk API 2.0 engine: ingest and query jobs, moving along with the org's clock.

:class:`Bulk2Engine` keeps every Bulk 2.0 job of the org. A job that became
``UploadComplete`` (its data closed, a multipart create, any query job) waits
the org's ``queue_time``, is ``InProgress`` for its ``processing_time`` and is
then processed at once, as of that moment: an ingest job writes its rows
through the same :class:`~sfbulk_sdk.testing.store.Writer` as Bulk 1.0 batches
(validation, required fields, injected record errors), in internal batches of
10,000 rows that count toward the org's daily batch allocation; a query job
runs its SOQL and keeps the result rows. With the default (zero) times a job
is finished by the next request, as Bulk 1.0 batches are.

Job-level failures leave the job ``Failed`` with an ``errorMessage`` in
Salesforce's ``Code : detail`` form (spec §3.3): an unknown column
(``InvalidBatch : Field name not found : X``), data in the wrong line ending
(``ClientInputError : LineEnding is invalid on user data. ...``), a CSV syntax
error, an exhausted batch allocation.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import datetime

from ..core.clock import Clock
from ..models.bulk2 import Bulk2JobState, Bulk2Operation
from ..models.enums import Operation
from .bulk2_csv import check_line_ending, raw_header
from .bulk2_jobs import Bulk2Job, IngestJob, QueryJob, seal_ingest, seal_query
from .formats import BatchFailure, CsvUpload, QueryShape, plan_columns, write_rows
from .ids import normalize_id
from .limits import RollingAllowance
from .processing import Engine, compile_soql, run_guarded
from .schema import FieldType
from .settings import OrgSettings
from .store import Database, Writer

__all__ = ["INTERNAL_BATCH_ROWS", "Bulk2Engine"]

#: Rows per internal batch of an ingest job (each counts toward the daily batch allocation).
INTERNAL_BATCH_ROWS = 10_000
_NUMBERS = frozenset({FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT})


def _lenient_rows(body: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of data that will not be processed, as far as they can be read."""
    upload = CsvUpload(body, delimiter)
    try:
        upload.header()
        return raw_header(body, delimiter), upload.rows()
    except BatchFailure:
        return raw_header(body, delimiter), []


class Bulk2Engine(Engine):
    """Every Bulk 2.0 job of one org, and their processing. The caller holds the org's lock.

    ``job_ids`` issues job ids (shared with Bulk 1.0, so that no two jobs have
    the same id); ``batches`` is the org's daily batch allocation, shared with
    Bulk 1.0.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: OrgSettings,
        *,
        org_id: str,
        job_ids: Callable[[], str],
        batches: RollingAllowance,
    ) -> None:
        super().__init__(db, clock, settings)
        self._org_id = org_id
        self.next_id = job_ids
        self.batches = batches
        self.query_jobs_allowance = RollingAllowance(
            clock, lambda: settings.bulk2_max_query_jobs_per_day
        )
        self._ingest: dict[str, IngestJob] = {}
        self._query: dict[str, QueryJob] = {}
        self._pending: list[Bulk2Job] = []

    def __repr__(self) -> str:
        return f"Bulk2Engine(ingest_jobs={len(self._ingest)}, query_jobs={len(self._query)})"

    # -- registry --------------------------------------------------------------

    @property
    def job_count(self) -> int:
        """How many Bulk 2.0 jobs the org holds."""
        return len(self._ingest) + len(self._query)

    def ingest_job(self, job_id: str) -> IngestJob | None:
        """An ingest job by id (15 or 18 characters)."""
        return self._ingest.get(normalize_id(job_id) or "")

    def query_job(self, job_id: str) -> QueryJob | None:
        """A query job by id (15 or 18 characters)."""
        return self._query.get(normalize_id(job_id) or "")

    def ingest_jobs(self) -> list[IngestJob]:
        """Every ingest job, oldest first."""
        return list(self._ingest.values())

    def query_jobs(self) -> list[QueryJob]:
        """Every query job, oldest first."""
        return list(self._query.values())

    def add(self, job: IngestJob | QueryJob) -> None:
        """Register a job built by the HTTP layer; one already complete starts waiting."""
        if isinstance(job, IngestJob):
            self._ingest[job.id] = job
        else:
            self._query[job.id] = job
        if job.state is Bulk2JobState.UPLOAD_COMPLETE:
            job.ready = job.created
            self._pending.append(job)

    def delete(self, job: IngestJob | QueryJob) -> None:
        """Forget a job (its results go with it)."""
        if isinstance(job, IngestJob):
            self._ingest.pop(job.id, None)
        else:
            self._query.pop(job.id, None)
        if job in self._pending:
            self._pending.remove(job)

    def seed(self, job: Bulk2Job) -> int:
        """The seed ordering the job's result rows (the org's setting, or one per job)."""
        if self._settings.bulk2_result_seed is not None:
            return self._settings.bulk2_result_seed
        return zlib.crc32(f"{self._org_id}/{job.id}".encode())

    # -- changes ---------------------------------------------------------------

    def complete_upload(self, job: IngestJob) -> None:
        """``Open -> UploadComplete``: the job waits for processing."""
        now = self._clock()
        job.state = Bulk2JobState.UPLOAD_COMPLETE
        job.ready = now
        job.touch(now)
        self._pending.append(job)

    def abort(self, job: IngestJob | QueryJob) -> None:
        """Abort a job that has not finished: nothing of it is processed."""
        now = self._clock()
        job.state = Bulk2JobState.ABORTED
        job.finished = now
        job.touch(now)
        if job in self._pending:
            self._pending.remove(job)
        if isinstance(job, IngestJob):
            if job.body is not None:
                job.header, job.unprocessed = _lenient_rows(job.body, job.delimiter.char)
                job.body = None
            seal_ingest(job, self.seed(job))

    # -- processing ------------------------------------------------------------

    def advance(self) -> None:
        """Move jobs along to the clock's current time."""
        if not self._pending:
            return
        self._pending = self._schedule().sweep(
            self._pending,
            ready=lambda job: job.ready,
            started=lambda job: job.started,
            begin=_begin,
            run=self._run,
        )

    def _run(self, job: Bulk2Job, at: datetime) -> None:
        failure = run_guarded(lambda: self._process(job, at))
        if failure is not None:
            job.state = Bulk2JobState.FAILED
            job.error_message = failure
        if job.state is Bulk2JobState.IN_PROGRESS:
            job.state = Bulk2JobState.JOB_COMPLETE
        if isinstance(job, IngestJob):
            seal_ingest(job, self.seed(job))
        spent = int((at - (job.started or at)).total_seconds() * 1000)
        job.total_ms = spent + job.processed // 10
        job.finished = at
        job.touch(at)

    def _process(self, job: Bulk2Job, at: datetime) -> None:
        if isinstance(job, IngestJob):
            self._run_ingest(job, at)
        elif isinstance(job, QueryJob):
            self._run_query(job, at)

    def _run_ingest(self, job: IngestJob, at: datetime) -> None:
        body, job.body = job.body, None
        delimiter = job.delimiter.char
        if body is None:
            raise BatchFailure("ClientInputError : No data was uploaded for this job")
        try:
            check_line_ending(body, job.line_ending)
            upload = CsvUpload(body, delimiter)
            header = upload.header()
            job.header = raw_header(body, delimiter)
            job.rows = upload.rows()
        except BatchFailure:
            job.header, job.unprocessed = _lenient_rows(body, delimiter)
            raise
        del body, upload  # the rows hold what is needed of the data
        table = self._db.require(job.sobject)
        try:
            plans = plan_columns(self._db, table, header)
        except BatchFailure:
            job.unprocessed, job.rows = job.rows, []
            raise
        job.number_columns = tuple(
            i for i, plan in enumerate(plans) if plan.spec.field_type in _NUMBERS
        )
        writer = Writer(
            self._db,
            table,
            Operation(job.operation.value),
            user_id=job.created_by,
            now=at,
            external_id_field=job.external_id_field,
            api_version=job.version,
        )
        rows = job.rows
        try:
            for first in range(0, len(rows), INTERNAL_BATCH_ROWS):
                if not self.batches.left():
                    raise BatchFailure(
                        "ExceededQuota : The org exceeded its allocation of "
                        f"{self.batches.limit} batches in a rolling 24-hour period"
                    )
                self.batches.take(at=at)
                chunk = rows[first : first + INTERNAL_BATCH_ROWS]
                write_rows(plans, chunk, writer, job.outcomes, first_line=first + 2)
        except BatchFailure:
            job.unprocessed = rows[len(job.outcomes) :]
            del rows[len(job.outcomes) :]
            raise
        finally:
            table.version += 1
            job.failed = sum(1 for o in job.outcomes if not o.success)

    def _run_query(self, job: QueryJob, at: datetime) -> None:
        compiled = compile_soql(
            job.soql, self._db, include_deleted=job.operation is Bulk2Operation.QUERY_ALL, now=at
        )
        rows = compiled.run()
        job.shape = QueryShape(compiled, job.api_version)
        job.chunkable = not compiled.order and compiled.limit is None
        seal_query(job, rows)


def _begin(job: Bulk2Job, at: datetime) -> None:
    job.state = Bulk2JobState.IN_PROGRESS
    job.started = at
    job.touch(at)
