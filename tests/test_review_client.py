"""Defects found by a correctness review of the client side, one test each.

Every test here failed before its fix (the two marked "guard" pin the side
of a fix that already worked). They run against the fake org in
process or against ``httpx.MockTransport``; time only moves through the
clients' sleep seam.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, PollPolicy, RetryPolicy, errors
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.core import bulk1
from sfbulk_sdk.models import BatchState
from sfbulk_sdk.models.xml import NS
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
    ManualClock,
)
from tests.timing import FakeTime

SECRET = "00Dx0000000REVIEW!secret.session.id"
PASSWORD = "review-password-123"
TOKEN = "reviewTOKEN456"
JOB = "750x0000000001AAAA"
BATCH = "751x0000000001AAAA"
RESULT = "752x0000000001A"  # result ids are 15 characters on the wire
INSTANCE = "https://na1.example.test/"


def _job_xml(content_type: str = "CSV") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"><id>{JOB}</id>'
        "<operation>query</operation><object>Account</object>"
        f"<state>Open</state><contentType>{content_type}</contentType></jobInfo>"
    ).encode()


def _result_list_xml() -> bytes:
    return f'<result-list xmlns="{NS}"><result>{RESULT}</result></result-list>'.encode()


def _query_org(
    body: bytes | httpx.SyncByteStream | httpx.AsyncByteStream, media: str, content_type: str
) -> httpx.MockTransport:
    """A query job with one batch and one result file whose reply is ``body``."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(f"/job/{JOB}"):
            return httpx.Response(
                200, headers={"content-type": "application/xml"}, content=_job_xml(content_type)
            )
        if path.endswith("/result"):
            return httpx.Response(
                200, headers={"content-type": "application/xml"}, content=_result_list_xml()
            )
        assert path.endswith(f"/result/{RESULT}")
        if isinstance(body, bytes):
            return httpx.Response(200, headers={"content-type": media}, content=body)
        return httpx.Response(200, headers={"content-type": media}, stream=body)

    return httpx.MockTransport(handler)


def _auth(password: str = DEFAULT_PASSWORD, token: str = DEFAULT_SECURITY_TOKEN) -> SoapLogin:
    return SoapLogin(DEFAULT_USERNAME, password, token, login_url="https://login.salesforce.com")


# --------------------------------------------------------------------------- 2xx bodies


@pytest.mark.parametrize(
    ("content_type", "media", "body"),
    [
        # a result file cut short (or an HTML page sent as XML): ElementTree.ParseError
        ("XML", "application/xml", f'<queryResult xmlns="{NS}"><records><Id>1'.encode()),
        # a field the csv module refuses (longer than its 131,072-character limit): csv.Error
        ("CSV", "text/csv", b'"Id","Name"\n"001","' + b"x" * 140_000 + b'"\n'),
        # a row with more or fewer values than the header: zip() dropped the difference
        ("CSV", "text/csv", b'"Id","Name"\n"001","A","surplus"\n'),
        ("CSV", "text/csv", b'"Id","Name"\n"001","A"\n"002"\n'),
    ],
)
def test_an_unreadable_query_result_file_raises_protocol_error(
    content_type: str, media: str, body: bytes
) -> None:
    bulk = Bulk(
        INSTANCE, SECRET, transport=_query_org(body, media, content_type), **FakeTime().sync()
    )
    with pytest.raises(errors.ProtocolError) as caught:
        list(bulk.iter_query_results(JOB, BATCH))
    assert caught.value.status_code == 200


def test_a_csv_batch_result_with_a_short_row_raises_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/job/{JOB}"):
            return httpx.Response(
                200, headers={"content-type": "application/xml"}, content=_job_xml()
            )
        body = b'"Id","Success","Created","Error"\n"001x00000000001AAA","true"\n'
        return httpx.Response(200, headers={"content-type": "text/csv"}, content=body)

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.ProtocolError, match="batch results") as caught:
        bulk.get_batch_results(JOB, BATCH)
    assert caught.value.status_code == 200


@pytest.mark.parametrize(
    ("media", "body"),
    [
        ("application/xml", f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"/>'),
        ("application/xml", f'<jobInfo xmlns="{NS}">Service Unavailable</jobInfo>'),
        ("application/json", "{}"),
    ],
)
def test_a_job_reply_without_a_job_id_raises_protocol_error(media: str, body: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, headers={"content-type": media}, content=body.encode())

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.ProtocolError, match="jobInfo") as caught:
        bulk.create_job("insert", "Account")
    assert caught.value.status_code == 201


# --------------------------------------------------------------------------- secrets


def _headers_text(request: httpx.Request) -> str:
    return repr(request.headers) + repr(dict(request.headers))


def test_an_api_error_keeps_no_session_id_on_the_request_it_carries() -> None:
    body = (
        f'<error xmlns="{NS}"><exceptionCode>InvalidJob</exceptionCode>'
        "<exceptionMessage>Unable to find object: Nope__c</exceptionMessage></error>"
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, headers={"content-type": "application/xml"}, content=body)

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.InvalidJobError) as caught:
        bulk.get_job(JOB)
    error = caught.value
    assert error.code == "InvalidJob" and error.status_code == 400
    assert error.response is not None
    kept = error.response.request
    assert kept.method == "GET" and kept.url.path.endswith(f"/job/{JOB}")
    assert SECRET not in _headers_text(kept)
    assert error.request is None or SECRET not in _headers_text(error.request)


def test_a_protocol_error_keeps_no_session_id_on_the_request_it_carries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=b"<html/>")

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.ProtocolError) as caught:
        bulk.get_job(JOB)
    assert caught.value.response is not None
    assert SECRET not in _headers_text(caught.value.response.request)


def test_a_transport_error_keeps_no_session_id_on_its_request_or_its_cause() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler), **FakeTime().sync())
    with pytest.raises(errors.TransportError) as caught:
        bulk.get_job(JOB)
    error = caught.value
    assert error.request is not None and error.request.url.path.endswith(f"/job/{JOB}")
    assert SECRET not in _headers_text(error.request)
    cause = error.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert SECRET not in _headers_text(cause.request)


def test_a_login_lost_on_the_network_keeps_no_password_on_the_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    bulk = Bulk(
        auth=_auth(PASSWORD, TOKEN), transport=httpx.MockTransport(handler), **FakeTime().sync()
    )
    with pytest.raises(errors.TransportError) as caught:
        bulk.get_job(JOB)
    error = caught.value
    assert error.request is not None and "/services/Soap/u/" in error.request.url.path
    cause = error.__cause__
    assert isinstance(cause, httpx.ConnectError)
    for request in (error.request, cause.request):
        assert PASSWORD.encode() not in request.content
        assert TOKEN.encode() not in request.content


# --------------------------------------------------------------------------- streams


class _TrackedStream(httpx.AsyncByteStream):
    """A CSV result body in several chunks that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in (b'"Id"\n', b'"1"\n', b'"2"\n', b'"3"\n'):
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_async_iter_query_results_closed_early_closes_the_response() -> None:
    stream = _TrackedStream()
    async with AsyncBulk(INSTANCE, SECRET, transport=_query_org(stream, "text/csv", "CSV")) as bulk:
        async with contextlib.aclosing(bulk.iter_query_results(JOB, BATCH)) as records:
            async for record in records:
                assert record == {"Id": "1"}
                break
        # aclose() of the generator the caller holds must reach the HTTP response
        assert stream.closed


# --------------------------------------------------------------------------- waiting


def _slow_org() -> FakeOrg:
    # a batch added at t=0 starts at t=10 and is done at t=21
    return FakeOrg(clock=ManualClock(), queue_time=10, processing_time=11)


def test_wait_for_batch_polls_once_more_at_its_deadline() -> None:
    org = _slow_org()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        org.advance(seconds)

    with Bulk(
        auth=_auth(), transport=FakeOrgTransport(org), **FakeTime(on_sleep=sleep).sync()
    ) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        done = bulk.wait_for_batch(
            job.id, batch.id, poll=PollPolicy(initial=5, factor=1, timeout=22)
        )
    assert done.state is BatchState.COMPLETED
    assert waits == [5, 5, 5, 5, 2]


@pytest.mark.anyio
async def test_async_wait_for_job_polls_once_more_at_its_deadline() -> None:
    org = _slow_org()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        org.advance(seconds)

    waiting = FakeTime(on_sleep=sleep).async_()
    async with AsyncBulk(auth=_auth(), transport=FakeOrgTransport(org), **waiting) as bulk:
        job = await bulk.create_job("insert", "Contact")
        assert job.id is not None
        await bulk.add_batch(job.id, "LastName\nA\n")
        batches = await bulk.wait_for_job(job.id, poll=PollPolicy(initial=5, factor=1, timeout=22))
    assert [b.state for b in batches] == [BatchState.COMPLETED]
    assert waits == [5, 5, 5, 5, 2]


def test_wait_for_batch_still_times_out_when_the_deadline_is_used_up() -> None:
    """Guard: the shortened last wait still ends in ``PollTimeoutError`` at the deadline."""
    org = _slow_org()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        org.advance(seconds)

    with Bulk(
        auth=_auth(), transport=FakeOrgTransport(org), **FakeTime(on_sleep=sleep).sync()
    ) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        with pytest.raises(errors.PollTimeoutError):
            bulk.wait_for_batch(job.id, batch.id, poll=PollPolicy(initial=5, factor=1, timeout=18))
    assert waits == [5, 5, 5, 3]


@pytest.mark.parametrize(
    "settings",
    [
        {"initial": 0.0},  # zero-second polls never use up the deadline
        {"initial": 1.0, "factor": 0.5, "timeout": 10.0},  # waits that sum to 2 s, forever
        {"initial": -1.0},
        {"max_interval": 0.0},
        {"timeout": -5.0},
        {"initial": float("nan")},
    ],
)
def test_a_poll_policy_that_could_never_reach_its_deadline_is_refused(
    settings: dict[str, float],
) -> None:
    with pytest.raises(errors.InvalidInputError):
        PollPolicy(**settings)


# --------------------------------------------------------------------------- retries


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


def test_retry_after_within_the_cap_is_waited_exactly() -> None:
    """Guard: a ``Retry-After`` the policy can wait for is still waited for exactly."""
    replies = iter(
        [
            httpx.Response(503, headers={"retry-after": "7"}, content=b"busy"),
            httpx.Response(200, headers={"content-type": "application/xml"}, content=_job_xml()),
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


# --------------------------------------------------------------------------- seed facade


def test_seed_job_is_completed_is_true_for_a_job_without_batches() -> None:
    """The seed's README loop (``while not job_is_completed(): sleep(10)``) must end when
    nothing was uploaded, e.g. a CSV file holding only its header row."""
    org = FakeOrg()
    with Bulk(transport=FakeOrgTransport(org)) as bulk:
        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        bulk.job_create("insert", "Contact")
        assert bulk.batch_status() == {}
        assert bulk.job_is_completed() is True
        assert bulk.batch_result() == {}


@pytest.mark.anyio
async def test_async_seed_job_is_completed_is_true_for_a_job_without_batches() -> None:
    org = FakeOrg()
    async with AsyncBulk(transport=FakeOrgTransport(org)) as bulk:
        await bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        await bulk.job_create("insert", "Contact")
        assert await bulk.job_is_completed() is True


def test_seed_login_with_an_api_version_fourth_does_not_log_in_to_the_sandbox() -> None:
    """The seed's signature is ``login(username, password, security_token, sf_version,
    sandbox)``: a version passed fourth must not be read as ``sandbox=True``."""
    org = FakeOrg()
    seen: list[str] = []
    inner = FakeOrgTransport(org)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return inner.handle_request(request)

    with (
        Bulk(transport=httpx.MockTransport(handler)) as bulk,
        pytest.raises(errors.InvalidInputError, match="sandbox"),
    ):
        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, "58.0")  # type: ignore[arg-type]
    assert seen == []
    assert org.login_count == 0


# --------------------------------------------------------------------------- SOAP login


def _login_reply(server_url: str, seconds_valid: str = "7200") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com">'
        "<soapenv:Body><loginResponse><result>"
        f"<passwordExpired>false</passwordExpired><serverUrl>{server_url}</serverUrl>"
        f"<sessionId>{SECRET}</sessionId><userId>005x00000000001AAA</userId>"
        f"<userInfo><sessionSecondsValid>{seconds_valid}</sessionSecondsValid></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    ("server_url", "seconds_valid"),
    [
        ("/services/Soap/u/64.0/00Dx0000000001A", "7200"),  # not absolute
        ("ftp://na1.example.test/services/Soap/u/64.0/00D", "7200"),  # not http(s)
        ("https://na1.example.test/services/Soap/u/64.0/00D", "-60"),
        ("https://na1.example.test/services/Soap/u/64.0/00D", "99999999999999999999"),
    ],
)
def test_an_unusable_login_result_raises_protocol_error_without_the_session_id(
    server_url: str, seconds_valid: str
) -> None:
    reply = httpx.Response(200, content=_login_reply(server_url, seconds_valid))
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(errors.ProtocolError) as caught:
        _auth().parse_login_response(reply, now=now)
    assert caught.value.status_code == 200
    assert SECRET not in str(caught.value)


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("version", ["nan", "inf", "1e2", "64.05", "6_4.0", "64.5"])
def test_an_api_version_that_is_not_a_version_number_is_refused(version: str) -> None:
    with pytest.raises(errors.InvalidInputError):
        bulk1.validate_api_version(version)


@pytest.mark.parametrize("max_records", [10_001, 50_000])
def test_seed_batch_create_from_csv_refuses_batches_salesforce_would_fail(
    tmp_path: Path, max_records: int
) -> None:
    """The seed API promises batches within 10,000 records: a larger ``max_records``
    is refused before anything is sent, not turned into batches Salesforce fails."""
    path = tmp_path / "contacts.csv"
    path.write_text("LastName\n" + "".join(f"L{i}\n" for i in range(10_050)))
    org = FakeOrg()
    with Bulk(transport=FakeOrgTransport(org)) as bulk:
        bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
        job = bulk.job_create("insert", "Contact")
        assert job.id is not None
        with pytest.raises(errors.InvalidInputError, match="10,000"):
            bulk.batch_create_from_csv(path, max_records=max_records)
        assert org.batches(job.id) == []
        assert len(bulk.batch_create_from_csv(path)) == 2  # 10,000 + 50 records
