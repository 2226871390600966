"""What a non-idempotent request leaves behind, so that a lost reply can be reconciled.

A request that creates something (a Bulk 1.0 batch, a Bulk 2.0 job, a job's
data) must not be sent again blindly when its reply was lost: Salesforce may
have acted on it. Each such request carries one of these descriptions (its
``reconcile``); when it fails in a way that may have reached the server,
:func:`sfbulk_sdk.core.reconcile.recover` asks Salesforce what arrived and the
request is sent again only when nothing did.

:class:`Ledger` is the client's memory of what its own replies named: the
batches and jobs it already holds. A reconciliation never adopts one of them,
and a reply naming one that a reconciliation adopted meanwhile is reconciled in
turn (two identical requests in flight at once each end with their own).

Pure data: nothing here sends, sleeps or reads a clock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models.enums import ContentType

__all__ = [
    "BatchUpload",
    "IngestJobCreate",
    "IngestUpload",
    "JobCreate",
    "Ledger",
    "ReconcileSpec",
    "StateChange",
]


@dataclass(frozen=True)
class BatchUpload:
    """``POST job/{id}/batch`` (Bulk 1.0): the batch is found by its request content.

    ``data`` is the batch as uploaded, before any compression; the job's
    batches that this client does not hold already are compared with it
    (``GET .../batch/{id}/request``), newest first.
    """

    job_id: str
    data: bytes = field(repr=False)
    content_type: ContentType


@dataclass(frozen=True)
class JobCreate:
    """``POST job`` (Bulk 1.0) or ``POST jobs/query`` (Bulk 2.0): a job that holds no
    record when it is created. Bulk 1.0 cannot list jobs, and a query job is only
    read, so nothing is looked up: the request is sent again, which at worst leaves
    an unused job behind (an empty ``Open`` Bulk 1.0 job, a query run twice) and
    never writes a record twice."""


@dataclass(frozen=True)
class IngestJobCreate:
    """``POST jobs/ingest`` (Bulk 2.0): an ``Open`` job with these settings that
    this client does not hold is looked for in ``GET jobs/ingest``, newest first.

    ``with_data`` is the multipart create-and-upload form: such a job is past its
    upload from the start (``UploadComplete`` or later), so that is what is
    looked for. Bulk 2.0 gives no way to read a job's data back: the match is
    by settings, as for an empty job."""

    sobject: str
    operation: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id_field: str | None = None
    with_data: bool = False

    @classmethod
    def of(cls, document: Mapping[str, object], *, with_data: bool = False) -> IngestJobCreate:
        """The description of a create-job request body (``with_data``: multipart)."""
        external = document.get("externalIdFieldName")
        return cls(
            with_data=with_data,
            sobject=str(document["object"]),
            operation=str(document["operation"]),
            column_delimiter=str(document.get("columnDelimiter", "COMMA")),
            line_ending=str(document.get("lineEnding", "LF")),
            external_id_field=external if isinstance(external, str) else None,
        )


@dataclass(frozen=True)
class IngestUpload:
    """``PUT jobs/ingest/{id}/batches`` (Bulk 2.0, once per job): the job's state says
    whether the data arrived; a job still ``Open`` is sent the data again, and
    Salesforce's refusal of a second upload proves that the first one arrived."""

    job_id: str


@dataclass(frozen=True)
class StateChange:
    """A job state change (Bulk 2.0 ``UploadComplete``) that Salesforce refuses to repeat:
    done when the job is in ``state`` or beyond it."""

    job_id: str
    state: str


#: Every kind of description a request may carry.
ReconcileSpec = BatchUpload | JobCreate | IngestJobCreate | IngestUpload | StateChange


class Ledger:
    """The batch and job ids this client's own replies named (thread-safe)."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Ledger({len(self._held)} ids held)"

    def holds(self, item_id: str) -> bool:
        """Whether ``item_id`` already belongs to one of this client's requests."""
        with self._lock:
            return item_id in self._held

    def claim(self, item_id: str) -> bool:
        """Take ``item_id`` for a request; ``False`` when another request holds it already."""
        with self._lock:
            if item_id in self._held:
                return False
            self._held.add(item_id)
            return True
