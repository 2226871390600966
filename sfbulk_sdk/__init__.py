"""sfbulk_sdk: a typed Python SDK for the Salesforce Bulk API.

``Bulk`` (sync) and ``AsyncBulk`` (async) share one sans-IO core
(:mod:`sfbulk_sdk.core`); models live in :mod:`sfbulk_sdk.models`, errors in
:mod:`sfbulk_sdk.errors`, authenticators in :mod:`sfbulk_sdk.auth`, session
stores in :mod:`sfbulk_sdk.stores` and the fake org in :mod:`sfbulk_sdk.testing`.
"""

from . import errors
from .aio import AsyncBulk
from .client import Bulk
from .core.bulk1 import DEFAULT_API_VERSION, PkChunking
from .core.outcomes import LoadResult, RecordOutcome
from .core.policy import PollPolicy, RetryPolicy
from .core.progress import ProgressEvent
from .errors import *  # noqa: F403 - every class of errors.__all__, re-exported below
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
    "AsyncBulk",
    "BatchInfo",
    "BatchInfoList",
    "BatchResult",
    "BatchState",
    "Bulk",
    "BulkErrorInfo",
    "ConcurrencyMode",
    "ContentType",
    "JobInfo",
    "JobState",
    "LoadResult",
    "LoginResult",
    "Operation",
    "PkChunking",
    "PollPolicy",
    "ProgressEvent",
    "QueryBatchResult",
    "QueryResultList",
    "RecordError",
    "RecordOutcome",
    "RecordResult",
    "RetryPolicy",
    "Session",
    "UserInfo",
    "__version__",
]
# Every error class, as sfbulk_sdk.errors lists them.
__all__ += errors.__all__
