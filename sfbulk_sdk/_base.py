"""What the sync and async clients share: configuration and the seed facade's state.

Nothing here performs I/O; :mod:`sfbulk_sdk.client` and :mod:`sfbulk_sdk.aio`
are the two I/O shells around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from .core import bulk1
from .core.policy import PollPolicy, RetryPolicy
from .errors import (
    BatchFailedError,
    InvalidInputError,
    RequestTimeoutError,
    TransportError,
    redacted_request,
)
from .models.enums import BatchState, JobState
from .models.jobs import BatchInfo, JobInfo
from .models.results import BatchResult

__all__ = [
    "DEFAULT_TIMEOUT",
    "LOGIN_TIMEOUT",
    "ClientConfig",
    "FacadeState",
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


@dataclass
class ClientConfig:
    """Settings shared by both clients."""

    api_version: str = bulk1.DEFAULT_API_VERSION
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll: PollPolicy = field(default_factory=PollPolicy)


#: Every httpx exception a send or a body read can raise; all are wrapped.
HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


def wrap_transport_error(exc: Exception, request: httpx.Request) -> TransportError:
    """Our error for an httpx failure (never leak httpx types).

    The httpx error stays chained as ``__cause__``; the request both keep is a
    copy without credentials or body (the session id, a login's password).
    """
    if isinstance(exc, httpx.HTTPError):
        exc.request = redacted_request(request)
    where = f"{request.method} {request.url.copy_with(query=None)}"
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            f"{where} timed out ({type(exc).__name__})", request=request, sent=sent
        )
    if not isinstance(exc, httpx.TransportError):
        # decoding or stream misuse: the request reached the server
        return TransportError(f"{where} failed: {type(exc).__name__}", request=request, sent=True)
    return TransportError(f"{where} failed: {type(exc).__name__}", request=request, sent=sent)


def check_batch(info: BatchInfo, *, raise_on_failure: bool) -> bool:
    """True when a batch is done; raise :class:`BatchFailedError` for ``Failed``."""
    if info.state is BatchState.FAILED and raise_on_failure:
        raise BatchFailedError(info.job_id, info.id, info.state_message)
    return info.state.is_terminal


def all_batches_done(batches: Iterable[BatchInfo]) -> bool:
    """True when every batch is terminal (a PK-chunked original ``NotProcessed`` counts,
    and so do batches an abort left ``NotProcessed``)."""
    return all(b.state.is_terminal for b in batches)


def poll_wait(policy: PollPolicy, waited: float, interval: float) -> float | None:
    """How long to sleep before the next poll, or ``None`` once the deadline is reached.

    The last wait is cut to what is left of ``policy.timeout``, so the final
    poll happens at the deadline rather than up to one interval before it.
    """
    if policy.timeout is None:
        return interval
    left = policy.timeout - waited
    return min(interval, left) if left > 0 else None


def job_not_open(job: JobInfo) -> bool:
    """A job with no batches needs no more waiting once it is no longer ``Open``."""
    return job.state is not None and job.state is not JobState.OPEN


def filter_invalid(result: BatchResult) -> BatchResult:
    """Only the failed records of ``result``."""
    return BatchResult(result=result.failed)


@dataclass
class FacadeState:
    """The seed API's notion of "the current job" and its batches."""

    job: JobInfo | None = None
    batch_ids: list[str] = field(default_factory=list)

    def require_job(self) -> JobInfo:
        if self.job is None or self.job.id is None:
            raise InvalidInputError("no job: call job_create() first")
        return self.job
