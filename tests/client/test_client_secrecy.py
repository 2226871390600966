"""No session id or password in any repr, str or log record (issue: secrets stay secret),
nor on the requests that errors carry.

The whole flow runs with every logger at DEBUG (httpx and httpcore included),
through a login, a rejected session, a refresh, an API error and a failed
login, and everything the caller can see is searched for the secrets. The
requests kept on errors were found holding them by a review of the client.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.models.xml import NS
from sfbulk_sdk.testing import DEFAULT_SECURITY_TOKEN, FakeOrg, FakeOrgTransport
from tests.client.mock_replies import INSTANCE, JOB, SECRET, job_xml
from tests.org_clients import soap_auth
from tests.timing import FakeTime

PASSWORD = 'p@ss<&"]]>word-xyz'
#: Credentials without a character XML escapes: found in a request body only if sent as is.
PLAIN_PASSWORD = "review-password-123"
PLAIN_TOKEN = "reviewTOKEN456"


def test_no_secret_reaches_a_log_record_repr_or_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sfbulk_sdk"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    org = FakeOrg()
    org.add_user("worker@example.com", PASSWORD, DEFAULT_SECURITY_TOKEN)
    auth = SoapLogin(
        "worker@example.com", PASSWORD, DEFAULT_SECURITY_TOKEN, login_url="https://login.example"
    )
    seen: list[object] = [auth]
    secrets: set[str] = {PASSWORD, PASSWORD + DEFAULT_SECURITY_TOKEN}
    with Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None and bulk.sessionid is not None
        secrets.add(bulk.sessionid)
        org.expire_sessions()  # the next call is rejected, refreshed and retried
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        assert bulk.sessionid is not None
        secrets.add(bulk.sessionid)
        bulk.wait_for_batch(job.id, batch.id)
        results = bulk.get_batch_results(job.id, batch.id)
        with pytest.raises(errors.InvalidJobError) as api_error:
            bulk.create_job("insert", "NoSuchObject__c")
        seen += [bulk, job, batch, results, api_error.value, bulk._driver.sessions, bulk.session]
    assert org.login_count == 2
    assert len(secrets) == 4  # two distinct session ids were really in play

    bad = SoapLogin("worker@example.com", "wrong" + PASSWORD, login_url="https://login.example")
    with Bulk(auth=bad, transport=FakeOrgTransport(org)) as failing:
        with pytest.raises(errors.LoginError) as login_error:
            failing.get_job("750000000000001AAA")
        seen += [failing, login_error.value]

    texts = [r.getMessage() for r in caplog.records] + [
        str(a) for r in caplog.records for a in (r.args or ())
    ]
    texts += [repr(o) for o in seen] + [str(o) for o in seen]
    for exc in (api_error.value, login_error.value):
        texts += [str(a) for a in exc.args]
    assert caplog.records, "the flow should have logged something at DEBUG"
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked into: {text[:120]}"


def test_seed_attributes_and_repr_hide_the_session(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-sfdc-session"] == SECRET
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=job_xml())

    with Bulk("https://na1.example.test/", SECRET, transport=httpx.MockTransport(handler)) as bulk:
        assert bulk.bulk_server == "https://na1.example.test/"
        assert bulk.sessionid == SECRET
        job = bulk.get_job(JOB)
        assert SECRET not in repr(bulk) and SECRET not in str(bulk)
        assert SECRET not in repr(job)
    for record in caplog.records:
        assert SECRET not in record.getMessage()


# --------------------------------------------------------------------------- requests on errors


def _headers_text(request: httpx.Request) -> str:
    return repr(request.headers) + repr(dict(request.headers))


@pytest.mark.review("client")
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


@pytest.mark.review("client")
def test_a_protocol_error_keeps_no_session_id_on_the_request_it_carries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=b"<html/>")

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.ProtocolError) as caught:
        bulk.get_job(JOB)
    assert caught.value.response is not None
    assert SECRET not in _headers_text(caught.value.response.request)


@pytest.mark.review("client")
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


@pytest.mark.review("client")
def test_a_login_lost_on_the_network_keeps_no_password_on_the_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    bulk = Bulk(
        auth=soap_auth(password=PLAIN_PASSWORD, token=PLAIN_TOKEN),
        transport=httpx.MockTransport(handler),
        **FakeTime().sync(),
    )
    with pytest.raises(errors.TransportError) as caught:
        bulk.get_job(JOB)
    error = caught.value
    assert error.request is not None and "/services/Soap/u/" in error.request.url.path
    cause = error.__cause__
    assert isinstance(cause, httpx.ConnectError)
    for request in (error.request, cause.request):
        assert PLAIN_PASSWORD.encode() not in request.content
        assert PLAIN_TOKEN.encode() not in request.content
