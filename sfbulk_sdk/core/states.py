"""Job and batch state rules, in one table per API (spec §4).

Bulk API 2.0 jobs (§4.2 and §4.3) go ``Open → UploadComplete → InProgress →
JobComplete | Failed`` (query jobs start at ``UploadComplete``), or end
``Aborted``; ``Failed`` arrives on HTTP 200 with ``errorMessage``.

Bulk API 1.0 batches go ``Queued → InProgress → Completed | Failed``, or
``Queued → NotProcessed`` (the original batch of a PK-chunked query, or a
batch still queued when its job was aborted). A job is ``Open`` until it is
closed or aborted; its batches finish after that. Waiting is driven by these
tables only: nothing else in the SDK compares state names.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import BatchFailedError, JobFailedError, PollTimeoutError
from ..models.bulk2 import Bulk2JobState, IngestJobInfo, QueryJobInfo
from ..models.enums import BatchState, JobState
from ..models.jobs import BatchInfo, JobInfo

__all__ = [
    "BATCH_TERMINAL",
    "BULK2_TERMINAL",
    "JOB_ACCEPTS_BATCHES",
    "all_batches_done",
    "batch_finished",
    "batch_has_results",
    "batch_is_done",
    "bulk2_job_finished",
    "job_needs_no_wait",
    "poll_timeout",
]

#: Bulk 1.0 batch states that never change again.
BATCH_TERMINAL = frozenset({BatchState.COMPLETED, BatchState.FAILED, BatchState.NOT_PROCESSED})

#: Bulk 1.0 job states in which batches may be added.
JOB_ACCEPTS_BATCHES = frozenset({JobState.OPEN})


def batch_is_done(batch: BatchInfo) -> bool:
    """True once the batch is ``Completed``, ``Failed`` or ``NotProcessed``."""
    return batch.state in BATCH_TERMINAL


def batch_has_results(batch: BatchInfo) -> bool:
    """False for a ``NotProcessed`` batch: a PK-chunked original or an aborted one holds none."""
    return batch.state is not BatchState.NOT_PROCESSED


def batch_finished(batch: BatchInfo, *, raise_on_failure: bool) -> bool:
    """True when a batch is done; a ``Failed`` one raises :class:`BatchFailedError` if asked."""
    if batch.state is BatchState.FAILED and raise_on_failure:
        raise BatchFailedError(batch.job_id, batch.id, batch.state_message)
    return batch.state in BATCH_TERMINAL


def all_batches_done(batches: Iterable[BatchInfo]) -> bool:
    """True when every batch is done (a PK-chunked original ``NotProcessed`` counts,
    and so do batches an abort left ``NotProcessed``)."""
    return all(b.state in BATCH_TERMINAL for b in batches)


def job_needs_no_wait(job: JobInfo) -> bool:
    """A job with no batches needs no more waiting once it no longer accepts batches."""
    return job.state is not None and job.state not in JOB_ACCEPTS_BATCHES


def poll_timeout(job_id: str, batch_id: str | None, elapsed: float) -> PollTimeoutError:
    """The error for a wait that reached its deadline (the work may still finish)."""
    what = f"batch {batch_id}" if batch_id is not None else f"job {job_id}"
    return PollTimeoutError(
        f"{what} not finished after {elapsed:.0f}s; it keeps running on the server "
        f"(job {job_id}): wait again or re-attach to it later",
        job_id=job_id,
        batch_id=batch_id,
    )


#: Bulk 2.0 job states that never change again.
BULK2_TERMINAL = frozenset(
    {Bulk2JobState.JOB_COMPLETE, Bulk2JobState.FAILED, Bulk2JobState.ABORTED}
)


def bulk2_job_finished(job: IngestJobInfo | QueryJobInfo, *, raise_on_failure: bool) -> bool:
    """True once a Bulk 2.0 job is done; a ``Failed`` one raises :class:`JobFailedError`."""
    if job.state is Bulk2JobState.FAILED and raise_on_failure:
        raise JobFailedError(
            job.id or "unknown",
            job.error_message,
            records_processed=job.number_records_processed,
            records_failed=getattr(job, "number_records_failed", None),
        )
    return job.state in BULK2_TERMINAL
