"""Refusals never carry a secret, and both clients verify TLS by default.

A reply the SDK refuses is described by a short excerpt: at most 200
characters on one line, with anything that looks like a session id or token
(``00D...!...``, ``Bearer ...``, ``<sessionId>...``, ``"access_token": ...``,
``refresh_token=...``) masked, in the excerpt, the message, an ``APIError``'s
``body`` and every exception chained to the error. A model holding a secret
never chains pydantic's error, whose text quotes the input.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfbulk_sdk import AsyncBulk, Bulk, errors
from sfbulk_sdk._redact import body_excerpt, mask_secrets
from sfbulk_sdk.auth import (
    ClientCredentials,
    JwtBearer,
    OAuthPassword,
    RefreshToken,
    StaticSession,
)
from sfbulk_sdk.auth.soap import SoapLogin
from sfbulk_sdk.core.oauth import parse_token_response
from sfbulk_sdk.core.transport_errors import InsecureTLSWarning
from sfbulk_sdk.models import LoginResult, Session
from sfbulk_sdk.testing import DEFAULT_USERNAME, FakeOrg, FakeOrgTransport
from tests.reliability.hostile import (
    ACCESS_TOKEN,
    INSTANCE,
    JOB,
    REFRESH_TOKEN,
    SESSION_ID,
    STATIC_SESSION,
    assert_no_secret,
    assert_refusal,
    reply,
)
from tests.timing import FakeTime

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

#: One secret in each of the shapes a reply may echo it in.
ECHOES: dict[str, str] = {
    "raw session id": f"session {SESSION_ID} was rejected",
    "bearer header": f"Authorization: Bearer {ACCESS_TOKEN}",
    "xml session id": f"<sessionId>{SESSION_ID}</sessionId>",
    "xml prefixed": f'<sf:sessionId xmlns:sf="urn:x">{SESSION_ID}</sf:sessionId>',
    "json access token": f'{{"access_token": "{ACCESS_TOKEN}", "x": 1}}',
    "json refresh token": f'{{"refresh_token":"{REFRESH_TOKEN}"}}',
    "form refresh token": f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}&x=1",
    "sfdc header": f"X-SFDC-Session: {SESSION_ID}",
    "cut short": "x" * 150 + f"<sessionId>{SESSION_ID}",
}


@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_the_excerpt_masks_every_shape_of_secret(echo: str) -> None:
    text = f"<html><body>{ECHOES[echo]}</body></html>"
    excerpt = body_excerpt(text.encode())
    assert excerpt is not None and len(excerpt) <= 200
    for secret in (SESSION_ID, ACCESS_TOKEN, REFRESH_TOKEN):
        assert secret not in excerpt
        assert secret not in mask_secrets(text)
    assert "***" in excerpt or echo == "cut short"


def test_an_excerpt_is_short_printable_and_on_one_line() -> None:
    excerpt = body_excerpt(b"line one\r\nline\ttwo\x00\x01\xff" + b"z" * 1000)
    assert excerpt is not None and len(excerpt) <= 200
    assert excerpt.startswith("line one line two???")
    assert excerpt.isprintable() and excerpt.endswith("...")
    assert body_excerpt(None) is None
    assert body_excerpt(b"") == ""


def test_a_callers_own_secret_is_masked_too() -> None:
    assert body_excerpt(b"your password hunter22x was wrong", ["hunter22x"]) == (
        "your password *** was wrong"
    )


def _bulk(handler: Callable[[httpx.Request], httpx.Response]) -> Bulk:
    return Bulk(
        INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(handler), **FakeTime().sync()
    )


@pytest.mark.parametrize("status", [200, 400, 401, 500])
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_no_client_error_carries_an_echoed_secret(echo: str, status: int) -> None:
    page = f"<!-- proxy --><html><body><p>{ECHOES[echo]}</p></body></html>".encode()
    bulk = _bulk(lambda request: reply(status, page, "text/html"))
    with pytest.raises(errors.SfBulkError) as caught:
        bulk.get_job(JOB)
    error = caught.value
    assert_refusal(error, status=status)
    assert isinstance(error, errors.ProtocolError if status == 200 else errors.APIError)
    assert error.excerpt  # type: ignore[attr-defined]
    if isinstance(error, errors.APIError):
        assert error.body is not None and SESSION_ID not in error.body


@pytest.mark.parametrize("status", [200, 400, 401, 500])
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_no_token_endpoint_error_carries_an_echoed_secret(echo: str, status: int) -> None:
    body = ECHOES[echo].encode()
    with pytest.raises(errors.SfBulkError) as caught:
        parse_token_response(reply(status, body, "application/json"), secrets=("s3cret-value",))
    assert_refusal(caught.value, status=status)


def test_a_token_reply_missing_its_instance_keeps_no_trace_of_the_token() -> None:
    body = f'{{"access_token": "{ACCESS_TOKEN}", "refresh_token": "{REFRESH_TOKEN}"}}'
    with pytest.raises(errors.MalformedReplyError, match="instance_url") as caught:
        parse_token_response(reply(200, body.encode(), "application/json"))
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert caught.value.response is None
    assert_no_secret(caught.value)


def test_a_login_result_refused_by_its_model_keeps_no_trace_of_the_session() -> None:
    body = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
        f"<serverUrl>not a url</serverUrl><sessionId>{SESSION_ID}</sessionId>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    with pytest.raises(errors.ProtocolError, match=r"serverUrl|server_url") as caught:
        LoginResult.from_xml(body)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert_no_secret(caught.value)
    auth = SoapLogin("user@example.com", "password-123", "token-456", login_url=INSTANCE)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(errors.ProtocolError) as through_auth:
        auth.parse_login_response(reply(200, body.encode(), "text/xml"), now=now)
    assert_refusal(through_auth.value, status=200)


def test_a_stored_session_refused_keeps_no_trace_of_its_id() -> None:
    body = f'{{"session_id": "{SESSION_ID}", "instance_url": 5}}'
    with pytest.raises(errors.MalformedReplyError) as caught:
        Session.from_json(body)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert caught.value.excerpt is None
    assert_no_secret(caught.value)


def test_an_api_error_message_echoing_a_session_is_masked() -> None:
    body = f'[{{"errorCode": "INVALID_SESSION_ID", "message": "bad id {SESSION_ID}"}}]'
    bulk = _bulk(lambda request: reply(401, body.encode(), "application/json"))
    with pytest.raises(errors.InvalidSessionError) as caught:
        bulk.get_ingest_job("7505j000000ZZZZAAA")
    assert caught.value.message == "bad id ***"
    assert_refusal(caught.value, status=401)


# --------------------------------------------------------------------------- TLS


def _context(transport: object) -> ssl.SSLContext:
    pool = transport._pool  # type: ignore[attr-defined]
    context: ssl.SSLContext = pool._ssl_context
    return context


@pytest.mark.parametrize(
    "make",
    [
        lambda: Bulk(),
        lambda: Bulk(INSTANCE, STATIC_SESSION),
        lambda: Bulk(auth=SoapLogin("user@example.com", "password-123", "token-456")),
    ],
    ids=["seed", "static-session", "auth"],
)
def test_the_sync_client_verifies_tls_by_default(make: Callable[[], Bulk]) -> None:
    bulk = make()
    try:
        context = _context(bulk._driver.http._transport)
        assert context.check_hostname is True
        assert context.verify_mode is ssl.CERT_REQUIRED
    finally:
        bulk.close()


@pytest.mark.anyio
async def test_the_async_client_verifies_tls_by_default() -> None:
    for bulk in (AsyncBulk(), AsyncBulk(INSTANCE, STATIC_SESSION)):
        try:
            context = _context(bulk._driver.http._transport)
            assert context.check_hostname is True
            assert context.verify_mode is ssl.CERT_REQUIRED
        finally:
            await bulk.aclose()


def test_turning_tls_verification_off_warns_and_is_refused_beside_a_client() -> None:
    with pytest.warns(InsecureTLSWarning, match="verification is turned off"):
        bulk = Bulk(INSTANCE, STATIC_SESSION, verify=False)
    try:
        context = _context(bulk._driver.http._transport)
        assert context.verify_mode is ssl.CERT_NONE and context.check_hostname is False
    finally:
        bulk.close()
    with pytest.raises(errors.InvalidInputError, match="not both"):
        Bulk(INSTANCE, STATIC_SESSION, verify=False, http_client=httpx.Client())
    with pytest.raises(errors.InvalidInputError):
        Bulk(INSTANCE, STATIC_SESSION, verify="no")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_the_async_client_warns_too_and_takes_a_context() -> None:
    with pytest.warns(InsecureTLSWarning):
        insecure = AsyncBulk(INSTANCE, STATIC_SESSION, verify=False)
    await insecure.aclose()
    own = ssl.create_default_context()
    bulk = AsyncBulk(INSTANCE, STATIC_SESSION, verify=own)  # no warning: still verified
    try:
        assert _context(bulk._driver.http._transport) is own
    finally:
        await bulk.aclose()


def _echoing(describe: Callable[[dict[str, str], httpx.Request], str]) -> httpx.MockTransport:
    """A token endpoint that refuses every login, its description quoting what it got."""

    def handler(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.read().decode()).items()}
        description = describe(form, request)
        return httpx.Response(
            400, json={"error": "invalid_grant", "error_description": description}
        )

    return httpx.MockTransport(handler)


def test_an_oauth_refusal_quoting_what_was_sent_is_masked() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    basic = base64.b64encode(b"cid:S3CRET-cs-xyz").decode()
    cases: list[tuple[object, Callable[[dict[str, str], httpx.Request], str], str]] = [
        (JwtBearer("cid", "u@x.com", key), lambda f, r: f"bad assertion {f['assertion']}", "eyJ"),
        (
            ClientCredentials(
                "cid", "S3CRET-cs-xyz", "https://x.my.salesforce.com", basic_auth=True
            ),
            lambda f, r: f"bad client: {r.headers['authorization']}",
            basic,
        ),
        (
            OAuthPassword("cid", "S3CRET-cs-xyz", "u@x.com", "S3CRET-pw-xyz", "S3CRETTOKENxyz0123"),
            lambda f, r: "security token S3CRETTOKENxyz0123 is wrong",
            "S3CRETTOKENxyz0123",
        ),
    ]
    for auth, describe, secret in cases:
        bulk = Bulk(auth=auth, transport=_echoing(describe), **FakeTime().sync())  # type: ignore[arg-type]
        with pytest.raises(errors.OAuthError) as caught:
            bulk.get_job(JOB)
        assert_no_secret(caught.value, (secret, "S3CRET"))


def test_a_refusal_quoting_a_rotated_refresh_token_is_masked() -> None:
    org = FakeOrg()
    app = org.oauth.add_app("refresh", client_id="rt-app", rotate_refresh_tokens=True)
    initial = org.oauth.issue_refresh_token("rt-app", DEFAULT_USERNAME)
    fake = FakeOrgTransport(org)
    sent: list[str] = []
    refusing = [False]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            sent.append(parse_qs(request.read().decode())["refresh_token"][0])
            if refusing[0]:
                description = f"token {sent[-1]} expired"
                return httpx.Response(
                    400, json={"error": "invalid_grant", "error_description": description}
                )
        return fake.handle_request(request)

    auth = RefreshToken("rt-app", initial, client_secret=app.client_secret)
    bulk = Bulk(auth=auth, transport=httpx.MockTransport(handler), **FakeTime().sync())
    bulk.create_job("insert", "Account")  # the first refresh rotates the token
    org.expire_sessions()
    refusing[0] = True
    with pytest.raises(errors.OAuthError) as caught:
        bulk.create_job("insert", "Account")
    assert sent[-1] != initial
    assert_no_secret(caught.value, (sent[-1], initial))


@pytest.mark.parametrize("bad", ["\n", "\r\n", " tail", "é"])
def test_a_session_id_no_header_can_carry_is_refused_without_showing_it(bad: str) -> None:
    session_id = "00Dx0000000TEST!S3CRETsession0123" + bad
    for make in (
        lambda: StaticSession(INSTANCE, session_id),
        lambda: Bulk(INSTANCE, session_id, **FakeTime().sync()),
    ):
        with pytest.raises(errors.InvalidInputError, match="no HTTP header can carry") as caught:
            make()
        assert_no_secret(caught.value, (session_id.strip(),))

    def token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": session_id, "instance_url": INSTANCE})

    auth = ClientCredentials("cid", "S3CRET-cs-xyz", "https://x.my.salesforce.com")
    bulk = Bulk(auth=auth, transport=httpx.MockTransport(token), **FakeTime().sync())
    with pytest.raises(errors.MalformedReplyError) as refused:
        bulk.get_job(JOB)
    assert_no_secret(refused.value, (session_id.strip(), "S3CRET"))


def test_the_cli_login_sender_chains_no_request_body() -> None:
    from sfbulk_sdk.cli.session import _send  # the sender `sfbulk login` logs in through
    from sfbulk_sdk.sessions import SessionManager

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    auth = SoapLogin("u@x.com", "S3CRET-pw-xyz", "S3CRETTOKxyz", login_url=INSTANCE)
    send = _send(httpx.Client(transport=httpx.MockTransport(refuse)))
    with pytest.raises(errors.TransportError) as caught:
        SessionManager(auth, send=send).get()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert_no_secret(caught.value, ("S3CRET-pw-xyz", "S3CRETTOKxyz"))
