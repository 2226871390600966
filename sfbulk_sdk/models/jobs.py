"""Bulk API 1.0 job and batch documents: ``jobInfo``, ``batchInfo``, ``batchInfoList``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from .base import ListDocument, WireList, WireModel, WireText
from .enums import BatchState, ConcurrencyMode, ContentType, JobState, Operation

__all__ = ["BatchInfo", "BatchInfoList", "BulkErrorInfo", "JobInfo"]


class JobInfo(WireModel):
    """A Bulk API 1.0 job (``jobInfo``). Fields are in the XSD sequence order."""

    xml_root = "jobInfo"

    id: str | None = None
    operation: Operation | None = None
    sobject: str | None = Field(default=None, alias="object")
    created_by_id: str | None = None
    created_date: datetime | None = None
    system_modstamp: datetime | None = None
    state: JobState | None = None
    external_id_field_name: str | None = None
    concurrency_mode: ConcurrencyMode | None = None
    content_type: ContentType | None = None
    number_batches_queued: int | None = None
    number_batches_in_progress: int | None = None
    number_batches_completed: int | None = None
    number_batches_failed: int | None = None
    number_batches_total: int | None = None
    number_records_processed: int | None = None
    number_retries: int | None = None
    api_version: float | None = None
    assignment_rule_id: str | None = None
    number_records_failed: int | None = None
    total_processing_time: int | None = None
    api_active_processing_time: int | None = None
    apex_processing_time: int | None = None

    @field_validator("concurrency_mode", mode="before")
    @classmethod
    def _concurrency_from_int(cls, value: Any) -> Any:
        # simple-salesforce sends 0/1 for Parallel/Serial in JSON.
        if isinstance(value, int) and not isinstance(value, bool):
            return ConcurrencyMode.SERIAL if value == 1 else ConcurrencyMode.PARALLEL
        return value


class BatchInfo(WireModel):
    """A Bulk API 1.0 batch (``batchInfo``)."""

    xml_root = "batchInfo"

    id: str
    job_id: str
    state: BatchState
    state_message: str | None = None
    created_date: datetime | None = None
    system_modstamp: datetime | None = None
    number_records_processed: int = 0
    number_records_failed: int = 0
    total_processing_time: int = 0
    api_active_processing_time: int = 0
    apex_processing_time: int = 0


class BatchInfoList(ListDocument[BatchInfo]):
    """All batches of a job (``batchInfoList``; JSON ``{"batchInfo": [...]}``)."""

    xml_root = "batchInfoList"
    items_field = "batch_info"

    batch_info: WireList[BatchInfo] = Field(default_factory=list)


class BulkErrorInfo(WireModel):
    """The ``<error>`` body of a failed Bulk API 1.0 request."""

    xml_root = "error"

    exception_code: str
    exception_message: WireText = ""
