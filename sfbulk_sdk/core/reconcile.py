"""Reconciling a non-idempotent request whose reply was lost: ask, then send only what is missing.

When a request that creates something fails after it may have reached
Salesforce (a reset or timeout while waiting for the reply, a 5xx), the
request flow (:func:`sfbulk_sdk.core.flow.exchange`) calls :func:`recover`
with the request's description (:mod:`~sfbulk_sdk.core.reconcile_specs`):

* a **Bulk 1.0 batch**: list the job's batches; compare the uploaded content
  (``GET .../batch/{id}/request``) of each batch this client does not hold yet,
  newest first, with the batch it sent; a match is the batch;
* a **Bulk 2.0 job creation**: list the ingest jobs (``GET jobs/ingest``, every
  page) and take the newest ``Open`` job with the same object, operation,
  delimiter, line ending and external id that this client does not hold;
* a **Bulk 2.0 upload**: read the job; a job past ``Open`` received its data;
  an ``Open`` one is sent the data again, and Salesforce's refusal of a second
  upload (``BULK_API_ERROR`` "Found multipe contents") proves the first arrived;
* a **state change** (``UploadComplete``): read the job; in that state or
  beyond it, the change was made;
* a **Bulk 1.0 job or Bulk 2.0 query job creation**: nothing to ask (Bulk 1.0
  cannot list jobs; a query job writes nothing); it is sent again, which at
  worst leaves an unused job behind, never a record written twice.

:func:`recover` returns :class:`Found` with what the lost reply would have
said, or ``None`` when nothing arrived: then the request may be sent again.

Known limit: a job or batch is recognised by its settings or content, not by
a marker (Salesforce stores none a client could set). Another client creating
an identical Bulk 2.0 job as the same user at the same moment could be taken
for ours; within one client, the :class:`~sfbulk_sdk.core.reconcile_specs.Ledger`
keeps requests apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..errors import APIError, TransportError
from ..models.bulk2 import Bulk2JobState, IngestJobInfo, JobList
from ..models.jobs import BatchInfo, BatchInfoList
from . import bulk1, bulk2
from .policy import may_have_acted
from .reconcile_specs import (
    BatchUpload,
    IngestJobCreate,
    IngestUpload,
    JobCreate,
    Ledger,
    ReconcileSpec,
    StateChange,
)

if TYPE_CHECKING:
    from .flow import CallSpec, Effect

__all__ = ["Ask", "Found", "claim", "recover"]

T = TypeVar("T")

#: A request flow: yields effects, returns the reply's parsed value.
_Flow = Generator["Effect[object]", object, T]


class Ask(Protocol):
    """Sends one call through the request flow (retries included); returns its result."""

    def __call__(self, call: CallSpec[object], /) -> _Flow[object]: ...


#: Bulk 2.0 ingest states a job reaches after its data arrived and ``UploadComplete``.
_PAST_UPLOAD = frozenset(
    {
        Bulk2JobState.UPLOAD_COMPLETE,
        Bulk2JobState.IN_PROGRESS,
        Bulk2JobState.JOB_COMPLETE,
        Bulk2JobState.FAILED,
        Bulk2JobState.ABORTED,
    }
)
#: Rounds of (read the job, send the data again) before giving up on an upload.
_UPLOAD_TRIES = 4
#: Most job-list pages read while looking for a job (1,000 jobs a page).
_MAX_PAGES = 20


@dataclass(frozen=True)
class Found:
    """What the lost reply would have said: the batch, the job, or ``None`` (an upload)."""

    value: object


def _same_content(stored: bytes, sent: bytes) -> bool:
    if stored == sent:
        return True

    def norm(data: bytes) -> bytes:
        return data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").strip()

    return norm(stored) == norm(sent)


def _batch(spec: BatchUpload, ask: Ask, ledger: Ledger) -> _Flow[Found | None]:
    listed = yield from ask(bulk1.list_batches(spec.job_id, content_type=spec.content_type))
    assert isinstance(listed, BatchInfoList)
    candidates = [b for b in listed if b.id and not ledger.holds(b.id)]
    candidates.sort(key=lambda b: (b.created_date is not None, b.created_date, b.id), reverse=True)
    for info in candidates:
        call = bulk1.get_batch_request(spec.job_id, info.id, content_type=spec.content_type)
        stored = yield from ask(call)
        assert isinstance(stored, bytes)
        if _same_content(stored, spec.data) and ledger.claim(info.id):
            return Found(info)
    return None


def _matches(job: IngestJobInfo, spec: IngestJobCreate) -> bool:
    def text(value: object) -> str:
        return str(getattr(value, "value", value) or "")

    wanted = job.state in _PAST_UPLOAD if spec.with_data else job.state is Bulk2JobState.OPEN
    return (
        wanted
        and text(job.sobject).lower() == spec.sobject.lower()
        and text(job.operation) == spec.operation
        and text(job.column_delimiter or "COMMA") == spec.column_delimiter
        and text(job.line_ending or "LF") == spec.line_ending
        and (job.external_id_field_name or None) == spec.external_id_field
    )


def _ingest_job(spec: IngestJobCreate, ask: Ask, ledger: Ledger) -> _Flow[Found | None]:
    found: list[IngestJobInfo] = []
    call = bulk2.list_jobs("ingest", params={"jobType": "V2Ingest"})
    for _page in range(_MAX_PAGES):
        page = yield from ask(call)
        assert isinstance(page, JobList)
        found += [j for j in page if j.id and not ledger.holds(j.id) and _matches(j, spec)]
        if page.done or not page.next_records_url:
            break
        call = bulk2.list_jobs("ingest", next_url=page.next_records_url)
    found.sort(key=lambda j: (j.created_date is not None, j.created_date, j.id), reverse=True)
    for job in found:
        assert job.id is not None
        if ledger.claim(job.id):
            return Found(job)
    return None


def _upload(spec: IngestUpload, call: CallSpec[object], ask: Ask) -> _Flow[Found | None]:
    again = dataclasses.replace(call, reconcile=None)  # type: ignore[type-var]
    for _attempt in range(_UPLOAD_TRIES):
        job = yield from ask(bulk2.get_ingest_job(spec.job_id))
        assert isinstance(job, IngestJobInfo)
        if job.state in _PAST_UPLOAD:
            return Found(None)  # closed, so its data had arrived
        try:
            yield from ask(again)
        except APIError as exc:
            if exc.code.upper() == "BULK_API_ERROR" and "multip" in exc.message.lower():
                return Found(None)  # Salesforce holds the job's data: an upload arrived
            if not may_have_acted(exc):
                raise
        except TransportError as exc:
            if not may_have_acted(exc):
                raise
        else:
            return Found(None)
    return None


def _state_change(spec: StateChange, ask: Ask) -> _Flow[Found | None]:
    job = yield from ask(bulk2.get_ingest_job(spec.job_id))
    assert isinstance(job, IngestJobInfo)
    wanted = Bulk2JobState(spec.state)
    if job.state is wanted or (
        wanted is Bulk2JobState.UPLOAD_COMPLETE and job.state in _PAST_UPLOAD
    ):
        return Found(job)
    return None


def recover(
    spec: ReconcileSpec, call: CallSpec[object], ask: Ask, ledger: Ledger
) -> _Flow[Found | None]:
    """Ask Salesforce whether the request ``call`` described by ``spec`` was carried out.

    :class:`Found` holds what its reply would have been; ``None`` means it may be
    sent again. The questions go through ``ask`` (the request flow, so they are
    retried and survive an expired session like any other request).
    """
    if isinstance(spec, BatchUpload):
        return (yield from _batch(spec, ask, ledger))
    if isinstance(spec, IngestJobCreate):
        return (yield from _ingest_job(spec, ask, ledger))
    if isinstance(spec, IngestUpload):
        return (yield from _upload(spec, call, ask))
    if isinstance(spec, StateChange):
        return (yield from _state_change(spec, ask))
    assert isinstance(spec, JobCreate)
    return None


def claim(spec: ReconcileSpec, result: object, ledger: Ledger) -> None:
    """Record that a reply gave ``result`` (a batch or job) to this request.

    Raises :class:`~sfbulk_sdk.errors.TransportError` (``sent=True``) when a
    reconciliation adopted that batch or job for another request meanwhile:
    this request is then reconciled in turn, and finds its own.
    """
    if isinstance(spec, (BatchUpload, IngestJobCreate)):
        item = result.id if isinstance(result, (BatchInfo, IngestJobInfo)) else None
        if item and not ledger.claim(item):
            raise TransportError(
                f"{item} was already taken for another request whose reply was lost", sent=True
            )
