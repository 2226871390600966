"""Retries: which failures are retried, how long the client waits, and the typed error
it ends in (no ``httpx`` exception escapes). Against ``httpx.MockTransport`` or the
fake org; the waits are recorded, never slept.
"""

from __future__ import annotations

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, RetryPolicy, errors
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.client.mock_replies import INSTANCE, JOB, SECRET, job_xml
from tests.org_clients import soap_auth
from tests.timing import FakeTime


def test_transport_errors_are_wrapped_and_retried_only_when_safe() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("boom", request=request)

    slept: list[float] = []
    bulk = Bulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(handler),
        **FakeTime(on_sleep=slept.append).sync(),
    )
    with pytest.raises(errors.RequestTimeoutError) as info:
        bulk.get_job(JOB)
    assert not isinstance(info.value, httpx.HTTPError)
    assert calls == ["GET"] * RetryPolicy().max_attempts
    assert len(slept) == RetryPolicy().max_attempts - 1
    calls.clear()
    # a Bulk 1.0 create job cannot be looked up (no job list): it is sent again, which
    # at worst leaves an empty Open job (no record); see tests/reliability/test_reconcile.py
    with pytest.raises(errors.RequestTimeoutError):
        bulk.create_job("insert", "Account")
    assert calls == ["POST"] * RetryPolicy().max_attempts


def test_connect_error_is_retried_even_for_create() -> None:
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, headers={"content-type": "application/xml"}, content=job_xml())

    bulk = Bulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(handler),
        **FakeTime().sync(),
    )
    job = bulk.create_job("insert", "Account")
    assert job.id == JOB and attempts["n"] == 2


@pytest.mark.anyio
async def test_async_client_wraps_errors_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def no_sleep(_s: float) -> None:
        return None

    async with AsyncBulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(handler),
        **FakeTime().async_(),
    ) as bulk:
        with pytest.raises(errors.TransportError) as info:
            await bulk.get_job(JOB)
        assert SECRET not in str(info.value)


def test_a_login_lost_on_the_network_is_retried() -> None:
    org = FakeOrg()
    org.inject_fault(r"/services/Soap/u/", count=1, drop_connection=True)
    time = FakeTime()
    slept = time.slept
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **time.sync()) as bulk:
        job = bulk.create_job("query", "Account")
    assert job.id is not None
    assert org.login_count == 1
    assert len(slept) == 1


# --------------------------------------------------------------------------- Retry-After


def test_server_errors_retry_with_retry_after_then_succeed() -> None:
    replies = [
        httpx.Response(503, headers={"retry-after": "2"}, content=b"busy"),
        httpx.Response(200, headers={"content-type": "application/xml"}, content=job_xml()),
    ]
    slept: list[float] = []
    bulk = Bulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(lambda _r: replies.pop(0)),
        **FakeTime(on_sleep=slept.append).sync(),
    )
    assert bulk.get_job(JOB).state is not None
    assert slept == [2.0]


@pytest.mark.review("client")
def test_retry_after_longer_than_the_backoff_cap_is_not_cut_short() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503, headers={"retry-after": "120"}, content=b"down for maintenance")

    slept: list[float] = []
    bulk = Bulk(
        INSTANCE,
        SECRET,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_backoff=20.0),
        **FakeTime(on_sleep=slept.append).sync(),
    )
    with pytest.raises(errors.ServerError) as caught:
        bulk.get_job(JOB)
    # Salesforce asked for two minutes: asking again after 20 s would only be refused again
    assert slept == [] and calls == ["GET"]
    assert caught.value.status_code == 503
    assert caught.value.response is not None
    assert caught.value.response.headers["retry-after"] == "120"


@pytest.mark.review("client")
def test_retry_after_within_the_cap_is_waited_exactly() -> None:
    """Guard: a ``Retry-After`` the policy can wait for is still waited for exactly."""
    replies = iter(
        [
            httpx.Response(503, headers={"retry-after": "7"}, content=b"busy"),
            httpx.Response(
                200, headers={"content-type": "application/xml"}, content=job_xml("query")
            ),
        ]
    )
    slept: list[float] = []
    bulk = Bulk(
        INSTANCE,
        SECRET,
        transport=httpx.MockTransport(lambda _r: next(replies)),
        **FakeTime(on_sleep=slept.append).sync(),
    )
    assert bulk.get_job(JOB).id == JOB
    assert slept == [7.0]
