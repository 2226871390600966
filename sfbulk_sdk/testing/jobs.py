"""Bulk API 1.0 jobs and batches inside the fake org, and their status documents.

A job is ``Open`` until closed or aborted; its batches go ``Queued ->
InProgress -> Completed | Failed`` (or ``Queued -> NotProcessed`` when the job
is aborted, and for the original batch of a PK-chunked query). Counters in
``jobInfo`` are always derived from the batches, never stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import BatchInfo, BatchInfoList, JobInfo
from ..models.enums import BatchState, ConcurrencyMode, ContentType, JobState, Operation
from .formats import QueryShape
from .store import Outcome

__all__ = [
    "Batch",
    "ChunkingRequest",
    "Job",
    "batch_list_json",
    "batch_list_xml",
]


@dataclass(frozen=True)
class ChunkingRequest:
    """The ``Sforce-Enable-PKChunking`` settings a query job was created with.

    The fake's own parsed copy of the header (the client builds it with
    :class:`sfbulk_sdk.PkChunking`): ``TRUE`` gives the defaults, 100,000
    records per chunk from the first record.
    """

    chunk_size: int = 100_000
    start_row: str | None = None
    parent: str | None = None


@dataclass(eq=False)
class Batch:
    """One batch: what was uploaded, where it is in its life, and its results."""

    id: str
    job: Job
    body: str
    created: datetime
    #: When the batch last changed; it starts at ``created``.
    modstamp: datetime = field(init=False)
    state: BatchState = BatchState.QUEUED
    state_message: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    processed: int = 0
    failed: int = 0
    total_ms: int = 0
    api_active_ms: int = 0
    outcomes: list[Outcome] | None = None
    shape: QueryShape | None = None
    result_files: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    id_range: tuple[str | None, str | None] | None = None

    def __post_init__(self) -> None:
        self.modstamp = self.created

    def info(self) -> BatchInfo:
        """The batch's ``batchInfo``."""
        return BatchInfo(
            id=self.id,
            job_id=self.job.id,
            state=self.state,
            state_message=self.state_message,
            created_date=self.created,
            system_modstamp=self.modstamp,
            number_records_processed=self.processed,
            number_records_failed=self.failed,
            total_processing_time=self.total_ms,
            api_active_processing_time=self.api_active_ms,
            apex_processing_time=0,
        )

    def info_json(self) -> str:
        """``batchInfo`` as Salesforce writes JSON (sorted keys, ``stateMessage`` null)."""
        return json.dumps(_batch_dict(self.info()), sort_keys=True, separators=(",", ":"))


def _batch_dict(info: BatchInfo) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(info.to_wire_json())
    data.setdefault("stateMessage", None)
    return data


def batch_list_json(batches: list[Batch]) -> str:
    """``{"batchInfo": [...]}``, the JSON batch list."""
    items = [_batch_dict(b.info()) for b in batches]
    return json.dumps({"batchInfo": items}, sort_keys=True, separators=(",", ":"))


def batch_list_xml(batches: list[Batch]) -> str:
    """The ``batchInfoList`` XML document."""
    return BatchInfoList(batch_info=[b.info() for b in batches]).to_xml()


@dataclass(eq=False)
class Job:
    """One Bulk 1.0 job."""

    id: str
    operation: Operation
    sobject: str
    created_by: str
    created: datetime
    #: When the job last changed; it starts at ``created``.
    modstamp: datetime = field(init=False)
    content_type: ContentType
    api_version: str
    concurrency: ConcurrencyMode = ConcurrencyMode.PARALLEL
    external_id_field: str | None = None
    assignment_rule_id: str | None = None
    pk_chunking: ChunkingRequest | None = None
    state: JobState = JobState.OPEN
    batches: list[Batch] = field(default_factory=list)
    field_mapping: dict[str, str] = field(default_factory=dict)
    field_constants: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.modstamp = self.created

    def info(self) -> JobInfo:
        """The job's ``jobInfo``, counters summed over its batches."""
        counts = dict.fromkeys(BatchState, 0)
        processed = failed = total_ms = api_ms = 0
        for batch in self.batches:
            counts[batch.state] += 1
            processed += batch.processed
            failed += batch.failed
            total_ms += batch.total_ms
            api_ms += batch.api_active_ms
        return JobInfo(
            id=self.id,
            operation=self.operation,
            object=self.sobject,
            created_by_id=self.created_by,
            created_date=self.created,
            system_modstamp=self.modstamp,
            state=self.state,
            external_id_field_name=self.external_id_field,
            concurrency_mode=self.concurrency,
            content_type=self.content_type,
            number_batches_queued=counts[BatchState.QUEUED],
            number_batches_in_progress=counts[BatchState.IN_PROGRESS],
            number_batches_completed=counts[BatchState.COMPLETED],
            number_batches_failed=counts[BatchState.FAILED],
            number_batches_total=len(self.batches),
            number_records_processed=processed,
            number_retries=0,
            api_version=float(self.api_version),
            assignment_rule_id=self.assignment_rule_id,
            number_records_failed=failed,
            total_processing_time=total_ms,
            api_active_processing_time=api_ms,
            apex_processing_time=0,
        )

    def info_json(self) -> str:
        """``jobInfo`` as live Salesforce writes JSON: sorted keys, explicit nulls."""
        data: dict[str, Any] = json.loads(self.info().to_wire_json())
        data.setdefault("assignmentRuleId", None)
        data.setdefault("externalIdFieldName", None)
        data["fastPathEnabled"] = False
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @property
    def is_query(self) -> bool:
        """True for ``query`` and ``queryAll`` jobs."""
        return self.operation.is_query
