"""sfbulk_sdk: a typed Python SDK for the Salesforce Bulk API.

``Bulk`` (sync) and ``AsyncBulk`` (async) share one sans-IO core
(:mod:`sfbulk_sdk.core`); models live in :mod:`sfbulk_sdk.models`, errors in
:mod:`sfbulk_sdk.errors`, authenticators in :mod:`sfbulk_sdk.auth`, session
stores in :mod:`sfbulk_sdk.stores` and the fake org in :mod:`sfbulk_sdk.testing`.
"""

from .aio import AsyncBulk
from .client import Bulk
from .core.bulk1 import DEFAULT_API_VERSION, PkChunking
from .core.policy import PollPolicy, RetryPolicy
from .errors import (
    APIError,
    BatchFailedError,
    InvalidInputError,
    InvalidSessionError,
    LoginError,
    PollTimeoutError,
    SfBulkError,
    TransportError,
)
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
    QueryBatchResult,
    QueryResultList,
    RecordError,
    RecordResult,
    Session,
    UserInfo,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_API_VERSION",
    "APIError",
    "AsyncBulk",
    "BatchFailedError",
    "BatchInfo",
    "BatchInfoList",
    "BatchResult",
    "BatchState",
    "Bulk",
    "BulkErrorInfo",
    "ConcurrencyMode",
    "ContentType",
    "InvalidInputError",
    "InvalidSessionError",
    "JobInfo",
    "JobState",
    "LoginError",
    "LoginResult",
    "Operation",
    "PkChunking",
    "PollPolicy",
    "PollTimeoutError",
    "QueryBatchResult",
    "QueryResultList",
    "RecordError",
    "RecordResult",
    "RetryPolicy",
    "Session",
    "SfBulkError",
    "TransportError",
    "UserInfo",
    "__version__",
]
