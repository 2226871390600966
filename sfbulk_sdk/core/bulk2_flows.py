"""Bulk API 2.0 flows, sans-IO: waiting for jobs and reading results, page after page.

* :func:`wait_for_job` polls an ingest or query job until it is done;
* :func:`query_records` reads a query's results one page after another by
  ``Sforce-Locator`` (``maxRecords`` always sent), streaming each page: a
  session rejected or a connection dropped mid-page repeats that page and skips
  the records already handed out, so none is lost or repeated;
* :func:`query_records_by_pages` lists the pages with ``/resultPages`` (API
  58.0+) and downloads them in a sliding window, up to ``width`` at once (a
  new one starts as soon as one ends), handing their records out in page
  order: memory is bounded by ``2 * width`` pages, each held as it came
  (gzip-compressed, as Salesforce sends it) and inflated a slice at a time;
* :func:`ingest_result_records` streams a job's successful, failed or
  unprocessed records (a 204 or an empty body is no records).

Every request goes through :func:`~sfbulk_sdk.core.flow.exchange`, and results
are read with the job's own API version.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

import httpx

from ..errors import ProtocolError
from ..models.bulk2 import IngestJobInfo, QueryJobInfo
from . import bulk2, states
from .decoders import record_decoder
from .flow import (
    DECODE_SLICE,
    Emit,
    Flow,
    FlowContext,
    Join,
    ReadBody,
    ReadRaw,
    RecordStream,
    Spawn,
    Wait,
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
    seen: set[str] = set()
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
        _once(seen, locator, "result locator")


def _once(seen: set[str], value: str, what: str) -> None:
    """Refuse a locator or page URL the server gave before: reading it again would
    hand out its records twice, and a server that keeps doing it would never end."""
    if value in seen:
        raise ProtocolError(
            f"Salesforce gave the same {what} twice: its records would be read again "
            "(and a reply that keeps doing so would never end)"
        )
    seen.add(value)


#: Content codings a page is kept in while it waits for its turn (inflated as it is
#: handed out); a page in any other coding is decoded by httpx on arrival.
_KEPT_ENCODED = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})


@dataclass(frozen=True, slots=True)
class _Page:
    """A downloaded result page, as it came: ``body`` in the content coding ``encoding``."""

    encoding: str
    body: bytes


class _EncodedPage:
    """Reads a result page whole but still compressed: a held page costs its gzip size."""

    streams = True

    def __init__(self, check: Callable[[httpx.Response], object]) -> None:
        self._check = check

    def read(self, response: httpx.Response) -> Flow[_Page]:
        self._check(response)
        if response.status_code == 204:
            yield from perform(ReadBody(response))
            return _Page("", b"")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding in _KEPT_ENCODED:
            coding, body = yield from perform(ReadRaw(response))
            return _Page(coding, body)
        yield from perform(ReadBody(response))
        return _Page("", response.content)


def _inflated(page: _Page) -> Iterator[bytes]:
    """The page's CSV bytes, at most :data:`DECODE_SLICE` at a time.

    The compressed body is fed a slice at a time too (zlib copies what it has
    not consumed on every call: feeding it the whole page made inflating it
    quadratic), and a gzip body of several members is inflated member after
    member: each ends where zlib reports its end, measured from the end of
    the slice it was given (zlib keeps an old ``unconsumed_tail`` after the
    end of a member, so that is not the place to go on from).
    """
    body = page.body
    if page.encoding in ("", "identity"):
        for at in range(0, len(body), DECODE_SLICE):
            yield body[at : at + DECODE_SLICE]
        return
    # gzip, or deflate with its zlib header; 47 = detect either, -15 = raw deflate
    wbits = 47 if page.encoding != "deflate" or body[:1] == b"\x78" else -15
    view = memoryview(body)
    size = len(body)
    at = 0
    inflater: zlib._Decompress | None = None  # the member being inflated
    while at < size:
        if inflater is None:
            inflater = zlib.decompressobj(wbits)
        stop = min(at + DECODE_SLICE, size)
        data: bytes | memoryview = view[at:stop]
        at = stop
        while data:
            out = inflater.decompress(data, DECODE_SLICE)
            if out:
                yield out
            if inflater.eof:  # the next member starts where zlib stopped reading
                at = stop - len(inflater.unused_data)
                inflater = None
                break
            data = inflater.unconsumed_tail
    if inflater is not None:
        tail = inflater.flush()
        if tail:
            yield tail
        if not inflater.eof:
            raise zlib.error("the compressed page ends early")


class _PageWindow:
    """The ``/resultPages`` downloads of one query: a sliding window over its pages.

    At most ``width`` pages are downloading at any time and at most
    ``2 * width`` are held (downloading, or read and waiting for their turn);
    a new download starts as soon as one ends, not when a whole round does.
    The next listing is asked for while pages download, once fewer than
    ``width`` are known and not started. Pages are numbered in listing
    (locator) order and handed out in that order.
    """

    def __init__(self, job_id: str, api_version: str | None, width: int, ctx: FlowContext) -> None:
        self.job_id = job_id
        self.api_version = api_version
        self.width = width
        self.ctx = ctx
        self.pending: deque[bulk2.ResultPage] = deque()
        self.next_url: str | None = None
        self.listed = False
        self.listing: int | None = None  # the ticket of the listing in flight
        self.running: dict[int, int] = {}  # ticket -> page number
        self.ready: dict[int, _Page] = {}  # page number -> its CSV, as it came
        self.started = 0
        self.handed = 0
        self.seen: set[str] = set()  # the listing and page URLs given so far

    @property
    def more_to_list(self) -> bool:
        return not self.listed or self.next_url is not None

    @property
    def finished(self) -> bool:
        return not (self.running or self.ready or self.pending or self.listing is not None) and (
            not self.more_to_list
        )

    def refill(self) -> Flow[None]:
        """Start the listing and the downloads there is room for."""
        if self.listing is None and self.more_to_list and len(self.pending) < self.width:
            call = bulk2.result_pages(
                self.job_id, next_url=self.next_url, api_version=self.api_version
            )
            self.listing = yield from perform(Spawn(request(call, self.ctx)))
        while (
            self.pending
            and len(self.running) < self.width
            and len(self.running) + len(self.ready) < 2 * self.width
        ):
            page = self.pending.popleft().call(self.api_version)
            download = exchange(page, self.ctx, _EncodedPage(page.parse))
            ticket = yield from perform(Spawn(download))
            self.running[ticket] = self.started
            self.started += 1

    def collect(self, *, block: bool) -> Flow[None]:
        """Take in what has finished (with ``block``, wait for something to)."""
        tickets = (*self.running, *(() if self.listing is None else (self.listing,)))
        if not tickets:
            return
        for ticket in (yield from perform(Wait(tickets, block))):
            value = yield from perform(Join(ticket))
            if ticket == self.listing:
                pages, self.next_url = cast("tuple[list[bulk2.ResultPage], str | None]", value)
                for page in pages:
                    _once(self.seen, page.path, "result page")
                if self.next_url is not None:
                    _once(self.seen, self.next_url, "next result pages URL")
                self.pending.extend(pages)
                self.listed = True
                self.listing = None
            else:
                assert isinstance(value, _Page)
                self.ready[self.running.pop(ticket)] = value

    def step(self) -> Flow[None]:
        """Between two handfuls of records: take in what finished, start what fits."""
        yield from self.collect(block=False)
        yield from self.refill()

    def next_page(self) -> Flow[_Page | None]:
        """The next page's CSV in page order (waiting for it), or ``None`` after the last."""
        while True:
            yield from self.refill()
            body = self.ready.pop(self.handed, None)
            if body is not None:
                self.handed += 1
                return body
            if self.finished:
                return None
            yield from self.collect(block=True)


def query_records_by_pages(
    job_id: str,
    *,
    api_version: str | None,
    width: int,
    delimiter: str,
    ctx: FlowContext,
) -> Flow[int]:
    """Every record of a finished query job, up to ``width`` pages downloading at once.

    The pages are listed with ``/resultPages`` and downloaded in a sliding
    window (:class:`_PageWindow`); their records are handed out in page order,
    each once. Every download goes through :func:`~sfbulk_sdk.core.flow.exchange`,
    so a rejected session refreshes once and the page is fetched again whole.
    """
    window = _PageWindow(job_id, api_version, width, ctx)
    total = 0
    while True:
        page = yield from window.next_page()
        if page is None:
            return total
        total += yield from _emit_page(page, delimiter, window.step)


def _emit_page(page: _Page, delimiter: str, between: Callable[[], Flow[None]]) -> Flow[int]:
    """Hand out a page's records a slice at a time; ``between`` runs after each handful."""
    decoder = record_decoder("text/csv", delimiter=delimiter)
    count = 0
    pieces = _inflated(page)
    while True:
        try:
            piece = next(pieces, b"")
            records = decoder.feed(piece) if piece else decoder.close()
        except (ValueError, zlib.error) as exc:
            raise ProtocolError(f"could not decode a query results page: {exc}") from exc
        if records:
            count += len(records)
            yield from perform(Emit(records))
            yield from between()
        if not piece:
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
