"""What the sync and async clients share: configuration, seed checks and the facade's state.

Nothing here performs I/O; the clients in :mod:`sfbulk_sdk._async` (and their
generated twins in :mod:`sfbulk_sdk._sync`) do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from .auth.base import Authenticator
from .auth.soap import SoapLogin
from .core import bulk1
from .core.policy import PollPolicy, RetryPolicy
from .errors import InvalidInputError
from .models.jobs import JobInfo
from .models.results import BatchResult

__all__ = [
    "DEFAULT_TIMEOUT",
    "LOGIN_TIMEOUT",
    "ClientConfig",
    "FacadeState",
    "check_sandbox_flag",
    "check_seed_max_records",
    "choose_api_version",
    "filter_invalid",
    "instance_from_bulk_server",
]

#: Finite defaults: connect 10 s, read/write 120 s, pool 30 s.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0, pool=30.0)

#: Timeouts of a login request: at most 27 s in all, inside the session
#: manager's default 30 s refresh-lock TTL.
LOGIN_TIMEOUT = httpx.Timeout(connect=5.0, read=12.0, write=5.0, pool=5.0)


def instance_from_bulk_server(bulk_server: str) -> str:
    """The instance URL of a seed-style ``bulk_server``.

    Accepts ``https://na15.salesforce.com/`` and full Bulk URLs such as
    ``https://na15.salesforce.com/services/async/64.0``.
    """
    parts = urlsplit(bulk_server.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(f"bulk_server must be an http(s) URL, got {bulk_server!r}")
    return f"{parts.scheme}://{parts.netloc}"


def check_sandbox_flag(sandbox: object) -> None:
    """Refuse a non-bool ``sandbox``: the seed's ``login()`` took the API version there."""
    if not isinstance(sandbox, bool):
        raise InvalidInputError(
            f"login(): sandbox must be True or False, not {sandbox!r}. The original "
            "sfbulk took the API version as the fourth argument; pass it to the client "
            "instead (Bulk(api_version='64.0')) and sandbox=True for test.salesforce.com"
        )


def check_seed_max_records(max_records: int) -> int:
    """``max_records`` of the seed's ``batch_create_from_csv``: 1 to 10,000 (Salesforce's cap)."""
    limit = bulk1.BATCH_MAX_RECORDS
    if isinstance(max_records, bool) or not isinstance(max_records, int):
        raise InvalidInputError(f"max_records must be an integer, not {max_records!r}")
    if not 1 <= max_records <= limit:
        raise InvalidInputError(
            f"max_records must be between 1 and {limit:,} (Salesforce fails a batch with more "
            f"records), not {max_records:,}"
        )
    return max_records


def choose_api_version(explicit: str | None, auth: Authenticator | None) -> str:
    """The API version a client uses: the one place that decides it.

    An explicit version wins (validated). Otherwise a SOAP login keeps its own
    version (at most 64.0: ``login()`` is gone from 65.0), and so does a client
    without an authenticator yet (the seed's ``Bulk()`` then ``login()``);
    OAuth flows and static sessions get :data:`~sfbulk_sdk.core.bulk1.LATEST_API_VERSION`.
    """
    if explicit is not None:
        return bulk1.validate_api_version(explicit)
    if auth is None:
        return bulk1.DEFAULT_API_VERSION
    if isinstance(auth, SoapLogin):
        return auth.api_version
    return bulk1.LATEST_API_VERSION


@dataclass
class ClientConfig:
    """Settings shared by both clients."""

    api_version: str = bulk1.DEFAULT_API_VERSION
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll: PollPolicy = field(default_factory=PollPolicy)


def filter_invalid(result: BatchResult) -> BatchResult:
    """Only the failed records of ``result``."""
    return BatchResult(result=result.failed)


@dataclass
class FacadeState:
    """The seed API's notion of "the current job" and its batches."""

    job: JobInfo | None = None
    batch_ids: list[str] = field(default_factory=list)

    def require_job(self) -> JobInfo:
        """The current job, or :class:`InvalidInputError` before ``job_create()``."""
        if self.job is None or self.job.id is None:
            raise InvalidInputError("no job: call job_create() first")
        return self.job

    def require_job_id(self) -> str:
        """The current job's id."""
        job_id = self.require_job().id
        assert job_id is not None
        return job_id
