"""A million-row Bulk 2.0 query: every row once through ``results`` paging and ``resultPages``.

The table is filled in-process (``org.insert``); the query job and its pages go
through the in-process transport as a client's requests would. Timings and
the peak memory are printed (``pytest -s`` shows them), never asserted. It takes
about 10 s, so it stays in the default run (no ``slow`` marker).
"""

from __future__ import annotations

import csv
import io
import resource
import sys
import time

from bulk2_support import Bulk2Caller

from sfbulk_sdk.models.bulk2 import Bulk2JobState, ResultPages
from sfbulk_sdk.testing import FakeOrg

ROWS = 1_000_000
PAGE = 50_000


def ids_of(text: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""))
    assert next(reader) == ["Id", "Name"]
    return [row[0] for row in reader]


def peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def test_a_million_rows_page_through_once_each_way() -> None:
    org = FakeOrg()
    started = time.perf_counter()
    inserted = org.insert("Account", ({"Name": f"Account {n}"} for n in range(ROWS)))
    filled = time.perf_counter()
    bulk = Bulk2Caller(org, version="62.0")
    job = bulk.create_query("SELECT Id, Name FROM Account")
    assert bulk.query(str(job.id)).state is Bulk2JobState.JOB_COMPLETE
    queried = time.perf_counter()

    seen: list[str] = []
    page = bulk.page(str(job.id), maxRecords=PAGE)
    pages = 0
    while True:
        assert page.status == 200 and page.count is not None
        ids = ids_of(page.text)
        assert len(ids) == page.count <= PAGE
        seen += ids
        pages += 1
        if page.locator == "null":
            break
        page = bulk.page(str(job.id), maxRecords=PAGE, locator=str(page.locator))
    by_locator = time.perf_counter()
    assert pages == ROWS // PAGE and seen == inserted  # every row once, in the query's order

    parallel: list[str] = []
    urls = 0
    reply = bulk.request("GET", f"/jobs/query/{job.id}/resultPages", params={"maxRecords": PAGE})
    while True:
        listing = ResultPages.from_json(reply.content)
        for entry in listing.result_pages:
            parallel += ids_of(bulk.get_url(entry.result_url).text)
            urls += 1
        if listing.done:
            break
        assert listing.next_records_url is not None
        reply = bulk.get_url(listing.next_records_url)
    by_pages = time.perf_counter()
    assert urls == ROWS // PAGE and parallel == inserted

    print(
        f"\n1M-row Bulk 2.0 query: insert {filled - started:.1f}s, "
        f"query job {queried - filled:.1f}s, {pages} locator pages {by_locator - queried:.1f}s, "
        f"{urls} resultPages pages {by_pages - by_locator:.1f}s, "
        f"total {by_pages - started:.1f}s, peak RSS {peak_mb():.0f} MB"
    )
