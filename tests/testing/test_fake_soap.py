"""SOAP partner login (and logout/getUserInfo) against the fake org."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import httpx
import pytest

from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
    FakeUser,
    ManualClock,
)

PARTNER = "{urn:partner.soap.sforce.com}"
FAULT = "{urn:fault.partner.soap.sforce.com}"


def envelope(username: str, password: str, *, header: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8" ?><env:Envelope '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:urn="urn:partner.soap.sforce.com">{header}<env:Body>'
        '<n1:login xmlns:n1="urn:partner.soap.sforce.com">'
        f"<n1:username>{escape(username)}</n1:username><n1:password>{escape(password)}</n1:password>"
        "</n1:login></env:Body></env:Envelope>"
    )


def call(
    org: FakeOrg,
    body: str,
    path: str = "/services/Soap/u/60.0",
    host: str = "https://login.salesforce.com",
) -> httpx.Response:
    with httpx.Client(transport=FakeOrgTransport(org), base_url=host) as client:
        return client.post(
            path,
            content=body,
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        )


def result(reply: httpx.Response) -> dict[str, str | None]:
    root = ET.fromstring(reply.content)
    res = root.find(f".//{PARTNER}result")
    assert res is not None
    out: dict[str, str | None] = {
        c.tag.removeprefix(PARTNER): c.text for c in res if c.tag != f"{PARTNER}userInfo"
    }
    info = res.find(f"{PARTNER}userInfo")
    assert info is not None
    out.update({"userInfo." + c.tag.removeprefix(PARTNER): c.text for c in info})
    return out


def fault(reply: httpx.Response) -> tuple[int, str, str]:
    root = ET.fromstring(reply.content)
    code = root.findtext(".//faultcode") or ""
    detail = root.find(f".//{FAULT}exceptionCode")
    assert detail is not None and code == f"sf:{detail.text}"
    return reply.status_code, detail.text or "", root.findtext(f".//{FAULT}exceptionMessage") or ""


def test_login_returns_a_session_on_the_fake(org: FakeOrg) -> None:
    reply = call(org, envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN))
    assert reply.status_code == 200 and reply.headers["content-type"] == "text/xml; charset=utf-8"
    data = result(reply)
    org15 = org.org_id[:15]
    assert data["serverUrl"] == f"{org.instance_url}/services/Soap/u/60.0/{org15}"
    assert data["metadataServerUrl"] == f"{org.instance_url}/services/Soap/m/60.0/{org15}"
    assert data["passwordExpired"] == "false" and data["sandbox"] == "false"
    assert data["userId"] == org.state.accounts.default.user_id
    assert data["userInfo.sessionSecondsValid"] == "7200"
    assert data["userInfo.organizationId"] == org.org_id
    assert data["userInfo.userName"] == DEFAULT_USERNAME
    session = data["sessionId"]
    assert session is not None and session.startswith(org15 + "!")
    assert org.state.accounts.authenticate(session) is org.state.accounts.default
    assert org.login_count == 1 and org.stats()["logins"] == 1
    # v60 has the fields added after v24, in WSDL order.
    tags = [ET.fromstring(reply.content).find(f".//{PARTNER}userInfo")]
    names = [c.tag.removeprefix(PARTNER) for c in tags[0]]  # type: ignore[union-attr]
    assert names[:4] == [
        "accessibilityMode",
        "chatterExternal",
        "currencySymbol",
        "orgAttachmentFileSizeLimit",
    ]
    assert "orgDefaultCurrencyLocale" in names and names[-1] == "userUiSkin"


def test_server_url_follows_the_transport_instance_url() -> None:
    org = FakeOrg(session_timeout=900)
    with httpx.Client(
        transport=FakeOrgTransport(org, instance_url="https://acme.my.salesforce.com/")
    ) as client:
        reply = client.post(
            "https://test.salesforce.com/services/Soap/u/58.0",
            content=envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN),
        )
    data = result(reply)
    assert (
        data["serverUrl"]
        == f"https://acme.my.salesforce.com/services/Soap/u/58.0/{org.org_id[:15]}"
    )
    assert data["userInfo.sessionSecondsValid"] == "900"


@pytest.mark.parametrize(
    "path",
    [
        "/services/Soap/u/59.0",
        "/services/Soap/u/59.0/00D5j0000000001",  # the serverUrl itself
        # simple-salesforce given domain="host:port/login":
        "/login.salesforce.com/services/Soap/u/59.0",
    ],
)
def test_login_paths(org: FakeOrg, path: str) -> None:
    reply = call(org, envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN), path)
    assert reply.status_code == 200


def test_escaped_credentials_and_trusted_users() -> None:
    org = FakeOrg(users=[FakeUser("o'neil&co@example.com", 'p<w>&"d', "")])
    assert call(org, envelope("O'Neil&Co@example.com", 'p<w>&"d')).status_code == 200
    assert call(org, envelope("o'neil&co@example.com", "p<w>")).status_code == 500


def test_login_faults(org: FakeOrg) -> None:
    assert fault(call(org, envelope(DEFAULT_USERNAME, "wrong"))) == (
        500,
        "INVALID_LOGIN",
        "Invalid username, password, security token; or user locked out.",
    )
    assert fault(call(org, envelope("nobody@example.com", "x")))[1] == "INVALID_LOGIN"
    status, code, _ = fault(call(org, envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD)))
    assert (status, code) == (500, "LOGIN_MUST_USE_SECURITY_TOKEN")
    good = envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN)
    assert fault(call(org, good, "/services/Soap/u/65.0"))[:2] == (500, "INVALID_OPERATION")
    assert fault(call(org, good, "/services/Soap/u/66.0"))[:2] == (500, "INVALID_OPERATION")
    assert fault(call(org, good, "/services/Soap/u/30.0")) == (
        500,
        "UNSUPPORTED_API_VERSION",
        "Invalid Api version specified on URL",
    )
    assert fault(call(org, good, "/services/Soap/u/v60"))[1] == "UNSUPPORTED_API_VERSION"
    assert fault(call(org, "<not xml"))[1] == "INVALID_XML"
    assert call(org, good, "/services/Soap/u/64.0").status_code == 200
    # Refusals before the credentials are read (bad version syntax, bad XML) are not logins.
    assert org.login_count == 1 and org.stats()["failed_logins"] == 6


def test_login_rate_limit(clock: ManualClock) -> None:
    org = FakeOrg(clock=clock, max_logins_per_hour=2)
    good = envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN)
    assert [call(org, good).status_code for _ in range(2)] == [200, 200]
    assert fault(call(org, good)) == (500, "LOGIN_RATE_EXCEEDED", "Login rate exceeded.")
    clock.advance(3600)
    assert call(org, good).status_code == 200
    assert org.login_count == 3


def test_logout_get_user_info_and_invalid_session(org: FakeOrg) -> None:
    session = result(
        call(org, envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN))
    )["sessionId"]
    assert session is not None

    def with_session(operation: str, sid: str) -> httpx.Response:
        body = (
            '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:urn="urn:partner.soap.sforce.com"><env:Header><urn:SessionHeader>'
            f"<urn:sessionId>{sid}</urn:sessionId></urn:SessionHeader></env:Header>"
            f"<env:Body><urn:{operation}/></env:Body></env:Envelope>"
        )
        return call(org, body, f"/services/Soap/u/60.0/{org.org_id[:15]}", org.instance_url)

    info = with_session("getUserInfo", session)
    assert info.status_code == 200 and "<userName>admin@fake-org.example</userName>" in info.text
    assert fault(with_session("describeGlobal", session))[1] == "INVALID_OPERATION"
    assert with_session("logout", session).status_code == 200
    assert org.state.accounts.authenticate(session) is None
    status, code, message = fault(with_session("getUserInfo", session))
    assert (status, code) == (500, "INVALID_SESSION_ID")
    assert message == "Invalid Session ID found in SessionHeader: Illegal Session"
    root = ET.fromstring(with_session("getUserInfo", "bogus").content)
    assert root.find(f".//{FAULT}UnexpectedErrorFault") is not None


def test_secrets_stay_out_of_reprs_and_stats(org: FakeOrg) -> None:
    reply = call(org, envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN))
    session = result(reply)["sessionId"]
    assert session is not None
    exposed = " ".join(
        [
            repr(org),
            repr(org.state.accounts.users),
            repr(org.state),
            repr(org.state.accounts),
            repr(FakeOrgTransport(org)),
            json.dumps(org.stats()),
        ]
    )
    for secret in (session, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN):
        assert secret not in exposed
    from sfbulk_sdk.testing import FakeRequest

    request = FakeRequest("GET", "/services/async/60.0/job", {"x-sfdc-session": session})
    assert session not in repr(request) and session not in str(request)
    assert not re.search(r"!AQ", json.dumps(org.stats()))


def test_login_from_65_is_refused_in_salesforce_words(org: FakeOrg) -> None:
    good = envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN)
    # The wording a live org answered with (forcedotcom/wsc#363).
    assert fault(call(org, good, "/services/Soap/u/65.0")) == (
        500,
        "INVALID_OPERATION",
        "The SOAP Login operation is not available in the API version specified (65.0). "
        "Refer to the documentation for supported versions.",
    )
    assert org.login_count == 0 and org.stats()["failed_logins"] == 1


def test_soap_login_can_be_disabled_as_in_new_orgs() -> None:
    org = FakeOrg(soap_login_enabled=False)
    good = envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN)
    status, code, message = fault(call(org, good, "/services/Soap/u/64.0"))
    assert (status, code) == (500, "INVALID_OPERATION")
    assert message.startswith("SOAP API login() is disabled by default in this org.")
    assert org.login_count == 0
    org.state.settings.soap_login_enabled = True  # an admin switched it back on
    assert call(org, good, "/services/Soap/u/64.0").status_code == 200


def test_an_expired_password_gives_a_restricted_session(org: FakeOrg) -> None:
    user = org.add_user("expired@example.com", "old-pw", "TOK")
    user.password_expired = True
    reply = call(org, envelope("expired@example.com", "old-pwTOK"))
    assert reply.status_code == 200 and result(reply)["passwordExpired"] == "true"
    session = result(reply)["sessionId"]
    assert session is not None
    expired = (
        500,
        "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
        "The users password has expired, you must call SetPassword before attempting any "
        "other API operations",
    )
    info = (
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><env:Header><urn:SessionHeader>'
        f"<urn:sessionId>{session}</urn:sessionId></urn:SessionHeader></env:Header>"
        "<env:Body><urn:getUserInfo/></env:Body></env:Envelope>"
    )
    assert fault(call(org, info, f"/services/Soap/u/60.0/{org.org_id[:15]}")) == expired
    with httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url) as client:
        bulk = client.get(
            "/services/async/60.0/job/7505j0000000001AAA", headers={"X-SFDC-Session": session}
        )
    assert bulk.status_code == 400
    assert "<exceptionCode>InvalidSessionId</exceptionCode>" in bulk.text
    assert f"<exceptionMessage>{expired[2]}</exceptionMessage>" in bulk.text
    user.password_expired = False  # the password was reset: the session works again
    assert call(org, info, f"/services/Soap/u/60.0/{org.org_id[:15]}").status_code == 200


def test_encoded_soap_bodies(org: FakeOrg) -> None:
    import gzip

    body = envelope(DEFAULT_USERNAME, DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN).encode()
    with httpx.Client(
        transport=FakeOrgTransport(org), base_url="https://login.salesforce.com"
    ) as c:
        zipped = c.post(
            "/services/Soap/u/60.0",
            content=gzip.compress(body),
            headers={"Content-Type": "text/xml; charset=UTF-8", "Content-Encoding": "gzip"},
        )
        assert zipped.status_code == 200 and result(zipped)["sessionId"]
        # A body the org cannot decode is refused in the SOAP API's own envelope.
        other = c.post(
            "/services/Soap/u/60.0",
            content=body,
            headers={"Content-Type": "text/xml; charset=UTF-8", "Content-Encoding": "br"},
        )
    assert other.status_code == 415
    assert other.headers["content-type"] == "text/xml; charset=utf-8"
    assert fault(other)[1:] == ("UNKNOWN_EXCEPTION", "Unsupported Content-Encoding: br")
