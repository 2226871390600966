"""Progress of long work, as events a hook receives (sans-IO).

Loads and queries report what they do through the client's ``progress`` hook:
records sent, batches or jobs queued, completed or failed, records processed,
retries and lock re-submits, query records read. The default hook logs each
event at INFO on the ``sfbulk_sdk.progress`` logger; the CLI draws progress
bars from the same events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ProgressEvent", "ProgressHook", "log_progress"]

logger = logging.getLogger("sfbulk_sdk.progress")


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of a load or a query.

    ``kind`` is one of ``job_created``, ``records_sent``, ``batch_queued``,
    ``batch_completed``, ``batch_failed``, ``job_completed``, ``records_processed``,
    ``lock_resubmit``, ``query_records`` and ``done``; ``records`` how many
    records the step concerns; ``total`` the records of the whole load when
    known (for an ETA).
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
