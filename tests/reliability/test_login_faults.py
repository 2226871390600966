"""A login server that fails on its side (HTTP 5xx) is retried; a refusal is not.

SOAP ``login()`` answers every fault with HTTP 500, a wrong password included,
so the status alone says nothing: what is retried is a reply that is not a
refusal at all (a proxy's error page, an empty body), the SOAP fault
``SERVER_UNAVAILABLE``, and the OAuth errors ``server_error`` and
``temporarily_unavailable``. Such a failure is never recorded as a login failure
that other workers sharing the store would wait out.
"""

from __future__ import annotations

import warnings

import httpx
import pytest

from sfbulk_sdk import Bulk, RetryPolicy, errors
from sfbulk_sdk.auth import ClientCredentials
from sfbulk_sdk.auth.base import Authenticator
from sfbulk_sdk.deprecations import LoginDeprecationWarning
from sfbulk_sdk.stores import MemoryStore
from sfbulk_sdk.testing import DEFAULT_USERNAME, FakeOrg, FakeOrgTransport
from tests.org_clients import soap_auth
from tests.timing import FakeTime

RETRY = RetryPolicy(max_attempts=3, backoff=0.5, max_backoff=5.0, jitter=0.0)
SOAP_PATH = r"/services/Soap/u/"
TOKEN_PATH = r"/services/oauth2/token"
PROXY_PAGE = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


class ProxyFailsFirst(httpx.BaseTransport):
    """A proxy in front of the org that answers the first ``count`` logins itself."""

    def __init__(self, org: FakeOrg, status: int, count: int = 1) -> None:
        self.inner = FakeOrgTransport(org)
        self.status = status
        self.left = count

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_login = "/services/Soap/" in request.url.path or "/oauth2/token" in request.url.path
        if is_login and self.left > 0:
            self.left -= 1
            return httpx.Response(
                self.status, content=PROXY_PAGE, headers={"Content-Type": "text/html"}
            )
        return self.inner.handle_request(request)


def _soap() -> Authenticator:
    with warnings.catch_warnings():  # SOAP login() is retiring: warned once per process
        warnings.simplefilter("ignore", LoginDeprecationWarning)
        return soap_auth()


def _client_credentials(org: FakeOrg) -> Authenticator:
    app = org.oauth.add_app("service", client_id="cc-app", run_as=DEFAULT_USERNAME)
    return ClientCredentials("cc-app", app.client_secret, org.instance_url)


def _bulk(
    auth: Authenticator,
    transport: httpx.BaseTransport,
    time: FakeTime,
    store: MemoryStore | None = None,
) -> Bulk:
    return Bulk(auth=auth, transport=transport, retry=RETRY, store=store, **time.sync())


@pytest.mark.parametrize("api", ["soap", "oauth"])
@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_proxy_error_page_on_login_is_retried(api: str, status: int) -> None:
    org = FakeOrg()
    auth = _soap() if api == "soap" else _client_credentials(org)
    time = FakeTime()
    with _bulk(auth, ProxyFailsFirst(org, status), time) as bulk:
        job = bulk.create_job("insert", "Contact")
    assert job.id is not None and [j.id for j in org.jobs()] == [job.id]
    assert len(time.slept) == 1  # one backoff, then the login went through
    assert org.stats()["all_logins"] == 1  # the proxy's answer never reached the org


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (SOAP_PATH, "SERVER_UNAVAILABLE"),
        (TOKEN_PATH, "temporarily_unavailable"),
        (TOKEN_PATH, "server_error"),
    ],
)
def test_a_server_failure_code_on_login_is_retried(path: str, code: str) -> None:
    org = FakeOrg()
    auth = _soap() if path == SOAP_PATH else _client_credentials(org)
    org.inject_fault(path, status=503, exception_code=code, message="down for a moment")
    time = FakeTime()
    with _bulk(auth, FakeOrgTransport(org), time) as bulk:
        job = bulk.create_job("insert", "Contact")
    assert job.id is not None
    assert len(time.slept) == 1


def test_a_login_server_down_for_good_raises_after_the_policy_and_blocks_no_one() -> None:
    org = FakeOrg()
    store = MemoryStore()
    time = FakeTime()
    bulk = _bulk(_soap(), ProxyFailsFirst(org, 503, count=10), time, store)
    with bulk, pytest.raises(errors.LoginUnavailableError) as caught:
        bulk.create_job("insert", "Contact")
    assert caught.value.retryable and caught.value.status_code == 503
    assert len(time.slept) == RETRY.max_attempts - 1
    assert "503" in str(caught.value) and "Service Temporarily" not in str(caught.value)
    # no login failure was recorded: the next worker on the same store logs in at once
    with _bulk(_soap(), FakeOrgTransport(org), FakeTime(), store) as other:
        assert other.create_job("insert", "Contact").id is not None
    assert org.login_count == 1


def test_a_refusal_is_still_not_retried_and_still_shared() -> None:
    """Guard: INVALID_LOGIN (also HTTP 500 on the wire) is sent once and recorded."""
    org = FakeOrg()
    store = MemoryStore()
    time = FakeTime()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LoginDeprecationWarning)
        wrong = soap_auth(password="wrong")
    bulk = _bulk(wrong, FakeOrgTransport(org), time, store)
    with bulk, pytest.raises(errors.LoginError) as caught:
        bulk.create_job("insert", "Contact")
    assert caught.value.code == "INVALID_LOGIN" and not caught.value.retryable
    assert not isinstance(caught.value, errors.LoginUnavailableError)
    assert org.failed_logins == 1 and time.slept == []
    again = _bulk(wrong, FakeOrgTransport(org), FakeTime(), store)
    with again, pytest.raises(errors.LoginError):
        again.create_job("insert", "Contact")
    assert org.failed_logins == 1  # the recorded failure answered: nothing was sent
