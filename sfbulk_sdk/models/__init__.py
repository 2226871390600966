"""Typed pydantic models of the Salesforce Bulk API wire documents."""

from .base import JsonValue, WireModel
from .enums import BatchState, ConcurrencyMode, ContentType, JobState, Operation
from .jobs import BatchInfo, BatchInfoList, BulkErrorInfo, JobInfo
from .query import QueryBatchResult
from .results import BatchResult, QueryResultList, RecordError, RecordResult
from .session import LoginResult, Session, UserInfo

__all__ = [
    "BatchInfo",
    "BatchInfoList",
    "BatchResult",
    "BatchState",
    "BulkErrorInfo",
    "ConcurrencyMode",
    "ContentType",
    "JobInfo",
    "JobState",
    "JsonValue",
    "LoginResult",
    "Operation",
    "QueryBatchResult",
    "QueryResultList",
    "RecordError",
    "RecordResult",
    "Session",
    "UserInfo",
    "WireModel",
]
