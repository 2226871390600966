"""Bulk 2.0 query: parallel ``/resultPages`` against locator paging, with latency.

The fake org answers every request after ``LATENCY`` seconds and cuts results
into pages; the same query is read twice by the async client: one page after
another by ``Sforce-Locator``, then ``/resultPages`` with 4 pages at once (a
sliding window). Both modes get the same latency per request and the same
pages (``maxRecords`` is the org's page size). Two workloads of 20 pages each
(``WORKLOADS``): 100,000 rows in pages of 5,000 and 20,000 rows in pages of
1,000. The fake renders a query's results once, when the job completes (as
Salesforce has its pages ready), so a page request costs the latency and the
sending of bytes cut from them, not a rendering. Two setups:

* the fake org in its own process over HTTPS (:mod:`bench_bulk2_server`), as
  Salesforce is: the client's decoding is the only CPU on the client's side;
* the fake org in-process (``FakeOrgTransport``): the fake's work and the
  client's decoding share one Python thread.

Prints the wall times and their ratio for both (the issue asks for >= 2.5x).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings

import httpx
from bench_bulk2_server import FakeOrgProcess

from sfbulk_sdk import AsyncBulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)

#: (rows, rows per page)
WORKLOADS = ((100_000, 5_000), (20_000, 1_000))
LATENCY = 0.1
WIDTH = 4


def _auth(login_url: str = "https://login.salesforce.com") -> SoapLogin:
    return SoapLogin(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=login_url
    )


async def _timed(bulk: AsyncBulk, job_id: str, width: int, page: int) -> tuple[float, int]:
    await bulk.get_query_job(job_id)  # log in and learn the job before timing
    start = time.perf_counter()
    count = 0
    async for _ in bulk.iter_query_job_results(job_id, max_records=page, parallel_pages=width):
        count += 1
    return time.perf_counter() - start, count


async def _read(org: FakeOrg, job_id: str, width: int, page: int) -> tuple[float, int]:
    async with AsyncBulk(auth=_auth(), transport=FakeOrgTransport(org)) as bulk:
        return await _timed(bulk, job_id, width, page)


def _report(title: str, serial: float, parallel: float) -> None:
    print(f"  {title}")
    print(f"    locator paging:           {serial:6.2f} s")
    print(f"    /resultPages, {WIDTH} at once:  {parallel:6.2f} s")
    print(f"    ratio: {serial / parallel:.2f}x (goal >= 2.5x)")


async def out_of_process(rows: int, page: int) -> None:
    with FakeOrgProcess(rows, page_records=page, latency=LATENCY) as org:
        trust = ssl.create_default_context(cafile=str(org.ca_file))
        times = []
        for width in (1, WIDTH):
            async with (
                httpx.AsyncClient(verify=trust, timeout=60) as http,
                AsyncBulk(auth=_auth(org.url), http_client=http) as bulk,
            ):
                job = await bulk.create_query_job("SELECT Id, Name FROM Account")
                assert job.id is not None
                await bulk.wait_for_query_job(job.id)
                seconds, count = await _timed(bulk, job.id, width, page)
                assert count == rows, count
                times.append(seconds)
    _report("fake org in its own process, over HTTPS:", *times)


async def in_process(rows: int, page: int) -> None:
    org = FakeOrg(bulk2_query_page_records=page)
    org.insert("Account", [{"Name": f"Page {i}"} for i in range(rows)])
    async with AsyncBulk(auth=_auth(), transport=FakeOrgTransport(org)) as bulk:
        job = await bulk.create_query_job("SELECT Id, Name FROM Account")
        assert job.id is not None
        await bulk.wait_for_query_job(job.id)
    org.state.settings.latency = LATENCY
    serial, n1 = await _read(org, job.id, 1, page)
    parallel, n2 = await _read(org, job.id, WIDTH, page)
    assert n1 == n2 == rows, (n1, n2)
    _report("fake org in-process (its CPU shared with the client):", serial, parallel)


async def main() -> None:
    warnings.simplefilter("ignore")
    for rows, page in WORKLOADS:
        print(f"Bulk 2.0 query, {rows:,} rows in {rows // page} pages of {page:,}, "
              f"{LATENCY * 1000:.0f} ms per request")  # fmt: skip
        await out_of_process(rows, page)
        await in_process(rows, page)


if __name__ == "__main__":
    asyncio.run(main())
