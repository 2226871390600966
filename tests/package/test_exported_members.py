"""``sfbulk_sdk.__all__`` and ``sfbulk_sdk.errors.__all__``: pinned, complete and sorted."""

from __future__ import annotations

import inspect
import re

import pytest

import sfbulk_sdk
from sfbulk_sdk import errors

#: The package's top-level names. Adding or removing one is an API change:
#: update this list on purpose.
EXPECTED_TOP_LEVEL = (
    "DEFAULT_API_VERSION",
    "APIError",
    "AccessDeniedError",
    "ApiVersionError",
    "AsyncBulk",
    "BatchFailedError",
    "BatchInfo",
    "BatchInfoList",
    "BatchResult",
    "BatchState",
    "Bulk",
    "BulkErrorInfo",
    "ClientInputError",
    "ConcurrencyMode",
    "ContentType",
    "ExceededQuotaError",
    "InvalidBatchError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidInputError",
    "InvalidJobError",
    "InvalidJobStateError",
    "InvalidOperationError",
    "InvalidRequestError",
    "InvalidSessionError",
    "InvalidXmlError",
    "JobFailedError",
    "JobInfo",
    "JobNotCompleteError",
    "JobState",
    "LoadInterruptedError",
    "LoadResult",
    "LockTimeoutError",
    "LoginError",
    "LoginRateExceededError",
    "LoginResult",
    "LoginUnavailableError",
    "MalformedReplyError",
    "MalformedXmlError",
    "NotFoundError",
    "OAuthError",
    "Operation",
    "PkChunking",
    "PollPolicy",
    "PollTimeoutError",
    "ProcessingTimeoutError",
    "ProgressEvent",
    "ProtocolError",
    "QueryBatchResult",
    "QueryResultList",
    "RecordError",
    "RecordOutcome",
    "RecordResult",
    "RefreshTokenRevokedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "Session",
    "SessionError",
    "SessionStoreError",
    "SfBulkError",
    "ThrottledError",
    "TooManyLockFailureError",
    "TransportError",
    "UnsafeXmlError",
    "UnsupportedContentTypeError",
    "UnsupportedGrantTypeError",
    "UserInfo",
    "__version__",
    "error_class_for_code",
    "login_error_class",
)


def _sort_key(name: str) -> tuple[int, str]:
    """ruff's ``__all__`` order (RUF022): CONSTANTS, then CamelCase, then the rest."""
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        return (0, name)
    if re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        return (1, name)
    return (2, name)


def _error_classes() -> dict[str, type[BaseException]]:
    """Every public exception class defined in ``sfbulk_sdk/errors.py``."""
    return {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
        and not name.startswith("_")
    }


@pytest.mark.parametrize("module", [sfbulk_sdk, errors], ids=lambda m: m.__name__)
def test_all_names_exist_once_and_are_sorted(module: object) -> None:
    names = list(getattr(module, "__all__"))  # noqa: B009 - mypy sees object
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(module, name), name
    # the package lists its own names, then every error class as errors.__all__ does
    own = [name for name in names if name not in errors.__all__]
    assert own == sorted(own, key=_sort_key)
    assert errors.__all__ == sorted(errors.__all__, key=_sort_key)
    if module is sfbulk_sdk:
        assert names == own + list(errors.__all__)


def test_top_level_names_are_pinned() -> None:
    assert sorted(sfbulk_sdk.__all__, key=_sort_key) == list(EXPECTED_TOP_LEVEL)


def test_every_error_class_is_listed_in_errors_all() -> None:
    classes = _error_classes()
    assert len(classes) >= 27  # the walk found the tree, not an empty module
    missing = sorted(set(classes) - set(errors.__all__))
    assert missing == [], f"error classes missing from sfbulk_sdk.errors.__all__: {missing}"


def test_every_error_class_is_importable_from_the_package() -> None:
    for name, cls in _error_classes().items():
        assert name in sfbulk_sdk.__all__, name
        assert getattr(sfbulk_sdk, name) is cls, name


def test_every_error_derives_from_the_root() -> None:
    for name, cls in _error_classes().items():
        assert issubclass(cls, errors.SfBulkError), name


def test_the_common_errors_are_at_the_top_level() -> None:
    from sfbulk_sdk import (  # noqa: F401 - the import is the test
        AccessDeniedError,
        ApiVersionError,
        ExceededQuotaError,
        InvalidBatchError,
        InvalidJobError,
        InvalidJobStateError,
        LockTimeoutError,
        LoginRateExceededError,
        ProtocolError,
        RequestTimeoutError,
        ServerError,
        SessionError,
        SessionStoreError,
        TooManyLockFailureError,
    )
