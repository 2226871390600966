"""sfbulk_sdk: a typed Python SDK for the Salesforce Bulk API.

``Bulk`` (sync) and ``AsyncBulk`` (async) share one sans-IO core
(:mod:`sfbulk_sdk.core`); models live in :mod:`sfbulk_sdk.models`, errors in
:mod:`sfbulk_sdk.errors`, authenticators in :mod:`sfbulk_sdk.auth`, session
stores in :mod:`sfbulk_sdk.stores` and the fake org in :mod:`sfbulk_sdk.testing`.

Importing the package costs little: the errors are imported at once, every
other name on its first use (``from sfbulk_sdk import Bulk`` imports the sync
client, not the async one; neither imports the other's event loop machinery).
"""

import importlib as _importlib
import typing as _typing

from . import errors
from .errors import *  # noqa: F403 - every class of errors.__all__, re-exported below

if _typing.TYPE_CHECKING:
    from .aio import AsyncBulk
    from .client import Bulk
    from .core.bulk1 import DEFAULT_API_VERSION, PkChunking
    from .core.outcomes import LoadResult, RecordOutcome
    from .core.policy import PollPolicy, RetryPolicy
    from .core.progress import ProgressEvent
    from .models.enums import BatchState, ConcurrencyMode, ContentType, JobState, Operation
    from .models.jobs import BatchInfo, BatchInfoList, BulkErrorInfo, JobInfo
    from .models.query import QueryBatchResult
    from .models.results import BatchResult, QueryResultList, RecordError, RecordResult
    from .models.session import LoginResult, Session, UserInfo

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

_MODEL_NAMES = """BatchInfo BatchInfoList BatchResult BatchState BulkErrorInfo ConcurrencyMode
ContentType JobInfo JobState LoginResult Operation QueryBatchResult QueryResultList RecordError
RecordResult Session UserInfo"""
#: Where each lazily imported name lives (relative to this package).
_LAZY = {
    "AsyncBulk": ".aio",
    "Bulk": ".client",
    "DEFAULT_API_VERSION": ".core.bulk1",
    "PkChunking": ".core.bulk1",
    "LoadResult": ".core.outcomes",
    "RecordOutcome": ".core.outcomes",
    "PollPolicy": ".core.policy",
    "RetryPolicy": ".core.policy",
    "ProgressEvent": ".core.progress",
    **dict.fromkeys(_MODEL_NAMES.split(), ".models"),
}


def __getattr__(name: str) -> object:
    """Import a public name on its first use (then it is an ordinary attribute)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = found = getattr(_importlib.import_module(_LAZY[name], __name__), name)
    return found


def __dir__() -> list[str]:
    return sorted(globals().keys() | _LAZY.keys())
