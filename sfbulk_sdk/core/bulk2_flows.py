"""Bulk API 2.0 flows, sans-IO: waiting for jobs and reading results, page after page.

* :func:`wait_for_job` polls an ingest or query job until it is done;
* :func:`query_records` reads a query's results one page after another by
  ``Sforce-Locator`` (``maxRecords`` always sent), streaming each page: a
  session rejected or a connection dropped mid-page repeats that page and skips
  the records already handed out, so none is lost or repeated;
* :func:`query_records_by_pages` lists the pages with ``/resultPages`` (API
  58.0+) and fetches up to ``width`` of them at once, then hands their records
  out in page order: memory is bounded by ``width`` pages of CSV bytes;
* :func:`ingest_result_records` streams a job's successful, failed or
  unprocessed records (a 204 or an empty body is no records).

Every request goes through :func:`~sfbulk_sdk.core.flow.exchange`, and results
are read with the job's own API version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import httpx

from ..models.bulk2 import IngestJobInfo, QueryJobInfo
from . import bulk2, states
from .decoders import record_decoder
from .flow import (
    DECODE_SLICE,
    Emit,
    Flow,
    FlowContext,
    Gather,
    ParsedBody,
    RecordStream,
    exchange,
    perform,
    poll,
    request,
)
from .policy import PollPolicy
from .rest import RestCall

__all__ = [
    "ingest_result_records",
    "query_records",
    "query_records_by_pages",
    "wait_for_job",
]


J = TypeVar("J", IngestJobInfo, QueryJobInfo)


def wait_for_job(
    call: RestCall[J],
    *,
    policy: PollPolicy,
    ctx: FlowContext,
    raise_on_failure: bool = True,
) -> Flow[J]:
    """Poll a Bulk 2.0 job (``call`` gets it) until it is JobComplete, Failed or Aborted."""
    job_id = call.path.rsplit("/", 1)[-1]

    def probe() -> Flow[J | None]:
        job = yield from request(call, ctx)
        if states.bulk2_job_finished(job, raise_on_failure=raise_on_failure):
            return job
        return None

    return (yield from poll(probe, policy, job_id=job_id))


def query_records(
    job_id: str,
    *,
    api_version: str | None,
    max_records: int,
    delimiter: str,
    ctx: FlowContext,
) -> Flow[int]:
    """Every record of a finished query job, page by page (``Sforce-Locator``)."""
    locator: str | None = None
    total = 0
    while True:
        call = bulk2.query_results(
            job_id, locator=locator, max_records=max_records, api_version=api_version
        )
        reader = RecordStream(call.parse, delimiter)
        total += yield from exchange(call, ctx, reader)
        assert reader.headers is not None
        locator = bulk2.next_locator_from(reader.headers)
        if locator is None:
            return total


def _page_bytes(check: Callable[[httpx.Response], object]) -> ParsedBody[bytes]:
    def read(response: httpx.Response) -> bytes:
        check(response)
        return b"" if response.status_code == 204 else response.content

    return ParsedBody(read)


def query_records_by_pages(
    job_id: str,
    *,
    api_version: str | None,
    width: int,
    delimiter: str,
    ctx: FlowContext,
) -> Flow[int]:
    """Every record of a finished query job, ``width`` pages at a time (``/resultPages``)."""
    pending: list[bulk2.ResultPage] = []
    next_url: str | None = None
    listed = False
    total = 0
    while True:
        # List pages until a full window is known (a listing holds up to five),
        # so that every round of downloads runs ``width`` at once.
        while len(pending) < width and (not listed or next_url):
            call = bulk2.result_pages(job_id, next_url=next_url, api_version=api_version)
            pages, next_url = yield from request(call, ctx)
            pending.extend(pages)
            listed = True
        if not pending:
            return total
        window, pending = pending[:width], pending[width:]
        fetches: list[Flow[object]] = []
        for page in window:
            page_call = page.call(api_version)
            download: Flow[bytes] = exchange(page_call, ctx, _page_bytes(page_call.parse))
            fetches.append(download)
        # The next listing travels with this round's downloads, not after them.
        listing = len(pending) < width and next_url is not None
        if listing:
            call = bulk2.result_pages(job_id, next_url=next_url, api_version=api_version)
            fetches.append(request(call, ctx))
        results = yield from perform(Gather(fetches, len(fetches)))
        if listing:
            pages, next_url = cast("tuple[list[bulk2.ResultPage], str | None]", results.pop())
            pending.extend(pages)
        for body in results:
            assert isinstance(body, bytes)
            total += yield from _emit_body(body, delimiter)


def _emit_body(body: bytes, delimiter: str) -> Flow[int]:
    decoder = record_decoder("text/csv", delimiter=delimiter)
    count = 0
    for start in range(0, len(body), DECODE_SLICE):
        records = decoder.feed(body[start : start + DECODE_SLICE])
        if records:
            count += len(records)
            yield from perform(Emit(records))
    records = decoder.close()
    if records:
        count += len(records)
        yield from perform(Emit(records))
    return count


def ingest_result_records(
    job_id: str,
    kind: str,
    *,
    api_version: str | None,
    delimiter: str,
    ctx: FlowContext,
) -> Flow[int]:
    """The successful, failed or unprocessed records of an ingest job, streamed."""
    call = bulk2.ingest_results(job_id, kind, api_version=api_version)
    return (yield from exchange(call, ctx, RecordStream(call.parse, delimiter)))
