"""sfbulk_sdk: a typed Python SDK for the Salesforce Bulk API."""

from .models import (
    BatchInfo,
    BatchInfoList,
    BatchResult,
    BatchState,
    BulkErrorInfo,
    ConcurrencyMode,
    ContentType,
    JobInfo,
    JobState,
    LoginResult,
    Operation,
    QueryResultList,
    RecordError,
    RecordResult,
    Session,
    UserInfo,
)

__version__ = "0.1.0"

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
    "LoginResult",
    "Operation",
    "QueryResultList",
    "RecordError",
    "RecordResult",
    "Session",
    "UserInfo",
    "__version__",
]
