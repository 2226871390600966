"""The Bulk API 1.0 engine: jobs and batches, and batches moving along with the clock.

:class:`Bulk1Engine` keeps every job and batch of the org. Batches advance when
the clock passes their queue and processing times (:meth:`Bulk1Engine.advance`,
called with the org's lock held before every request and every read); with the
default (zero) times a batch is ``Queued`` in the reply that creates it and
finished on the next request, so simple clients work without sleeping and tests
stay deterministic. Processing a batch writes its records through the tables'
:class:`~sfbulk_sdk.testing.store.Writer` or answers its query.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta

from ..core.clock import Clock
from ..models import BatchInfo, JobInfo
from ..models.enums import BatchState, ConcurrencyMode, JobState, Operation
from .formats import BatchFailure, QueryShape, ingest, split_files
from .ids import IdGenerator, normalize_id
from .jobs import Batch, Job
from .limits import RollingAllowance
from .processing import Engine, compile_soql, run_guarded
from .settings import OrgSettings
from .store import Database, Outcome, Table, Writer

__all__ = ["Bulk1Engine"]


class Bulk1Engine(Engine):
    """Every Bulk 1.0 job and batch of one org, and the processing of its batches.

    The caller holds the org's lock around every method. ``batches`` is the
    org's daily batch allocation, shared with Bulk 2.0 ingest jobs.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: OrgSettings,
        batches: RollingAllowance | None = None,
    ) -> None:
        super().__init__(db, clock, settings)
        self._ids = {p: IdGenerator(p) for p in ("750", "751", "752")}
        self._jobs: dict[str, Job] = {}
        self._batches: dict[str, Batch] = {}
        self._pending: list[Batch] = []
        if batches is None:
            batches = RollingAllowance(clock, lambda: settings.max_batches_per_day)
        self.batch_allowance = batches

    def __repr__(self) -> str:
        return f"Bulk1Engine(jobs={len(self._jobs)}, batches={len(self._batches)})"

    # -- ids and lookups -------------------------------------------------------

    def next_id(self, prefix: str, *, length: int = 18) -> str:
        """A fresh id for a job (750), batch (751) or result (752)."""
        gen = self._ids[prefix]
        return gen.next18() if length == 18 else gen.next15()

    def new_job(self, job: Job) -> Job:
        """Register a job built by the HTTP layer (its id from :meth:`next_id`)."""
        self._jobs[job.id] = job
        return job

    def get_job(self, job_id: str) -> Job | None:
        """A job by id (15 or 18 characters)."""
        return self._jobs.get(normalize_id(job_id) or "")

    def get_batch(self, job: Job, batch_id: str) -> Batch | None:
        """A batch of ``job`` by id."""
        batch = self._batches.get(normalize_id(batch_id) or "")
        return batch if batch is not None and batch.job is job else None

    @property
    def job_count(self) -> int:
        """How many jobs the org holds."""
        return len(self._jobs)

    @property
    def batch_count(self) -> int:
        """How many batches the org holds (PK-chunk batches included)."""
        return len(self._batches)

    def job_infos(self) -> list[JobInfo]:
        """Every job's ``jobInfo``, oldest first."""
        return [job.info() for job in self._jobs.values()]

    def all_jobs(self) -> list[Job]:
        """Every job, oldest first."""
        return list(self._jobs.values())

    def job_info(self, job_id: str) -> JobInfo:
        """The ``jobInfo`` of a job; ``KeyError`` if there is none."""
        return self._require(job_id).info()

    def batch_infos(self, job_id: str) -> list[BatchInfo]:
        """The ``batchInfo`` of every batch of a job; ``KeyError`` if there is none."""
        return [b.info() for b in self._require(job_id).batches]

    def _require(self, job_id: str) -> Job:
        job = self.get_job(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r}")
        return job

    # -- changes ---------------------------------------------------------------

    def batch_allowance_left(self) -> int:
        """Batches the org may still create in the rolling 24 hours (spec §5.1)."""
        return self.batch_allowance.left()

    def charge_batch(self) -> None:
        """Count a batch that was refused (sent to a job no longer open) against the
        daily allocation, as Salesforce does (spec §9)."""
        self.batch_allowance.take(at=self._clock())

    def add_batch(self, job: Job, body: str) -> Batch:
        """Queue a batch on an open job."""
        now = self._clock()
        batch = Batch(id=self.next_id("751"), job=job, created=now, body=body)
        job.batches.append(batch)
        job.modstamp = now
        self._batches[batch.id] = batch
        self._pending.append(batch)
        self.batch_allowance.take(at=now)
        return batch

    def abort_job(self, job: Job) -> None:
        """Abort: queued batches become ``NotProcessed``, running ones finish."""
        now = self._clock()
        job.state = JobState.ABORTED
        job.modstamp = now
        for batch in job.batches:
            if batch.state is BatchState.QUEUED:
                batch.state = BatchState.NOT_PROCESSED
                batch.modstamp = batch.finished = now
                if batch in self._pending:
                    self._pending.remove(batch)

    # -- processing ------------------------------------------------------------

    def advance(self) -> None:
        """Move batches along to the clock's current time."""
        if not self._pending:
            return
        self._pending = self._schedule().sweep(
            self._pending,
            ready=self._ready,
            started=lambda batch: batch.started,
            begin=_begin,
            run=self._run,
        )

    def _ready(self, batch: Batch) -> datetime | None:
        """Since when a queued batch may start: a serial job's waits for the one before it."""
        if batch.job.concurrency is not ConcurrencyMode.SERIAL:
            return batch.created
        position = batch.job.batches.index(batch)
        if not position:
            return batch.created
        previous = batch.job.batches[position - 1].finished
        if previous is None:
            return None
        return max(batch.created, previous - timedelta(seconds=self._settings.queue_time))

    def _run(self, batch: Batch, at: datetime) -> None:
        """Process a batch as of time ``at``: write records or answer the query."""
        job = batch.job
        failure = run_guarded(
            lambda: self._run_query(batch, at) if job.is_query else self._run_ingest(batch, at)
        )
        if failure is not None:
            batch.state = BatchState.FAILED
            batch.state_message = failure
        if batch.state is BatchState.IN_PROGRESS:
            batch.state = BatchState.COMPLETED
        if batch.state is not BatchState.NOT_PROCESSED:
            spent = int((at - (batch.started or at)).total_seconds() * 1000)
            batch.total_ms = spent + batch.processed // 10
            batch.api_active_ms = batch.total_ms * 6 // 10
        batch.finished = batch.modstamp = at
        job.modstamp = at

    def _run_ingest(self, batch: Batch, at: datetime) -> None:
        job = batch.job
        table = self._db.require(job.sobject)
        writer = Writer(
            self._db,
            table,
            job.operation,
            user_id=job.created_by,
            now=at,
            external_id_field=job.external_id_field,
            api_version=float(job.api_version),
        )
        try:
            outcomes: list[Outcome] = ingest(
                batch.body,
                job.content_type,
                self._db,
                table,
                writer,
                max_records=self._settings.max_batch_records,
            )
        finally:
            table.version += 1
        batch.outcomes = outcomes
        batch.processed = len(outcomes)
        batch.failed = sum(1 for o in outcomes if not o.success)

    def _run_query(self, batch: Batch, at: datetime) -> None:
        job = batch.job
        compiled = compile_soql(
            batch.body, self._db, include_deleted=job.operation is Operation.QUERY_ALL, now=at
        )
        if compiled.table.name != job.sobject:
            raise BatchFailure(
                "InvalidBatch : Failed to process query: INVALID_TYPE_FOR_OPERATION: The root "
                f"entity of the requested query ({compiled.table.name}) does not match the "
                f"entity of the requested Bulk API Job ({job.sobject})."
            )
        table = compiled.table
        chunkable = not compiled.order and not compiled.filters_on_id
        if job.pk_chunking and batch.id_range is None and chunkable:
            self._chunk(batch, table, at)
            return
        if batch.id_range is not None:
            ids = table.sorted_ids()
            low, high = batch.id_range
            first = bisect.bisect_left(ids, low) if low else 0
            last = bisect.bisect_left(ids, high) if high else len(ids)
            rows = table.rows
            rows_out = compiled.run(rows[i] for i in ids[first:last] if i in rows)
        else:
            rows_out = compiled.run()
        batch.shape = QueryShape(compiled, job.api_version)
        for chunk in split_files(rows_out, self._settings.query_result_file_rows):
            batch.result_files[self.next_id("752", length=15)] = chunk
        batch.processed = len(rows_out)

    def _chunk(self, original: Batch, table: Table, at: datetime) -> None:
        """PK chunking: the original batch ends ``NotProcessed``; one batch per Id range."""
        settings = original.job.pk_chunking
        assert settings is not None
        ids = table.sorted_ids()
        start = 0
        low: str | None = None
        if settings.start_row:
            low = normalize_id(settings.start_row) or settings.start_row
            start = bisect.bisect_left(ids, low)
        bounds: list[str | None] = list(ids[start :: settings.chunk_size]) or [low]
        bounds[0] = low
        for n, lower in enumerate(bounds):
            upper = bounds[n + 1] if n + 1 < len(bounds) else None
            chunk = Batch(
                id=self.next_id("751"),
                job=original.job,
                created=at,
                body=original.body,
                id_range=(lower, upper),
            )
            original.job.batches.append(chunk)
            self._batches[chunk.id] = chunk
            self._pending.append(chunk)
            self.batch_allowance.take(at=at)  # each chunk counts toward the daily allocation
        original.state = BatchState.NOT_PROCESSED


def _begin(batch: Batch, at: datetime) -> None:
    batch.state = BatchState.IN_PROGRESS
    batch.started = batch.modstamp = at
