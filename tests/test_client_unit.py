"""Client behaviour that needs no org: error wrapping, retries, input checks, secrecy."""

from __future__ import annotations

import logging

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, RetryPolicy, errors
from sfbulk_sdk.core.xml import NS

SECRET = "00Dx0000000TEST!SECRET.session.id"
JOB = "750x0000000001AAAA"


def _job_xml(state: str = "Open") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"><id>{JOB}</id>'
        "<operation>insert</operation><object>Account</object>"
        f"<state>{state}</state><contentType>CSV</contentType></jobInfo>"
    ).encode()


def test_transport_errors_are_wrapped_and_retried_only_when_safe() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("boom", request=request)

    bulk = Bulk("https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler))
    slept: list[float] = []
    bulk._sleep = slept.append
    with pytest.raises(errors.RequestTimeoutError) as info:
        bulk.get_job(JOB)
    assert not isinstance(info.value, httpx.HTTPError)
    assert calls == ["GET"] * RetryPolicy().max_attempts
    assert len(slept) == RetryPolicy().max_attempts - 1
    calls.clear()
    # create job is not idempotent: a read timeout (request sent) is not retried
    with pytest.raises(errors.RequestTimeoutError):
        bulk.create_job("insert", "Account")
    assert calls == ["POST"]


def test_connect_error_is_retried_even_for_create() -> None:
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, headers={"content-type": "application/xml"}, content=_job_xml())

    bulk = Bulk("https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler))
    bulk._sleep = lambda _s: None
    job = bulk.create_job("insert", "Account")
    assert job.id == JOB and attempts["n"] == 2


def test_server_errors_retry_with_retry_after_then_succeed() -> None:
    replies = [
        httpx.Response(503, headers={"retry-after": "2"}, content=b"busy"),
        httpx.Response(200, headers={"content-type": "application/xml"}, content=_job_xml()),
    ]
    bulk = Bulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(lambda _r: replies.pop(0)),
    )
    slept: list[float] = []
    bulk._sleep = slept.append
    assert bulk.get_job(JOB).state is not None
    assert slept == [2.0]


def test_static_session_rejection_surfaces_without_looping() -> None:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{NS}">'
        "<exceptionCode>InvalidSessionId</exceptionCode>"
        "<exceptionMessage>Invalid session id</exceptionMessage></error>"
    ).encode()
    count = {"n": 0}

    def handler(_request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        return httpx.Response(400, headers={"content-type": "application/xml"}, content=body)

    bulk = Bulk("https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.InvalidSessionError) as info:
        bulk.get_job(JOB)
    assert count["n"] == 1
    assert info.value.status_code == 400
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_constructor_checks() -> None:
    with pytest.raises(errors.InvalidInputError):
        Bulk("https://na1.example.test/")
    with pytest.raises(errors.InvalidInputError):
        Bulk("ftp://x", SECRET)
    with pytest.raises(errors.InvalidInputError, match="retired"):
        Bulk(api_version="26.0")
    with pytest.raises(errors.InvalidInputError, match="not authenticated"):
        Bulk().get_job(JOB)
    with pytest.raises(errors.InvalidInputError, match="job_create"):
        Bulk().batch_create("a,b\n1,2\n")


def test_seed_attributes_and_repr_hide_the_session(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-sfdc-session"] == SECRET
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=_job_xml())

    with Bulk("https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler)) as bulk:
        assert bulk.bulk_server == "https://na1.example.test/"
        assert bulk.sessionid == SECRET
        job = bulk.get_job(JOB)
        assert SECRET not in repr(bulk) and SECRET not in str(bulk)
        assert SECRET not in repr(job)
    for record in caplog.records:
        assert SECRET not in record.getMessage()


@pytest.mark.anyio
async def test_async_client_wraps_errors_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def no_sleep(_s: float) -> None:
        return None

    async with AsyncBulk(
        "https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler)
    ) as bulk:
        bulk._sleep = no_sleep
        with pytest.raises(errors.TransportError) as info:
            await bulk.get_job(JOB)
        assert SECRET not in str(info.value)
