"""The ``/resultPages`` sliding window in both clients, against the fake org.

The async client runs page downloads as asyncio tasks, the sync client in
worker threads (:mod:`sfbulk_sdk._background`); on an event loop without
asyncio tasks the async client falls back to rounds. In every case each record
comes once, in the locator order, a rejected session is refreshed once mid-read,
and a read abandoned half-way leaves nothing running.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Iterator

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, _background
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.core import bulk2_flows
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from sfbulk_sdk.testing.server import serve_in_thread
from tests.org_clients import org_bulk, soap_auth
from tests.timing import FakeTime
from tests.tls import Tls

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

ROWS = 2_250
PAGE = 100  # 23 pages, five listings


def _org() -> FakeOrg:
    org = FakeOrg(bulk2_query_page_records=PAGE)
    org.insert("Account", [{"Name": f"Window {i:05d}"} for i in range(ROWS)])
    return org


def _page_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sfbulk-page")]


def _finished_job(bulk: Bulk) -> tuple[str, list[str]]:
    """A finished query of every Account, and its names read by locator."""
    job = bulk.create_query_job("SELECT Id, Name FROM Account")
    assert job.id is not None
    bulk.wait_for_query_job(job.id)
    return job.id, [str(r["Name"]) for r in bulk.iter_query_job_results(job.id, max_records=PAGE)]


async def _finished_job_async(bulk: AsyncBulk) -> tuple[str, list[str]]:
    job = await bulk.create_query_job("SELECT Id, Name FROM Account")
    assert job.id is not None
    await bulk.wait_for_query_job(job.id)
    names = [str(r["Name"]) async for r in bulk.iter_query_job_results(job.id, max_records=PAGE)]
    return job.id, names


def _async_client(org: FakeOrg) -> AsyncBulk:
    return AsyncBulk(auth=soap_auth(), transport=FakeOrgTransport(org), **FakeTime().async_())


@pytest.mark.parametrize("width", [2, 4])
def test_sync_window_keeps_locator_order_through_a_rejected_session(width: int) -> None:
    org = _org()
    with org_bulk(org) as bulk:
        job_id, by_locator = _finished_job(bulk)
        logins = org.login_count
        seen: list[str] = []
        for record in bulk.iter_query_job_results(job_id, parallel_pages=width):
            seen.append(str(record["Name"]))
            if len(seen) == 1_000:
                assert org.expire_sessions() >= 1
    assert len(by_locator) == ROWS
    assert seen == by_locator  # each once, in locator order
    assert org.login_count == logins + 1  # concurrent 401s refreshed once
    assert _page_threads() == []


def test_sync_read_abandoned_half_way_stops_its_threads() -> None:
    org = _org()
    with org_bulk(org) as bulk:
        job_id, by_locator = _finished_job(bulk)
        records = bulk.iter_query_job_results(job_id, parallel_pages=4)
        first = [str(next(records)["Name"]) for _ in range(150)]
        assert _page_threads()  # downloads run in worker threads
        records.close()  # type: ignore[attr-defined]
        assert _page_threads() == []
    assert first == by_locator[:150]


@pytest.mark.anyio
async def test_async_read_abandoned_half_way_cancels_its_tasks() -> None:
    org = _org()
    async with _async_client(org) as bulk:
        job_id, by_locator = await _finished_job_async(bulk)
        before = asyncio.all_tasks()
        records = bulk.iter_query_job_results(job_id, parallel_pages=4)
        seen = [str((await records.__anext__())["Name"]) for _ in range(150)]
        assert len(asyncio.all_tasks() - before) >= 1  # downloads run as tasks
        await records.aclose()  # type: ignore[attr-defined]
        assert asyncio.all_tasks() - before == set()
    assert seen == by_locator[:150]


@pytest.mark.anyio
async def test_without_asyncio_tasks_the_async_window_runs_in_rounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fallback for other event loops (trio): same records, same order, bounded."""
    org = _org()

    async with _async_client(org) as bulk:
        job_id, by_locator = await _finished_job_async(bulk)
        monkeypatch.setattr(_background, "_asyncio_loop", lambda: None)
        before = asyncio.all_tasks()
        seen: list[str] = []
        async for record in bulk.iter_query_job_results(job_id, parallel_pages=3):
            seen.append(str(record["Name"]))
            if len(seen) == 700:
                org.expire_sessions()
        assert asyncio.all_tasks() - before == set()  # nothing outlived a wait
    assert seen == by_locator


@pytest.mark.anyio
async def test_over_https_pages_wait_compressed_and_come_out_in_order(
    tls: Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served for real, pages arrive gzipped: held that way, inflated as handed out."""
    org = _org()
    codings: list[str] = []
    inflate = bulk2_flows._inflated

    def spy(page: bulk2_flows._Page) -> Iterator[bytes]:
        codings.append(page.encoding)
        return inflate(page)

    monkeypatch.setattr(bulk2_flows, "_inflated", spy)
    trust = ssl.create_default_context(cafile=str(tls.ca_file))
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        async with (
            httpx.AsyncClient(verify=trust, timeout=30) as http,
            AsyncBulk(auth=soap_auth(url), http_client=http, **FakeTime().async_()) as bulk,
        ):
            job_id, by_locator = await _finished_job_async(bulk)
            pages = bulk.iter_query_job_results(job_id, parallel_pages=4)
            seen = [str(record["Name"]) async for record in pages]
    assert len(by_locator) == ROWS
    assert seen == by_locator
    assert codings == ["gzip"] * (ROWS // PAGE + 1)  # every page was held compressed


def test_result_page_urls_without_their_leading_slash_are_read_from_the_root() -> None:
    # The docs print job URLs as "services/data/..." (contentUrl); a /resultPages listing
    # spelled so is read from the instance's root, every record once.
    org = FakeOrg(bulk2_query_page_records=4)
    org.insert("Contact", [{"LastName": f"L{i}"} for i in range(10)])

    transport = FakeOrgTransport(org)

    def handler(request: httpx.Request) -> httpx.Response:
        response = transport.handle_request(request)
        if request.url.path.lower().endswith("/resultpages") and response.status_code == 200:
            listing = json.loads(response.read())
            for page in listing.get("resultPages", []):
                page["resultUrl"] = page["resultUrl"].lstrip("/")
            if listing.get("nextRecordsUrl"):
                listing["nextRecordsUrl"] = listing["nextRecordsUrl"].lstrip("/")
            return httpx.Response(200, json=listing, request=request)
        return response

    auth = StaticSession(org.instance_url, org.issue_session())
    with Bulk(auth=auth, transport=httpx.MockTransport(handler)) as bulk:
        rows = list(bulk.query("SELECT LastName FROM Contact", api="bulk2", parallel_pages=2))
    assert sorted(str(r["LastName"]) for r in rows) == sorted(f"L{i}" for i in range(10))
