"""Client behaviour that needs no org: error wrapping, retries, input checks, secrecy."""

from __future__ import annotations

import logging

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, RetryPolicy, errors
from sfbulk_sdk.models.xml import NS
from tests.timing import FakeTime

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

    bulk = Bulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(handler),
        **FakeTime().sync(),
    )
    job = bulk.create_job("insert", "Account")
    assert job.id == JOB and attempts["n"] == 2


def test_server_errors_retry_with_retry_after_then_succeed() -> None:
    replies = [
        httpx.Response(503, headers={"retry-after": "2"}, content=b"busy"),
        httpx.Response(200, headers={"content-type": "application/xml"}, content=_job_xml()),
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
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(handler),
        **FakeTime().async_(),
    ) as bulk:
        with pytest.raises(errors.TransportError) as info:
            await bulk.get_job(JOB)
        assert SECRET not in str(info.value)


class _BrokenStream(httpx.SyncByteStream):
    """Yields part of a body, then fails as a dropped connection would."""

    def __init__(self, body: bytes, fail_after: int) -> None:
        self._body = body
        self._fail_after = fail_after

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield self._body[: self._fail_after]
        raise httpx.RemoteProtocolError("peer closed connection mid-body")


def test_query_stream_resumes_after_a_dropped_connection_without_loss_or_repeats() -> None:
    from sfbulk_sdk import ContentType

    batch = "751x0000000001AAAA"
    result = "752x0000000001AAAA"
    rows = [f'"001x{i:014d}","Name {i}"' for i in range(50)]
    body = ('"Id","Name"\n' + "\n".join(rows) + "\n").encode()
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith(f"/result/{result}")
        attempts["n"] += 1
        headers = {"content-type": "text/csv"}
        if attempts["n"] == 1:
            return httpx.Response(200, headers=headers, stream=_BrokenStream(body, len(body) // 2))
        return httpx.Response(200, headers=headers, content=body)

    bulk = Bulk(
        "https://na1.example.test/",
        SECRET,
        transport=httpx.MockTransport(handler),
        **FakeTime().sync(),
    )
    bulk._job_types[JOB] = ContentType.CSV
    records = list(bulk.iter_query_results(JOB, batch, result_ids=[result]))
    assert attempts["n"] == 2
    assert [r["Name"] for r in records] == [f"Name {i}" for i in range(50)]
