"""SOAP partner login: URL building, the request envelope, reply parsing, secrecy."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from pydantic import SecretStr

from sfbulk_sdk.auth import Authenticator, SoapLogin
from sfbulk_sdk.auth.base import fingerprint
from sfbulk_sdk.auth.soap import (
    MAX_LOGIN_REQUEST_BYTES,
    build_login_envelope,
    check_soap_api_version,
    parse_login_result,
    resolve_login_url,
)
from sfbulk_sdk.errors import (
    InvalidInputError,
    LoginError,
    LoginRateExceededError,
    LoginUnavailableError,
    ProtocolError,
    SfBulkError,
)
from sfbulk_sdk.models import LoginResult
from tests.conftest import read_fixture

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
PASSWORD = "S3cret<&\"']]>pass"
TOKEN = "TOKENxyz0123456789abcdef"
SESSION_ID = "00Dz0000000LOGIN!AQ.session-from-the-test-reply"

RESPONSE_FIXTURE = "soap_login/partner_login_response_v24_jorgevaldivia.xml"
FAULT_FIXTURE = "soap_login/partner_login_fault_INVALID_LOGIN_jorgevaldivia.xml"


def make_login(**kwargs: object) -> SoapLogin:
    return SoapLogin("ops@acme.test", PASSWORD, TOKEN, **kwargs)  # type: ignore[arg-type]


def q(name: str, ns: str = PARTNER) -> str:
    return f"{{{ns}}}{name}"


def login_reply(
    *,
    server_url: str = "https://acme.my.salesforce.com/services/Soap/u/64.0/00Dz0000000LOGIN",
    session_id: str = SESSION_ID,
    password_expired: str = "false",
    seconds_valid: str = "900",
) -> bytes:
    """A login reply written for these tests (one line, as Salesforce sends it)."""
    server = f"<serverUrl>{server_url}</serverUrl>" if server_url else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns="{PARTNER}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        "<metadataServerUrl>https://acme.my.salesforce.com/services/Soap/m/64.0/00Dz0000000LOGIN"
        "</metadataServerUrl>"
        f"<passwordExpired>{password_expired}</passwordExpired><sandbox>true</sandbox>"
        f"{server}<sessionId>{session_id}</sessionId><userId>005z00000000042AAA</userId>"
        "<userInfo><accessibilityMode>false</accessibilityMode>"
        '<chatterExternal>false</chatterExternal><currencySymbol xsi:nil="true"/>'
        "<organizationId>00Dz0000000LOGINAAA</organizationId>"
        '<organizationName>Acme</organizationName><roleId xsi:nil="true"/>'
        f"<sessionSecondsValid>{seconds_valid}</sessionSecondsValid>"
        "<userId>005z00000000042AAA</userId><userName>ops@acme.test</userName>"
        "<userType>Standard</userType></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


def fault_reply(faultcode: str, faultstring: str, detail: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>{faultcode}</faultcode>"
        f"<faultstring>{faultstring}</faultstring>{detail}</soapenv:Fault>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def login_fault_detail(code: str, message: str) -> str:
    return (
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage>"
        "</sf:LoginFault></detail>"
    )


INVALID_LOGIN = fault_reply(
    "sf:INVALID_LOGIN",
    "INVALID_LOGIN: Invalid username, password, security token; or user locked out.",
    login_fault_detail(
        "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
    ),
)


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("kwargs", "url"),
    [
        ({}, "https://login.salesforce.com"),
        ({"sandbox": True}, "https://test.salesforce.com"),
        ({"domain": "mycompany.my"}, "https://mycompany.my.salesforce.com"),
        ({"domain": "MyCompany.my.salesforce.com"}, "https://mycompany.my.salesforce.com"),
        (
            {"domain": "mycompany--dev.sandbox.my"},
            "https://mycompany--dev.sandbox.my.salesforce.com",
        ),
        ({"domain": "test"}, "https://test.salesforce.com"),
        ({"login_url": "http://127.0.0.1:8765/"}, "http://127.0.0.1:8765"),
        ({"login_url": "https://fake.example.test/org1/"}, "https://fake.example.test/org1"),
        ({"login_url": "http://[::1]:9000"}, "http://[::1]:9000"),
    ],
)
def test_login_url(kwargs: dict[str, object], url: str) -> None:
    assert resolve_login_url(**kwargs) == url  # type: ignore[arg-type]
    auth = make_login(**kwargs)
    assert auth.login_url == url
    request = auth.login_request()
    assert str(request.url) == f"{url}/services/Soap/u/64.0"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"domain": "acme.my", "login_url": "https://acme.my.salesforce.com"},
        {"sandbox": True, "domain": "acme.my"},
        {"sandbox": True, "login_url": "http://127.0.0.1:1"},
        {"domain": "https://acme.my.salesforce.com"},
        {"domain": "acme..my"},
        {"domain": "acme my"},
        {"domain": ""},
        {"login_url": "ftp://login.salesforce.com"},
        {"login_url": "login.salesforce.com"},
        {"login_url": "https://user:pw@login.salesforce.com"},
        {"login_url": "https://login.salesforce.com/?next=x"},
        {"login_url": "http://127.0.0.1:99999"},
    ],
)
def test_bad_login_url_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        resolve_login_url(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        make_login(**kwargs)


# --------------------------------------------------------------------------- API version


@pytest.mark.parametrize(
    ("given", "normalised"),
    [("64.0", "64.0"), ("64", "64.0"), ("v58.0", "58.0"), (62.0, "62.0"), ("31.0", "31.0")],
)
def test_api_version_accepted(given: str | float, normalised: str) -> None:
    assert check_soap_api_version(given) == normalised
    auth = make_login(api_version=given)
    assert auth.api_version == normalised
    assert auth.soap_url == f"https://login.salesforce.com/services/Soap/u/{normalised}"


def test_default_api_version_is_the_last_with_login() -> None:
    assert make_login().api_version == "64.0"


@pytest.mark.parametrize("version", ["65.0", "66.0", "70"])
def test_api_version_after_login_retirement(version: str) -> None:
    with pytest.raises(InvalidInputError, match=r"removed it in API 65\.0.*Summer '27"):
        make_login(api_version=version)


@pytest.mark.parametrize("version", ["30.0", "24.0", "21"])
def test_retired_api_version(version: str) -> None:
    with pytest.raises(InvalidInputError, match="retired"):
        make_login(api_version=version)


@pytest.mark.parametrize("version", ["abc", "64.5", "", "6.0.0", "sixty"])
def test_malformed_api_version(version: str) -> None:
    with pytest.raises(InvalidInputError, match="look like"):
        check_soap_api_version(version)


# --------------------------------------------------------------------------- request


def test_login_request() -> None:
    auth = make_login()
    request = auth.login_request()
    assert request.method == "POST"
    assert str(request.url) == "https://login.salesforce.com/services/Soap/u/64.0"
    assert request.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert request.headers["SOAPAction"] == "login"
    root = ET.fromstring(request.content)
    assert root.tag == q("Envelope", SOAP_ENV)
    assert root.find(q("Header", SOAP_ENV)) is None
    body = root.find(q("Body", SOAP_ENV))
    assert body is not None
    (login,) = list(body)
    assert login.tag == q("login")
    assert [child.tag for child in login] == [q("username"), q("password")]
    assert login.findtext(q("username")) == "ops@acme.test"
    assert login.findtext(q("password")) == PASSWORD + TOKEN


def test_login_request_has_the_shape_of_a_recorded_client_request() -> None:
    recorded = ET.fromstring(read_fixture("requests/soap_partner_login_request_jorgevaldivia.xml"))
    ours = ET.fromstring(make_login().login_request().content)
    assert [e.tag for e in ours.iter()] == [e.tag for e in recorded.iter()]


def test_call_options_client_header() -> None:
    request = make_login(client_id="acme/etl&co").login_request()
    root = ET.fromstring(request.content)
    header = root.find(q("Header", SOAP_ENV))
    assert header is not None
    assert header.findtext(f"{q('CallOptions')}/{q('client')}") == "acme/etl&co"
    assert [child.tag for child in root] == [q("Header", SOAP_ENV), q("Body", SOAP_ENV)]


@pytest.mark.parametrize(
    ("username", "password", "token"),
    [
        ("a&b<c>@acme.test", "p<a&b\"c'd]]>e", "T<&>"),
        ("ops@acme.test", "<![CDATA[x]]>&amp;&#38;", ""),
        ("ops@acme.test", "tab\there\r\nnewline ", "tok"),
        ("ünï@acme.test", "pässwörd€😀中", "ŧøķéñ"),
        ("ops@acme.test", "</urn:password><urn:username>evil</urn:username>", ""),
    ],
)
def test_credentials_are_escaped_and_carried_intact(
    username: str, password: str, token: str
) -> None:
    auth = SoapLogin(username, password, token)
    content = auth.login_request().content
    root = ET.fromstring(content)  # well-formed
    login = root.find(f"{q('Body', SOAP_ENV)}/{q('login')}")
    assert login is not None
    assert [child.tag for child in login] == [q("username"), q("password")]
    assert login.findtext(q("username")) == username
    assert login.findtext(q("password")) == password + token
    assert content.count(b"]]>") == 0


def test_build_login_envelope_is_pure() -> None:
    body = build_login_envelope("u@acme.test", "pw&", client_id="c")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert ET.fromstring(body).find(f"{q('Body', SOAP_ENV)}/{q('login')}") is not None
    assert b"pw&amp;" in body


@pytest.mark.parametrize("bad", ["nul\x00here", "esc\x1bape", "\ufffe"])
def test_characters_xml_cannot_carry(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="password contains a character") as caught:
        SoapLogin("ops@acme.test", bad)
    assert bad not in str(caught.value)


def test_request_over_10_kb_is_refused_before_sending() -> None:
    big = "x" * MAX_LOGIN_REQUEST_BYTES
    with pytest.raises(InvalidInputError, match="10,240") as caught:
        SoapLogin("ops@acme.test", big)
    assert big not in str(caught.value)
    # Just under the limit is fine.
    overhead = len(build_login_envelope("ops@acme.test", ""))
    fits = "y" * (MAX_LOGIN_REQUEST_BYTES - overhead)
    assert len(SoapLogin("ops@acme.test", fits).login_request().content) == (
        MAX_LOGIN_REQUEST_BYTES
    )
    with pytest.raises(InvalidInputError):
        SoapLogin("ops@acme.test", fits + "y")


def test_empty_username_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="username"):
        SoapLogin("  ", "pw")


def test_secret_str_credentials() -> None:
    auth = SoapLogin("ops@acme.test", SecretStr("pw1"), SecretStr("tok2"))
    login = ET.fromstring(auth.login_request().content).find(f"{q('Body', SOAP_ENV)}/{q('login')}")
    assert login is not None
    assert login.findtext(q("password")) == "pw1tok2"


# --------------------------------------------------------------------------- identity


def test_is_an_authenticator() -> None:
    assert isinstance(make_login(), Authenticator)


def test_fingerprint_names_url_and_user_only() -> None:
    auth = make_login()
    assert auth.fingerprint == fingerprint("soap", "https://login.salesforce.com", "ops@acme.test")
    assert SoapLogin("ops@acme.test", "other", "x").fingerprint == auth.fingerprint
    assert make_login(sandbox=True).fingerprint != auth.fingerprint
    assert SoapLogin("dev@acme.test", PASSWORD, TOKEN).fingerprint != auth.fingerprint
    assert PASSWORD not in auth.fingerprint
    assert TOKEN not in auth.fingerprint


def test_repr_shows_user_and_url_but_no_secret() -> None:
    auth = make_login(domain="acme.my")
    for text in (repr(auth), str(auth)):
        assert "ops@acme.test" in text
        assert "https://acme.my.salesforce.com" in text
        assert PASSWORD not in text
        assert TOKEN not in text
        assert "S3cret" not in text


@pytest.mark.review("hardening")
def test_usernames_differing_only_in_case_share_one_session_key() -> None:
    a = SoapLogin("Admin@Example.com", "pw", login_url="https://Login.Example")
    b = SoapLogin("admin@example.com ", "other-pw", login_url="https://login.example")
    c = SoapLogin("someone@example.com", "pw", login_url="https://login.example")
    assert a.fingerprint == b.fingerprint != c.fingerprint


# --------------------------------------------------------------------------- replies


def test_success_fixture_gives_a_session() -> None:
    auth = make_login()
    response = httpx.Response(200, content=read_fixture(RESPONSE_FIXTURE))
    session = auth.parse_login_response(response, now=NOW)
    assert session.instance_url == "https://na9.salesforce.com"
    assert session.session_id.get_secret_value().startswith("00DE0000000YSKp!AQ4AQ")
    assert session.user_id == "005E00000017spfIAA"
    assert session.org_id == "00DE0000000YSKpMAO"
    assert session.user_name == "jjfutbol@gmail.com"
    assert session.seconds_valid == 7200
    assert session.issued_at == session.last_used_at == NOW
    assert session.expires_at == NOW + timedelta(hours=2)
    assert session.auth_fingerprint == auth.fingerprint
    assert session.bulk_url("64.0") == "https://na9.salesforce.com/services/async/64.0"


def test_success_reply_uses_session_seconds_valid() -> None:
    session = make_login().parse_login_response(
        httpx.Response(200, content=login_reply(seconds_valid="900")), now=NOW
    )
    assert session.seconds_valid == 900
    assert session.expires_at == NOW + timedelta(seconds=900)
    assert session.instance_url == "https://acme.my.salesforce.com"
    assert session.session_id.get_secret_value() == SESSION_ID


def test_parse_login_result_pure_function() -> None:
    result = parse_login_result(login_reply())
    assert result.sandbox is True
    assert result.user_info.currency_symbol is None
    assert result.user_info.chatter_external is False
    assert result.user_info.organization_name == "Acme"


def test_invalid_login_fixture() -> None:
    response = httpx.Response(500, content=read_fixture(FAULT_FIXTURE))
    with pytest.raises(LoginError) as caught:
        make_login().parse_login_response(response, now=NOW)
    error = caught.value
    assert type(error) is LoginError
    assert error.code == "INVALID_LOGIN"
    assert error.message == "Invalid username, password, security token; or user locked out."
    assert error.status_code == 500
    assert str(error) == (
        "INVALID_LOGIN: Invalid username, password, security token; or user locked out."
    )


def test_bare_fault_code_without_detail() -> None:
    body = fault_reply(
        "INVALID_LOGIN",
        "INVALID_LOGIN: Invalid username, password, security token; or user locked out.",
    )
    with pytest.raises(LoginError) as caught:
        make_login().parse_login_response(httpx.Response(500, content=body), now=NOW)
    assert caught.value.code == "INVALID_LOGIN"
    assert caught.value.message == (
        "Invalid username, password, security token; or user locked out."
    )


def test_login_rate_exceeded() -> None:
    body = fault_reply(
        "sf:LOGIN_RATE_EXCEEDED",
        "LOGIN_RATE_EXCEEDED: Login Rate Exceeded.",
        login_fault_detail("LOGIN_RATE_EXCEEDED", "Login Rate Exceeded."),
    )
    with pytest.raises(LoginRateExceededError) as caught:
        make_login().parse_login_response(httpx.Response(500, content=body), now=NOW)
    assert isinstance(caught.value, LoginError)
    assert caught.value.code == "LOGIN_RATE_EXCEEDED"
    assert caught.value.message == "Login Rate Exceeded."
    assert caught.value.status_code == 500


@pytest.mark.parametrize(
    "code", ["LOGIN_MUST_USE_SECURITY_TOKEN", "UNSUPPORTED_API_VERSION", "PASSWORD_LOCKOUT"]
)
def test_other_fault_codes_are_kept(code: str) -> None:
    body = fault_reply(f"sf:{code}", f"{code}: something", login_fault_detail(code, "something"))
    with pytest.raises(LoginError) as caught:
        parse_login_result(body, status_code=500)
    assert type(caught.value) is LoginError
    assert caught.value.code == code


def test_password_expired_is_refused() -> None:
    reply = login_reply(password_expired="true")
    assert parse_login_result(reply).password_expired is True
    with pytest.raises(LoginError) as caught:
        make_login().parse_login_response(httpx.Response(200, content=reply), now=NOW)
    assert caught.value.code == "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"
    assert SESSION_ID not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, b"<html><body>Bad gateway</body></html>"),
        (200, b""),
        (200, b"not xml at all"),
        (200, b'{"sessionId": "x"}'),
        (500, b"<?xml version='1.0'?><error>oops</error>"),
        (
            200,
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body/>'
            "</soapenv:Envelope>".encode(),
        ),
        (503, login_reply()),
    ],
)
def test_unusable_replies_are_protocol_errors(status: int, body: bytes) -> None:
    """With a 5xx, a reply that is no SOAP answer is the server failing (retryable)."""
    expected = LoginUnavailableError if status >= 500 else ProtocolError
    with pytest.raises(expected) as caught:
        make_login().parse_login_response(httpx.Response(status, content=body), now=NOW)
    assert caught.value.status_code == status
    assert f"HTTP {status}" in str(caught.value)
    assert caught.value.retryable == (status >= 500)
    if isinstance(caught.value, ProtocolError):
        assert caught.value.response is None  # the login request (password) is not attached
    else:
        assert isinstance(caught.value.__cause__, ProtocolError)


@pytest.mark.review("client")
@pytest.mark.parametrize(
    ("server_url", "seconds_valid"),
    [
        ("/services/Soap/u/64.0/00Dx0000000001A", "7200"),  # not absolute
        ("ftp://na1.example.test/services/Soap/u/64.0/00D", "7200"),  # not http(s)
        ("https://na1.example.test/services/Soap/u/64.0/00D", "-60"),
        ("https://na1.example.test/services/Soap/u/64.0/00D", "99999999999999999999"),
        ("https://na1.example.test:abc/services/Soap/u/64.0/00D", "7200"),  # no port
        ("https://xn--/services/Soap/u/64.0/00D", "7200"),  # a malformed IDNA label
    ],
)
def test_an_unusable_login_result_raises_protocol_error_without_the_session_id(
    server_url: str, seconds_valid: str
) -> None:
    reply = httpx.Response(
        200, content=login_reply(server_url=server_url, seconds_valid=seconds_valid)
    )
    with pytest.raises(ProtocolError) as caught:
        make_login().parse_login_response(reply, now=NOW)
    assert caught.value.status_code == 200
    assert SESSION_ID not in str(caught.value)


def test_result_without_server_url_does_not_leak_the_session_id() -> None:
    reply = login_reply(server_url="")
    with pytest.raises(ProtocolError, match="serverUrl") as caught:
        make_login().parse_login_response(httpx.Response(200, content=reply), now=NOW)
    error = caught.value
    assert SESSION_ID not in str(error)
    assert SESSION_ID not in repr(error)
    assert error.__cause__ is None
    assert error.__context__ is None


def test_missing_reply() -> None:
    with pytest.raises(ProtocolError):
        make_login().parse_login_response(None, now=NOW)


def test_no_secret_in_any_exception_message() -> None:
    auth = make_login()
    echoed = fault_reply(
        "sf:INVALID_LOGIN",
        f"INVALID_LOGIN: bad password {PASSWORD}{TOKEN}",
        login_fault_detail("INVALID_LOGIN", f"bad password {PASSWORD + TOKEN} / {TOKEN}"),
    ).replace(b"<&\"']]>", b"&lt;&amp;&quot;&apos;]]&gt;")
    replies = [
        httpx.Response(500, content=echoed),
        httpx.Response(500, content=INVALID_LOGIN),
        httpx.Response(200, content=login_reply(password_expired="true")),
        httpx.Response(200, content=login_reply(server_url="")),
        httpx.Response(502, content=b"<html/>"),
    ]
    errors: list[SfBulkError] = []
    for response in replies:
        with pytest.raises(SfBulkError) as caught:
            auth.parse_login_response(response, now=NOW)
        errors.append(caught.value)
    for kwargs in ({"api_version": "65.0"}, {"login_url": "ftp://x"}):
        with pytest.raises(SfBulkError) as caught:
            make_login(**kwargs)
        errors.append(caught.value)
    assert "***" in str(errors[0])  # the echoed secret was masked
    for error in errors:
        for text in (str(error), repr(error), repr(error.args)):
            assert PASSWORD not in text
            assert TOKEN not in text
            assert SESSION_ID not in text


def test_login_through_an_httpx_transport() -> None:
    """The authenticator drives a real httpx exchange without doing any I/O itself."""
    seen: list[tuple[str, str]] = []

    def org(request: httpx.Request) -> httpx.Response:
        login = ET.fromstring(request.content).find(f"{q('Body', SOAP_ENV)}/{q('login')}")
        assert login is not None
        seen.append((login.findtext(q("username")) or "", login.findtext(q("password")) or ""))
        if login.findtext(q("password")) != PASSWORD + TOKEN:
            return httpx.Response(500, content=INVALID_LOGIN)
        return httpx.Response(200, content=login_reply(), headers={"Content-Type": "text/xml"})

    with httpx.Client(transport=httpx.MockTransport(org)) as client:
        auth = make_login(login_url="http://127.0.0.1:8765")
        session = auth.parse_login_response(client.send(auth.login_request()), now=NOW)
        assert session.session_id.get_secret_value() == SESSION_ID
        wrong = SoapLogin("ops@acme.test", "wrong", login_url="http://127.0.0.1:8765")
        with pytest.raises(LoginError, match="INVALID_LOGIN"):
            wrong.parse_login_response(client.send(wrong.login_request()), now=NOW)
    assert seen == [("ops@acme.test", PASSWORD + TOKEN), ("ops@acme.test", "wrong")]


# --------------------------------------------------------------------------- recorded replies


def test_soap_login_response_fixture() -> None:
    result = parse_login_result(
        read_fixture("soap_login/partner_login_response_v24_jorgevaldivia.xml"), status_code=200
    )
    assert isinstance(result, LoginResult)
    assert (
        result.server_url == "https://na9-api.salesforce.com/services/Soap/u/24.0/00DE0000000YSKp"
    )
    assert result.metadata_server_url == (
        "https://na9-api.salesforce.com/services/Soap/m/24.0/00DE0000000YSKp"
    )
    assert result.instance_url == "https://na9.salesforce.com"
    assert result.session_id.get_secret_value().startswith("00DE0000000YSKp!AQ4AQNQhDKLMORZx2")
    assert result.password_expired is False
    assert result.sandbox is False
    assert result.user_id == "005E00000017spfIAA"
    info = result.user_info
    assert info.organization_id == "00DE0000000YSKpMAO"
    assert info.organization_name == "Gmail"
    assert info.user_name == "jjfutbol@gmail.com"
    assert info.user_full_name == "Javier Julio"
    assert info.session_seconds_valid == 7200
    assert result.session_seconds_valid == 7200
    assert info.org_attachment_file_size_limit == 5242880
    assert info.currency_symbol == "$"
    assert info.role_id is None  # xsi:nil
    assert info.user_default_currency_iso_code is None  # xsi:nil
    assert info.org_default_currency_locale is None  # absent in v24
    assert info.accessibility_mode is False
    assert info.user_time_zone == "America/Panama"
    assert info.user_type == "Standard"
    assert info.user_ui_skin == "Theme3"


def test_soap_login_fault_fixture() -> None:
    raw = read_fixture("soap_login/partner_login_fault_INVALID_LOGIN_jorgevaldivia.xml")
    with pytest.raises(LoginError) as caught:
        parse_login_result(raw, status_code=500)
    error = caught.value
    assert not isinstance(error, LoginRateExceededError)
    assert error.code == error.fault_code == "INVALID_LOGIN"
    assert error.message == "Invalid username, password, security token; or user locked out."
    assert error.status_code == 500
