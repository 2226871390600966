"""A session rejected in the middle of a paged Bulk 2.0 download resumes at its page.

The fake org ends every session after the first page has been read; the client
refreshes once and asks for the same locator again, so every record arrives
exactly once (issue 9, sync and async).
"""

from __future__ import annotations

import pytest
from timing import FakeTime

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)

ROWS = 2_500
PAGE = 400
EXPIRE_AFTER = 650  # inside the second page


def _org() -> tuple[FakeOrg, list[str]]:
    org = FakeOrg()
    names = [f"Resume {i:05d}" for i in range(ROWS)]
    org.insert("Account", [{"Name": n} for n in names])
    return org, names


def _auth() -> SoapLogin:
    return SoapLogin(
        DEFAULT_USERNAME,
        DEFAULT_PASSWORD,
        DEFAULT_SECURITY_TOKEN,
        login_url="https://login.salesforce.com",
    )


@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
def test_a_session_rejected_mid_download_resumes_at_its_page_sync() -> None:
    org, names = _org()
    seen: list[str] = []
    with Bulk(auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_query_job("SELECT Id, Name FROM Account")
        assert job.id is not None
        bulk.wait_for_query_job(job.id)
        logins_before = org.login_count
        for record in bulk.iter_query_job_results(job.id, max_records=PAGE):
            seen.append(str(record["Name"]))
            if len(seen) == EXPIRE_AFTER:
                assert org.expire_sessions() >= 1
    assert org.login_count == logins_before + 1  # exactly one refresh
    assert len(seen) == ROWS
    assert sorted(seen) == names  # none lost, none repeated


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
async def test_a_session_rejected_mid_download_resumes_at_its_page_async() -> None:
    org, names = _org()
    seen: list[str] = []
    async with AsyncBulk(
        auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().async_()
    ) as bulk:
        job = await bulk.create_query_job("SELECT Id, Name FROM Account")
        assert job.id is not None
        await bulk.wait_for_query_job(job.id)
        logins_before = org.login_count
        async for record in bulk.iter_query_job_results(job.id, max_records=PAGE):
            seen.append(str(record["Name"]))
            if len(seen) == EXPIRE_AFTER:
                assert org.expire_sessions() >= 1
    assert org.login_count == logins_before + 1
    assert len(seen) == ROWS
    assert sorted(seen) == names


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
async def test_parallel_result_pages_survive_a_rejected_session() -> None:
    org, names = _org()
    seen: list[str] = []
    async with AsyncBulk(
        auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().async_()
    ) as bulk:
        job = await bulk.create_query_job("SELECT Id, Name FROM Account")
        assert job.id is not None
        await bulk.wait_for_query_job(job.id)
        async for record in bulk.iter_query_job_results(job.id, parallel_pages=4):
            seen.append(str(record["Name"]))
            if len(seen) == 1:
                org.expire_sessions()
    assert len(seen) == ROWS
    assert sorted(seen) == names


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")
@pytest.mark.parametrize("width", [2, 4, 7])
async def test_result_pages_over_several_listings_keep_page_order(width: int) -> None:
    """23 pages need five listings of five: every record once, in the locator order."""
    org = FakeOrg(bulk2_query_page_records=100)
    org.insert("Account", [{"Name": f"Order {i:05d}"} for i in range(2_250)])
    async with AsyncBulk(
        auth=_auth(), transport=FakeOrgTransport(org), **FakeTime().async_()
    ) as bulk:
        job = await bulk.create_query_job("SELECT Id, Name FROM Account")
        assert job.id is not None
        await bulk.wait_for_query_job(job.id)
        by_locator = [
            str(r["Name"]) async for r in bulk.iter_query_job_results(job.id, max_records=100)
        ]
        seen: list[str] = []
        async for record in bulk.iter_query_job_results(job.id, parallel_pages=width):
            seen.append(str(record["Name"]))
            if len(seen) == 1_000:
                org.expire_sessions()
    assert len(by_locator) == 2_250
    assert seen == by_locator
