"""Progress of long work, as events a hook receives (sans-IO).

Loads and queries report what they do through the client's ``progress`` hook:
records sent, batches or jobs queued, completed or failed, records processed,
retries and lock re-submits, query records read. The default hook logs each
event at INFO on the ``sfbulk_sdk.progress`` logger; the CLI draws progress
bars from the same events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ProgressEvent", "ProgressHook", "log_progress", "retry_event", "serialised"]

logger = logging.getLogger("sfbulk_sdk.progress")


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of a load or a query.

    ``kind`` is one of ``job_created``, ``records_sent``, ``batch_queued``,
    ``batch_completed``, ``batch_failed``, ``job_completed``, ``records_processed``,
    ``lock_resubmit``, ``retry``, ``query_records`` and ``done``; ``records`` how
    many records the step concerns; ``total`` the records of the whole load when
    known (for an ETA). A ``retry`` is one request sent again after a transient
    failure or a throttle; its ``detail`` names the request, the error and the wait.
    """

    kind: str
    records: int = 0
    total: int | None = None
    job_id: str | None = None
    batch_id: str | None = None
    detail: str = ""


#: What a client calls with every :class:`ProgressEvent`.
ProgressHook = Callable[[ProgressEvent], None]


def log_progress(event: ProgressEvent) -> None:
    """The default hook: one INFO line per event."""
    where = " ".join(
        part
        for part in (
            f"job {event.job_id}" if event.job_id else "",
            f"batch {event.batch_id}" if event.batch_id else "",
        )
        if part
    )
    logger.info(
        "%s: %d records%s%s%s",
        event.kind,
        event.records,
        f" ({where})" if where else "",
        f" of {event.total}" if event.total is not None else "",
        f": {event.detail}" if event.detail else "",
    )


def retry_event(method: str, path: str, delay: float, error: Exception) -> ProgressEvent:
    """The ``retry`` event of a request sent again: the request, the error's class and
    HTTP status, and the wait (never the error's message, which quotes the reply)."""
    status = getattr(error, "status_code", None)
    why = f"{type(error).__name__}{f' (HTTP {status})' if status else ''}"
    return ProgressEvent("retry", detail=f"{method} {path} again in {delay:.1f} s after {why}")


def serialised(hook: Callable[[object], None]) -> Callable[[object], None]:
    """``hook``, called by one thread at a time (a load's parallel flows all report)."""
    lock = threading.Lock()

    def call(event: object) -> None:
        with lock:
            hook(event)

    return call
