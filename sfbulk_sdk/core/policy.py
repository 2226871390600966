"""Retry and polling policies: pure decisions, no sleeping.

The clients own the single sleep seam (``Bulk._sleep`` / ``AsyncBulk._sleep``);
these objects only say *how long* to wait and *whether* to try again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ..errors import APIError, InvalidInputError, SfBulkError, TransportError

__all__ = ["PollPolicy", "RetryPolicy", "retry_after_seconds"]


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

    Only idempotent requests are retried after they may have reached
    Salesforce; a non-idempotent one (create job, add batch) is retried only
    when the connection failed before the request was sent. A reply whose
    ``Retry-After`` asks for a longer pause than ``max_backoff`` is not
    retried (asking again sooner would only be refused again); the error
    carries the response, so the caller can read the header.
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 20.0
    jitter: float = 0.25

    def should_retry(self, error: SfBulkError, *, attempt: int, idempotent: bool) -> bool:
        """Whether attempt number ``attempt`` (1-based) that failed with ``error`` is retried."""
        if attempt >= self.max_attempts or not error.retryable:
            return False
        after = _retry_after(error)
        if after is not None and after > self.max_backoff:
            return False
        if idempotent:
            return True
        return isinstance(error, TransportError) and error.sent is False

    def delay(
        self, attempt: int, error: SfBulkError | None = None, *, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1``; honours ``Retry-After``."""
        after = _retry_after(error)
        if after is not None:
            return min(after, self.max_backoff)
        base = min(self.max_backoff, self.backoff * (2.0 ** (attempt - 1)))
        spread = base * self.jitter
        offset: float = (rng or random).uniform(-spread, spread)
        return max(0.0, base + offset)


def _retry_after(error: SfBulkError | None) -> float | None:
    if isinstance(error, APIError) and error.response is not None:
        return retry_after_seconds(error.response)
    return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if not math.isnan(seconds) else None
