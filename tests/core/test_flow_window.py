"""The ``/resultPages`` sliding window, driven by hand: spawned flows finish when the test says.

The test plays the driver of :mod:`sfbulk_sdk.core.flow`: it hands out tickets
for :class:`~sfbulk_sdk.core.flow.Spawn`, runs a spawned flow (its real
``exchange``: session, request, reply) only when it decides that download ends,
and answers ``Wait`` and ``Join`` from that. So it can finish pages out of
order and check what the window does meanwhile: how many downloads are in
flight, how many pages are held, when the next one starts, and the order in
which records come out.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import zlib
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfbulk_sdk import errors
from sfbulk_sdk.core import bulk2_flows
from sfbulk_sdk.core import flow as f
from sfbulk_sdk.core.policy import RetryPolicy
from sfbulk_sdk.models import Session

SESSION = Session.static("https://na1.example.test", "00Dx!WINDOW-SESSION")
CTX = f.FlowContext("64.0", RetryPolicy(max_attempts=1, jitter=0), can_refresh=False)
JOB = "750x0000000009AAAA"
BASE = f"/services/data/v64.0/jobs/query/{JOB}"


def _page_csv(page: int, rows: int) -> bytes:
    return ("Name\n" + "".join(f"P{page:03d}-{i:03d}\n" for i in range(rows))).encode()


@dataclass
class Org:
    """What the pretend server answers: ``pages`` pages, listed five per listing."""

    pages: int
    rows: int = 3
    per_listing: int = 5
    failing_page: int | None = None
    #: compress the pages as Salesforce does; "deflate-raw": deflate without its zlib header
    encoding: str = ""

    def answer(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        query = parse_qs(url.query)
        if url.path.endswith("/resultPages") or url.path.endswith("/resultpages"):
            first = int(query.get("locator", ["0"])[0])
            last = min(first + self.per_listing, self.pages)
            more = last < self.pages
            body = {
                "resultPages": [
                    {"resultUrl": f"{BASE}/results?locator={n}"} for n in range(first, last)
                ],
                "nextRecordsUrl": f"{BASE}/resultpages?locator={last}" if more else None,
                "done": not more,
            }
            return httpx.Response(200, json=body, request=request)
        page = int(query["locator"][0])
        if page == self.failing_page:
            body_text = json.dumps([{"errorCode": "NOT_FOUND", "message": "gone"}])
            return httpx.Response(404, text=body_text, request=request)
        csv = _page_csv(page, self.rows)
        raw = {
            "": csv,
            "gzip": gzip.compress(csv),
            "deflate": zlib.compress(csv),
            "deflate-raw": zlib.compress(csv, wbits=-15),
        }[self.encoding]
        headers = {"content-type": "text/csv"}
        if self.encoding:
            headers["content-encoding"] = self.encoding.removesuffix("-raw")
        # what the driver's ReadRaw would read off the wire: the body still encoded
        return httpx.Response(
            200, headers=headers, content=raw, request=request, extensions={"raw": raw}
        )


@dataclass
class Job:
    """One spawned flow: what it fetches (once it has run) and how it ended."""

    flow: f.Flow[object]
    page: int | None = None  # None: a listing
    outcome: f.Reply | None = None


@dataclass
class WindowDriver:
    """Drives ``query_records_by_pages``; ``pick`` chooses which download ends next."""

    org: Org
    width: int
    pick: random.Random = field(default_factory=lambda: random.Random(0))
    jobs: dict[int, Job] = field(default_factory=dict)
    records: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    max_running: int = 0
    max_held: int = 0
    spawned_pages: int = 0

    def _finish(self, ticket: int) -> None:
        job = self.jobs[ticket]
        step = f.start(job.flow)
        try:
            while not isinstance(step, f.Done):
                if isinstance(step, f.GetSession):
                    step = f.resume(job.flow, f.Reply(SESSION))
                elif isinstance(step, f.Send):
                    step = f.resume(job.flow, f.Reply(self.org.answer(step.request)))
                elif isinstance(step, f.ReadRaw):
                    raw = (
                        step.response.headers.get("content-encoding", ""),
                        step.response.extensions["raw"],
                    )
                    step = f.resume(job.flow, f.Reply(raw))
                else:
                    step = f.resume(job.flow, f.Reply())
            job.outcome = f.Reply(step.value)
        except errors.SfBulkError as exc:
            job.outcome = f.Reply(error=exc)
        self.events.append(f"done {'listing' if job.page is None else job.page}")

    def _running_pages(self) -> list[int]:
        return [t for t, j in self.jobs.items() if j.page is not None and j.outcome is None]

    def _spawn(self, effect: f.Spawn[object]) -> int:
        ticket = len(self.jobs) + 1
        page = None if self._is_listing(effect) else self.spawned_pages
        if page is not None:
            self.spawned_pages += 1  # the window starts pages in listing order
        self.jobs[ticket] = Job(effect.flow, page)
        running = len(self._running_pages())
        fully_handed = len(self.records) // self.org.rows
        self.max_running = max(self.max_running, running)
        self.max_held = max(self.max_held, self.spawned_pages - fully_handed)
        self.events.append(f"spawn {'listing' if page is None else page}")
        return ticket

    @staticmethod
    def _is_listing(effect: f.Spawn[object]) -> bool:
        # A listing is a plain request (parsed whole); a download reads page bytes.
        frame = effect.flow.gi_frame
        assert frame is not None
        call = frame.f_locals["call"]
        return "resultpages" in call.path.lower()

    def _wait(self, effect: f.Wait) -> list[int]:
        if effect.block:
            unfinished = [t for t in effect.tickets if self.jobs[t].outcome is None]
            if len(unfinished) == len(effect.tickets):
                self._finish(self.pick.choice(unfinished))
        elif self.pick.random() < 0.3:
            unfinished = [t for t in effect.tickets if self.jobs[t].outcome is None]
            if unfinished:
                self._finish(self.pick.choice(unfinished))
        return [t for t in effect.tickets if self.jobs[t].outcome is not None]

    def run(self) -> int:
        flow = bulk2_flows.query_records_by_pages(
            JOB, api_version="64.0", width=self.width, delimiter=",", ctx=CTX
        )
        step = f.start(flow)
        while not isinstance(step, f.Done):
            reply = f.Reply()
            if isinstance(step, f.Spawn):
                reply = f.Reply(self._spawn(step))
            elif isinstance(step, f.Wait):
                reply = f.Reply(self._wait(step))
            elif isinstance(step, f.Join):
                job = self.jobs[step.ticket]
                if job.outcome is None:
                    self._finish(step.ticket)
                assert job.outcome is not None
                reply = job.outcome
            elif isinstance(step, f.Emit):
                self.records.extend(str(r["Name"]) for r in step.items)
                self.events.append(f"emit {int(str(step.items[0]['Name'])[1:4])}")
            else:  # pragma: no cover - the window asks for nothing else
                raise AssertionError(f"unexpected effect {step!r}")
            step = f.resume(flow, reply)
        return int(step.value)


def _expected(org: Org) -> list[str]:
    return [f"P{p:03d}-{i:03d}" for p in range(org.pages) for i in range(org.rows)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("width", [1, 2, 4, 5])
def test_pages_finishing_in_any_order_come_out_in_page_order_each_once(
    width: int, seed: int
) -> None:
    org = Org(pages=23)
    driver = WindowDriver(org, width, random.Random(seed))
    assert driver.run() == 23 * 3
    assert driver.records == _expected(org)
    assert driver.max_running <= width
    # held: downloading or downloaded and not yet handed out in full (+1 being handed out)
    assert driver.max_held <= 2 * width + 1
    assert driver.spawned_pages == 23  # every page fetched exactly once


def test_a_new_download_starts_as_soon_as_one_ends_not_after_the_round() -> None:
    """The first page is slow: the others finishing start new downloads meanwhile."""
    org = Org(pages=10)

    class SlowHead(random.Random):
        def choice(self, seq):  # type: ignore[no-untyped-def, override]
            return seq[-1]  # the newest first: page 0 ends last among those running

    driver = WindowDriver(org, 3, SlowHead(0))
    driver.run()
    head_done = driver.events.index("done 0")
    # With rounds, page 3 would wait for pages 0..2 to end; here it starts before page 0 ends.
    assert driver.events.index("spawn 3") < head_done
    assert driver.records == _expected(org)
    assert driver.max_running <= 3


def test_downloads_are_started_while_a_long_page_is_handed_out() -> None:
    """A page of several decode slices: between two handfuls a finished slot is refilled."""
    org = Org(pages=6, rows=20_000)  # ~200 kB a page: four slices of 64 kB
    driver = WindowDriver(org, 2, random.Random(5))
    driver.run()
    assert driver.records == _expected(org)
    emits = [i for i, e in enumerate(driver.events) if e.startswith("emit")]
    inside_a_page = [
        e
        for a, b in itertools.pairwise(emits)
        if driver.events[a] == driver.events[b]
        for e in driver.events[a + 1 : b]
        if e.startswith("spawn")
    ]
    assert inside_a_page  # a download started while a page was being handed out
    assert driver.max_running <= 2


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw"])
def test_held_pages_stay_compressed_and_are_inflated_a_slice_at_a_time(encoding: str) -> None:
    org = Org(pages=4, rows=30_000, encoding=encoding)  # ~300 kB of CSV a page
    driver = WindowDriver(org, 2, random.Random(2))
    assert driver.run() == 4 * 30_000
    assert driver.records == _expected(org)
    emits = [e for e in driver.events if e.startswith("emit")]
    assert len(emits) >= 4 * 4  # each page inflated and decoded in several slices


def test_a_broken_compressed_page_is_a_protocol_error() -> None:
    org = Org(pages=2, rows=10, encoding="gzip")
    answer = org.answer

    def truncated(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        if "raw" in response.extensions:
            response.extensions["raw"] = response.extensions["raw"][:-12]
        return response

    org.answer = truncated  # type: ignore[method-assign]
    with pytest.raises(errors.ProtocolError, match="could not decode"):
        WindowDriver(org, 2).run()


def test_the_next_listing_travels_with_the_downloads() -> None:
    org = Org(pages=12)
    driver = WindowDriver(org, 4, random.Random(3))
    driver.run()
    spawns = [e for e in driver.events if e.startswith("spawn")]
    second_listing = [i for i, e in enumerate(spawns) if e == "spawn listing"][1]
    # it is asked for while pages of the first listing are still downloading
    done_before = driver.events[: driver.events.index(spawns[second_listing])]
    assert sum(1 for e in done_before if e.startswith("done ") and e != "done listing") < 5
    assert driver.records == _expected(org)


def test_a_failed_download_ends_the_read_with_its_error() -> None:
    org = Org(pages=9, failing_page=6)
    driver = WindowDriver(org, 3, random.Random(1))
    with pytest.raises(errors.SfBulkError):
        driver.run()
    assert driver.records == _expected(org)[: len(driver.records)]  # a clean prefix
    assert len(driver.records) <= 6 * org.rows


def test_no_pages_is_no_records() -> None:
    driver = WindowDriver(Org(pages=0), 4)
    assert driver.run() == 0
    assert driver.records == []
