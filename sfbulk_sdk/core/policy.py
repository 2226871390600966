"""Retry and polling policies: pure decisions, no sleeping.

The clients own the single sleep seam (``Bulk._sleep`` / ``AsyncBulk._sleep``);
these objects only say *how long* to wait and *whether* to try again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from ..errors import APIError, InvalidInputError, SfBulkError, ThrottledError, TransportError

__all__ = ["PollPolicy", "RetryPolicy", "may_have_acted", "retry_after_seconds"]


@dataclass(frozen=True)
class PollPolicy:
    """How to poll a job or batch: exponential backoff with a cap and a deadline.

    ``timeout`` is the overall deadline in seconds (``None``: wait forever).
    The waits must add up to any deadline, so ``initial`` and ``max_interval``
    are positive and ``factor`` is at least 1.
    """

    initial: float = 1.0
    factor: float = 1.5
    max_interval: float = 30.0
    timeout: float | None = 3600.0

    def __post_init__(self) -> None:
        for name in ("initial", "max_interval"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidInputError(f"PollPolicy.{name} must be > 0 seconds, not {value!r}")
        if not (math.isfinite(self.factor) and self.factor >= 1):
            raise InvalidInputError(f"PollPolicy.factor must be >= 1, not {self.factor!r}")
        if self.timeout is not None and not self.timeout >= 0:
            raise InvalidInputError(
                f"PollPolicy.timeout must be >= 0 or None, not {self.timeout!r}"
            )

    def intervals(self) -> Iterator[float]:
        """Successive waits between polls."""
        wait = self.initial
        while True:
            yield wait
            wait = min(self.max_interval, wait * self.factor)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of transient failures with capped, jittered exponential backoff.

    Retried: connection failures and resets, timeouts, HTTP 5xx and the codes
    Salesforce marks transient (``TooManyLockFailure``, ``Timeout``, the
    concurrent-request limit or HTTP 429 / 420, ...: the error's ``retryable``). Never
    retried: quota (``ExceededQuota``, the daily ``REQUEST_LIMIT_EXCEEDED``), state
    (``InvalidJobState``) and authentication refusals, and every other client error.

    Only idempotent requests are retried after they may have reached
    Salesforce; a non-idempotent one (create job, add batch, upload) is retried
    only when it surely was not processed (the connection failed before it was
    sent, or the org throttled it: :class:`~sfbulk_sdk.errors.ThrottledError`), or once
    :mod:`~sfbulk_sdk.core.reconcile` asked Salesforce and found that the
    first attempt left nothing behind. A reply whose ``Retry-After`` (seconds
    or an HTTP date) asks for a longer pause than ``max_backoff`` is not
    retried (asking again sooner would only be refused again); the error
    carries the response, so the caller can read the header.
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 20.0
    jitter: float = 0.25
    #: The first wait after a throttle (:class:`~sfbulk_sdk.errors.ThrottledError`),
    #: doubling as ``backoff`` does: the slots free when other workers' requests of
    #: 20 s or more end, so asking again after half a second would only be refused.
    throttle_backoff: float = 5.0

    def __post_init__(self) -> None:
        if type(self.max_attempts) is not int or self.max_attempts < 1:
            raise InvalidInputError(
                f"RetryPolicy.max_attempts must be an int >= 1, not {self.max_attempts!r}"
            )
        for name in ("backoff", "max_backoff", "throttle_backoff"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value) and value >= 0):
                raise InvalidInputError(f"RetryPolicy.{name} must be >= 0 seconds, not {value!r}")
        if not (_is_number(self.jitter) and 0 <= self.jitter <= 1):
            raise InvalidInputError(f"RetryPolicy.jitter must be from 0 to 1, not {self.jitter!r}")

    def should_retry(self, error: SfBulkError, *, attempt: int, idempotent: bool) -> bool:
        """Whether attempt number ``attempt`` (1-based) that failed with ``error`` is retried."""
        if attempt >= self.max_attempts or not error.retryable:
            return False
        after = _retry_after(error)
        if after is not None and after > self.max_backoff:
            return False
        return idempotent or not may_have_acted(error)

    def delay(
        self, attempt: int, error: SfBulkError | None = None, *, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1``; honours ``Retry-After``."""
        after = _retry_after(error)
        if after is not None:
            return min(after, self.max_backoff)
        first = self.throttle_backoff if isinstance(error, ThrottledError) else self.backoff
        base = min(self.max_backoff, first * (2.0 ** (attempt - 1)))
        spread = base * self.jitter
        offset: float = (rng or random).uniform(-spread, spread)
        return max(0.0, base + offset)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _retry_after(error: SfBulkError | None) -> float | None:
    if isinstance(error, APIError) and error.response is not None:
        return retry_after_seconds(error.response)
    return None


def may_have_acted(error: SfBulkError) -> bool:
    """Whether a failed request may have been carried out by Salesforce all the same.

    True for a transient failure after the request left the client: a reset or
    a timeout while waiting for the reply, a 5xx (the server may have failed
    after doing the work). False for a connection that never opened, for a
    request the org throttled (:class:`~sfbulk_sdk.errors.ThrottledError`: not
    processed), and for errors that are not transient (a refusal is a refusal).
    """
    if not error.retryable or isinstance(error, ThrottledError):
        return False  # a refusal for now is a refusal: nothing was processed
    return not (isinstance(error, TransportError) and error.sent is False)


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """The ``Retry-After`` header in seconds: a number of seconds, or an HTTP date.

    A date is measured from ``now`` when given, else from the reply's own
    ``Date`` header (the server's clock, so the client's clock skew does not
    matter); a date with neither, or a value that is neither form, gives
    ``None``. A date in the past is 0.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now or _date_header(response))
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _date_header(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    return _http_date(value) if value is not None else None


def _seconds_until(value: str, now: datetime | None) -> float | None:
    when = _http_date(value)
    if when is None or now is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())
