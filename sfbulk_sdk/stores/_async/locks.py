"""``AsyncPollingLock``: the token-owned refresh lock every built-in store hands out.

A store offers its lock two calls on the lease of a key (:class:`AsyncLeases`):
``_try_lease(key, token, ttl)`` takes it for ``ttl`` seconds if it is free or
expired and says whether it did; ``_release_lease(key, token)`` drops it only
if ``token`` still owns it and says whether it did. The lock polls
``_try_lease`` with a random token until ``wait`` seconds have passed, then
raises :class:`~sfbulk_sdk.errors.LockTimeoutError`.

Each acquire attempt and the release run inside
:func:`~sfbulk_sdk.stores._common.cancel_shield`, for at most the lease's TTL
(but at least a second). In the async lock that is a cancellation shield: a
task cancelled while the server grants the lease, or on its way out of the
locked region, still releases it instead of blocking everyone for ``ttl``; a
thread is never cancelled mid-call, so the sync twin's ``no_shield`` does
nothing. A lease that expired before its release logs a warning (another
process may have logged in too), and so does a release that failed while the
locked region was raising already; otherwise a failed release raises.
"""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol

from anyio import sleep as default_sleep

from ...errors import LockTimeoutError, SessionStoreError
from .._common import (
    cancel_shield,
    check_lock_args,
    lost_lock_warning,
    new_token,
    release_failed_warning,
)

__all__ = ["AsyncLeases", "AsyncPollingLock"]


class AsyncLeases(Protocol):
    """The lease calls a store offers its :class:`AsyncPollingLock`."""

    async def _try_lease(self, key: str, token: str, ttl: float) -> bool:
        """Take the lease of ``key`` for ``ttl`` seconds if it is free or expired."""
        ...

    async def _release_lease(self, key: str, token: str) -> bool:
        """Drop the lease of ``key`` if ``token`` still owns it."""
        ...


class AsyncPollingLock(AbstractAsyncContextManager[None]):
    """The refresh lock of ``key`` on ``leases``, retried every ``poll`` seconds.

    ``ttl`` and ``wait`` are checked here (:class:`~sfbulk_sdk.errors.InvalidInputError`
    when not positive / not non-negative); ``name`` names the lock in errors and
    warnings (never a secret; default ``key``).
    """

    def __init__(
        self,
        leases: AsyncLeases,
        key: str,
        *,
        ttl: float,
        wait: float,
        poll: float,
        name: str | None = None,
    ) -> None:
        self._ttl, self._wait = check_lock_args(ttl, wait)
        self._leases = leases
        self._key = key
        self._name = key if name is None else name
        self._poll = poll
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, held={self._token is not None})"

    async def __aenter__(self) -> None:
        if self._token is not None:
            raise RuntimeError("this lock is already held; take a new one from store.lock()")
        token = new_token()
        deadline = time.monotonic() + self._wait
        while True:
            acquired = False
            with cancel_shield(self._ttl):
                acquired = await self._leases._try_lease(self._key, token, self._ttl)
            if acquired:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    f"refresh lock {self._name!r} not acquired within {self._wait:g}s"
                )
            await default_sleep(min(self._poll, remaining))
        self._token = token

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        owned: bool | None = None
        with cancel_shield(self._ttl):
            try:
                owned = await self._leases._release_lease(self._key, token)
            except SessionStoreError:
                if exc is None:
                    raise
        if owned is None:
            release_failed_warning(self._name)
        elif not owned:
            lost_lock_warning(self._name)
