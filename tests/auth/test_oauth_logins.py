"""The OAuth authenticators against the fake org: every flow logs in and runs a Bulk 1.0 job.

In process (``FakeOrgTransport``) and over HTTPS (the fake served with a test
CA), with ``Bulk`` and ``AsyncBulk``; refusals surface as typed errors carrying
Salesforce's ``error`` / ``error_description``; recorded OAuth replies parse
into their models; no secret reaches a log line, a repr or a message.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, errors
from sfbulk_sdk.auth import (
    ClientCredentials,
    JwtBearer,
    OAuthPassword,
    RefreshToken,
    SoapLogin,
    StaticSession,
)
from sfbulk_sdk.auth.base import Authenticator
from sfbulk_sdk.core.oauth import parse_token_response, token_request
from sfbulk_sdk.deprecations import LoginDeprecationWarning
from sfbulk_sdk.models.oauth import TokenResponse
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    ExternalClientApp,
    FakeOrg,
    FakeOrgTransport,
)
from sfbulk_sdk.testing.server import serve_in_thread
from tests.conftest import read_fixture
from tests.keys import KeyPair, make_key_pair
from tests.timing import FakeTime
from tests.tls import Tls

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

LOGIN = "https://login.salesforce.com"


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return make_key_pair("sdk-tests")


@pytest.fixture
def org(keys: KeyPair) -> FakeOrg:
    org = FakeOrg()
    org.oauth.add_app("jwt", client_id="jwt-app", certificate=keys.certificate)
    org.oauth.add_app("service", client_id="cc-app", run_as=DEFAULT_USERNAME)
    org.oauth.add_app("refresh", client_id="rt-app", rotate_refresh_tokens=True)
    org.oauth.add_app("password", client_id="pw-app")
    return org


def _app(org: FakeOrg, client_id: str) -> ExternalClientApp:
    return org.oauth.app(client_id)


Factory = Callable[[FakeOrg, str], Authenticator]


def _jwt(keys: KeyPair) -> Factory:
    return lambda org, url: JwtBearer(
        "jwt-app", DEFAULT_USERNAME, keys.private_pem, login_url=url, audience=LOGIN
    )


def _client_credentials(org: FakeOrg, url: str) -> Authenticator:
    return ClientCredentials("cc-app", _app(org, "cc-app").client_secret, url)


def _refresh(org: FakeOrg, url: str) -> Authenticator:
    token = org.oauth.issue_refresh_token("rt-app", DEFAULT_USERNAME)
    return RefreshToken(
        "rt-app", token, client_secret=_app(org, "rt-app").client_secret, login_url=url
    )


def _password(org: FakeOrg, url: str) -> Authenticator:
    return OAuthPassword(
        "pw-app",
        _app(org, "pw-app").client_secret,
        DEFAULT_USERNAME,
        DEFAULT_PASSWORD,
        DEFAULT_SECURITY_TOKEN,
        login_url=url,
    )


def _soap(org: FakeOrg, url: str) -> Authenticator:
    return SoapLogin(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url=url)


def _static(org: FakeOrg, url: str) -> Authenticator:
    return StaticSession(org.instance_url if url == LOGIN else url, org.issue_session())


FLOWS = ["jwt", "client_credentials", "refresh_token", "password", "soap", "static"]


def _factory(name: str, keys: KeyPair) -> Factory:
    return {
        "jwt": _jwt(keys),
        "client_credentials": _client_credentials,
        "refresh_token": _refresh,
        "password": _password,
        "soap": _soap,
        "static": _static,
    }[name]


def _url(name: str, org: FakeOrg, served: str | None) -> str:
    if served is not None:
        return served
    # client credentials must go to My Domain; the others may use login.salesforce.com
    return org.instance_url if name == "client_credentials" else LOGIN


def _job_round_trip(bulk: Bulk, org: FakeOrg) -> None:
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    batch = bulk.add_batch(job.id, "Name\nOAuth Account\n")
    bulk.close_job(job.id)
    bulk.wait_for_batch(job.id, batch.id)
    assert [r.success for r in bulk.get_batch_results(job.id, batch.id)] == [True]
    assert [r["Name"] for r in org.records("Account")] == ["OAuth Account"]


@contextmanager
def _https(org: FakeOrg, tls: Tls) -> Iterator[str]:
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        yield url


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("where", ["in-process", "https"])
def test_every_flow_logs_in_and_runs_a_bulk_job(
    flow: str, where: str, org: FakeOrg, keys: KeyPair, tls: Tls
) -> None:
    if where == "in-process":
        auth = _factory(flow, keys)(org, _url(flow, org, None))
        with Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
            _job_round_trip(bulk, org)
            assert bulk.api_version == ("64.0" if flow == "soap" else "66.0")
        return
    with _https(org, tls) as url:
        auth = _factory(flow, keys)(org, url)
        http = httpx.Client(verify=ssl.create_default_context(cafile=tls.ca_file), timeout=30)
        with Bulk(auth=auth, http_client=http, **FakeTime().sync()) as bulk:
            _job_round_trip(bulk, org)
        http.close()


@pytest.mark.anyio
@pytest.mark.parametrize("flow", FLOWS)
async def test_every_flow_logs_in_and_runs_a_bulk_job_async(
    flow: str, org: FakeOrg, keys: KeyPair
) -> None:
    auth = _factory(flow, keys)(org, _url(flow, org, None))
    async with AsyncBulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().async_()) as bulk:
        job = await bulk.create_job("insert", "Account")
        assert job.id is not None
        batch = await bulk.add_batch(job.id, "Name\nAsync OAuth\n")
        await bulk.close_job(job.id)
        await bulk.wait_for_batch(job.id, batch.id)
        results = await bulk.get_batch_results(job.id, batch.id)
    assert [r.success for r in results] == [True]


def test_a_rejected_oauth_session_is_refreshed_once(org: FakeOrg, keys: KeyPair) -> None:
    auth = _jwt(keys)(org, LOGIN)
    with Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_job("insert", "Account")
        assert job.id is not None
        org.expire_sessions()
        assert bulk.get_job(job.id).id == job.id
    assert org.oauth.stats()["grants"]["jwt_bearer"]["successes"] == 2


# --------------------------------------------------------------------------- refusals


def _refused(auth: Authenticator, org: FakeOrg) -> errors.OAuthError:
    bulk = Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync())
    with bulk, pytest.raises(errors.OAuthError) as caught:
        bulk.get_job("750000000000001AAA")
    return caught.value


def test_a_jwt_signed_with_the_wrong_key_is_refused(org: FakeOrg) -> None:
    stranger = make_key_pair("not-the-apps-key")
    error = _refused(JwtBearer("jwt-app", DEFAULT_USERNAME, stranger.private_pem), org)
    assert isinstance(error, errors.InvalidGrantError)
    assert (error.error, error.error_description) == ("invalid_grant", "invalid assertion")


def test_an_expired_jwt_assertion_is_refused(org: FakeOrg, keys: KeyPair) -> None:
    late = datetime.now(timezone.utc) - timedelta(minutes=10)
    auth = JwtBearer("jwt-app", DEFAULT_USERNAME, keys.private_pem)
    with (
        Bulk(
            auth=auth,
            transport=FakeOrgTransport(org),
            session_options={"clock": lambda: late},
            **FakeTime().sync(),
        ) as bulk,
        pytest.raises(errors.InvalidGrantError) as caught,
    ):
        bulk.get_job("750000000000001AAA")
    assert caught.value.error == "invalid_grant"
    assert caught.value.error_description == "invalid assertion"


def test_a_my_domain_audience_is_refused(org: FakeOrg, keys: KeyPair) -> None:
    auth = JwtBearer(
        "jwt-app",
        DEFAULT_USERNAME,
        keys.private_pem,
        login_url=org.instance_url,
        audience=org.instance_url,
    )
    error = _refused(auth, org)
    assert (error.error, error.error_description) == ("invalid_grant", "Audience validation failed")


def test_the_audience_defaults_to_login_or_test_not_the_token_host(keys: KeyPair) -> None:
    my_domain = "https://acme.my.salesforce.com"
    assert JwtBearer("c", "u", keys.private_pem, login_url=my_domain).audience == LOGIN
    sandbox = "https://acme--dev.sandbox.my.salesforce.com"
    assert JwtBearer("c", "u", keys.private_pem, login_url=sandbox).audience == (
        "https://test.salesforce.com"
    )
    assert JwtBearer("c", "u", keys.private_pem, sandbox=True).audience == (
        "https://test.salesforce.com"
    )


def test_client_credentials_for_login_salesforce_com_are_refused_before_sending() -> None:
    for host in (LOGIN, "https://test.salesforce.com"):
        with pytest.raises(errors.InvalidInputError, match="must be sent to the org's My Domain"):
            ClientCredentials("cc-app", "secret", host)


@pytest.mark.parametrize(
    "host",
    [
        "https://login.salesforce.com.",
        "https://LOGIN.Salesforce.COM./",
        "https://test.salesforce.com.",
        "https://login.salesforce.com.:443",
    ],
)
def test_a_login_host_with_a_trailing_dot_is_still_a_login_host(host: str) -> None:
    """``login.salesforce.com.`` is the fully qualified spelling of the same host."""
    with pytest.raises(errors.InvalidInputError, match="must be sent to the org's My Domain"):
        ClientCredentials("cc-app", "secret", host)


def test_the_audience_ignores_case_and_a_trailing_dot(keys: KeyPair) -> None:
    test = "https://test.salesforce.com"
    for url, audience in [
        ("https://test.salesforce.com.", test),
        ("https://TEST.salesforce.com./", test),
        ("https://acme--dev.sandbox.my.salesforce.com.", test),
        ("https://login.salesforce.com.", LOGIN),
        ("https://acme.my.salesforce.com.", LOGIN),
    ]:
        assert JwtBearer("c", "u", keys.private_pem, login_url=url).audience == audience, url
    assert ClientCredentials("cc-app", "s", "https://acme.my.salesforce.com.").token_url == (
        "https://acme.my.salesforce.com./services/oauth2/token"
    )


def test_client_credentials_sent_to_login_anyway_get_salesforces_refusal(org: FakeOrg) -> None:
    """Past the SDK's own check, the fake answers what Salesforce answers (spec §9)."""
    secret = _app(org, "cc-app").client_secret
    request = token_request(
        LOGIN, {"grant_type": "client_credentials", "client_id": "cc-app", "client_secret": secret}
    )
    with httpx.Client(transport=FakeOrgTransport(org)) as http:
        reply = http.send(request)
    with pytest.raises(errors.InvalidGrantError) as caught:
        parse_token_response(reply, secrets=(secret,))
    assert caught.value.error_description == "request not supported on this domain"
    assert caught.value.status_code == 400


def test_a_wrong_client_secret_is_invalid_client(org: FakeOrg) -> None:
    error = _refused(ClientCredentials("cc-app", "not-the-secret", org.instance_url), org)
    assert isinstance(error, errors.InvalidClientError)
    assert error.error == "invalid_client"


def test_a_dead_refresh_token_says_re_authorise_and_is_not_sent_again(org: FakeOrg) -> None:
    secret = _app(org, "rt-app").client_secret
    auth = RefreshToken("rt-app", "5Aep-not-a-live-token", client_secret=secret)
    for _ in range(3):
        error = _refused(auth, org)
        assert isinstance(error, errors.RefreshTokenRevokedError)
        assert "Re-authorise the app" in str(error)
    # each client above has its own memory store: a shared store sends it once only
    assert org.oauth.stats()["grants"]["refresh_token"]["requests"] == 3


def test_the_password_flow_and_soap_login_warn_once() -> None:
    from sfbulk_sdk import deprecations

    deprecations._shown.clear()
    with pytest.warns(LoginDeprecationWarning, match="being deprecated"):
        OAuthPassword("c", "s", "u@example.com", "p")
    with pytest.warns(LoginDeprecationWarning, match="Summer '27"):
        SoapLogin("u@example.com", "p")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OAuthPassword("c", "s", "u@example.com", "p")
        SoapLogin("u@example.com", "p")


# --------------------------------------------------------------------------- recorded replies


@pytest.mark.parametrize(
    ("name", "cls", "description"),
    [
        (
            "oauth/token_error_invalid_grant_invalid_password_restforce.json",
            errors.InvalidGrantError,
            "authentication failure - Invalid Password",
        ),
        (
            "oauth/docs/token_error_refresh_invalid_grant_expired.json",
            errors.InvalidGrantError,
            "expired access/refresh token",
        ),
        (
            "oauth/docs/token_error_jwt_invalid_grant_audience.json",
            errors.InvalidGrantError,
            "Audience validation failed",
        ),
    ],
)
def test_recorded_oauth_errors_parse_into_typed_errors(
    name: str, cls: type[errors.OAuthError], description: str
) -> None:
    reply = httpx.Response(
        400, headers={"content-type": "application/json"}, content=read_fixture(name)
    )
    with pytest.raises(cls) as caught:
        parse_token_response(reply)
    assert caught.value.error == "invalid_grant"
    assert caught.value.error_description == description


def test_the_recorded_token_reply_parses() -> None:
    raw = read_fixture("oauth/token_success_password_flow_docs_example_restforce.json")
    token = parse_token_response(
        httpx.Response(200, headers={"content-type": "application/json"}, content=raw)
    )
    assert isinstance(token, TokenResponse)
    data = json.loads(raw)
    assert token.access_token.get_secret_value() == data["access_token"]
    assert token.instance_url == "https://na1.salesforce.com"
    assert (token.org_id, token.user_id) == ("00Dx0000000BV7z", "005x00000012Q9P")
    assert token.issued_at == datetime(2010, 7, 6, 20, 40, 32, 702000, tzinfo=timezone.utc)
    assert data["access_token"] not in repr(token)


@pytest.mark.parametrize(
    "body",
    [b"<html>proxy</html>", b"", b'{"error": 3}', b"[1]"],
)
def test_an_unreadable_refusal_is_still_a_typed_oauth_error(body: bytes) -> None:
    reply = httpx.Response(400, content=body)
    with pytest.raises(errors.OAuthError) as caught:
        parse_token_response(reply)
    assert caught.value.status_code == 400 and not caught.value.retryable
    # the same body with a 5xx is the server failing, not a refusal: retryable
    with pytest.raises(errors.LoginUnavailableError) as failed:
        parse_token_response(httpx.Response(502, content=body))
    assert failed.value.status_code == 502 and failed.value.retryable


# --------------------------------------------------------------------------- secrets


def test_no_secret_reaches_logs_reprs_or_messages(
    org: FakeOrg, keys: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sfbulk_sdk"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    refresh = org.oauth.issue_refresh_token("rt-app", DEFAULT_USERNAME)
    secrets = {
        keys.private_pem.splitlines()[1],
        refresh,
        *(_app(org, c).client_secret for c in ("cc-app", "rt-app", "pw-app")),
        DEFAULT_PASSWORD,
    }
    seen: list[object] = []
    auths: list[Authenticator] = [
        _jwt(keys)(org, LOGIN),
        _client_credentials(org, org.instance_url),
        RefreshToken("rt-app", refresh, client_secret=_app(org, "rt-app").client_secret),
        _password(org, LOGIN),
    ]
    for auth in auths:
        seen.append(auth)
        with Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
            job = bulk.create_job("insert", "Account")
            assert bulk.sessionid is not None
            secrets.add(bulk.sessionid)
            org.expire_sessions()
            assert job.id is not None
            bulk.get_job(job.id)  # refreshed: a second token is in play
            assert bulk.sessionid is not None
            secrets.add(bulk.sessionid)
            seen += [bulk, bulk.session, job]
    wrong = ClientCredentials("cc-app", "wrong-secret-value", org.instance_url)
    secrets.add("wrong-secret-value")
    error = _refused(wrong, org)
    seen.append(error)
    texts = [r.getMessage() for r in caplog.records]
    texts += [str(a) for r in caplog.records for a in (r.args or ())]
    texts += [repr(o) for o in seen] + [str(o) for o in seen]
    blob = "\n".join(texts)
    assert len(secrets) >= 12
    for secret in secrets:
        assert secret not in blob


def test_the_token_request_carries_the_secrets_only_in_its_body(org: FakeOrg) -> None:
    secret = _app(org, "cc-app").client_secret
    request = ClientCredentials("cc-app", secret, org.instance_url).login_request()
    assert secret in request.content.decode()
    assert secret not in str(request.url) and secret not in repr(request)
    kept = errors.redacted_request(request)  # what an error keeps: no body
    assert kept.content == b"" and secret not in repr(kept.headers)


@pytest.mark.parametrize(
    "instance_url",
    ["https://acme.my.salesforce.com:abc", "https://xn--", "https://", "ftp://acme.test"],
)
def test_a_token_reply_whose_instance_url_cannot_be_sent_to_is_malformed(
    instance_url: str,
) -> None:
    """A bad ``instance_url`` is refused with the token reply, not as a raw httpx or idna
    error at the first request; the access token stays out of the error."""
    token = "00D5e000000AbCd!AQ0AQtokenvalue"

    def reply(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/services/oauth2/token")
        return httpx.Response(
            200,
            json={"access_token": token, "instance_url": instance_url, "token_type": "Bearer"},
        )

    auth = ClientCredentials("cid", "secret123456", "https://acme.my.salesforce.com")
    http = httpx.Client(transport=httpx.MockTransport(reply))
    bulk = Bulk(auth=auth, http_client=http, **FakeTime().sync())  # type: ignore[arg-type]
    with bulk, pytest.raises(errors.MalformedReplyError, match="instance_url") as caught:
        bulk.get_ingest_job("750R0000000zlh9IAA")
    assert token not in str(caught.value) and token not in repr(caught.value)


@pytest.mark.parametrize("instance_url", ["https://xn--", "https://a.test:abc", "https://"])
def test_a_static_session_with_an_instance_url_requests_cannot_go_to_is_refused(
    instance_url: str,
) -> None:
    with pytest.raises(errors.InvalidInputError, match="instance_url"):
        StaticSession(instance_url, "00D5e000000AbCd!AQ0AQsession")
