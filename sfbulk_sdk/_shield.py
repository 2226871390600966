"""Finishing what must not stop halfway: a refresh-token refresh, once its request is sent.

A refresh that went out may have rotated the refresh token; if its task is
cancelled before the reply is read and the new token written to the store, the
new token is lost and the next refresh (with the old one) revokes the grant.
:func:`finish_shielded` runs such work to its end even when the task awaiting it
is cancelled meanwhile (a caller's ``asyncio.wait_for``), then re-raises the
cancellation. ``scripts/unasync.py`` turns it into :func:`finish_unshielded` in
the sync twins: a thread is never cancelled mid-call. Hand-written, not generated.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TypeVar

import anyio

from ._background import _asyncio_loop

__all__ = ["finish_shielded", "finish_unshielded"]

T = TypeVar("T")

logger = logging.getLogger("sfbulk_sdk.sessions")


async def finish_shielded(work: Coroutine[object, object, T]) -> T:
    """Await ``work`` to its end, even if this task is cancelled; then re-raise that."""
    loop = _asyncio_loop()
    if loop is None:  # trio (through anyio): a shielded scope re-raises on exit
        with anyio.CancelScope(shield=True):
            result = await work
        return result
    import asyncio

    task = loop.create_task(work)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait({task})  # a cancelled wait leaves the task running
        except asyncio.CancelledError as exc:
            logger.debug("cancelled during a refresh: finishing it first")
            cancelled = exc
    if cancelled is not None:
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation wins
        raise cancelled
    return task.result()


def finish_unshielded(work: T) -> T:
    """The sync twin of :func:`finish_shielded`: the work has already run."""
    return work
