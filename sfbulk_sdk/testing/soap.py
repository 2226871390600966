"""SOAP partner ``login()`` for the fake org: reading the envelope, writing result and faults.

Replies are single-line documents, as Salesforce sends them: a
``loginResponse/result`` with the ``userInfo`` children in the partner WSDL's
order, or a ``soapenv:Fault`` whose ``detail`` holds an ``sf:LoginFault``
(HTTP 500).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from ..models.session import UserInfo
from ..models.xml import XSI_NS, XmlError, parse_xml

__all__ = [
    "EXPIRED_PASSWORD",
    "INVALID_LOGIN",
    "FakeUser",
    "LoginRequest",
    "SoapFault",
    "parse_soap_call",
    "render_fault",
    "render_login_response",
]

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "urn:partner.soap.sforce.com"
FAULT_NS = "urn:fault.partner.soap.sforce.com"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>'

INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
#: What a session of a user whose password expired gets for anything but ``setPassword()``.
EXPIRED_PASSWORD = (
    "The users password has expired, you must call SetPassword before attempting any other "
    "API operations"
)


@dataclass
class FakeUser:
    """A user who can log in to the fake org.

    The password and security token never show in ``repr``. A client logs in
    with ``password + security_token`` (or just the password when the token is
    empty, as from a trusted network). With ``password_expired`` the login
    succeeds and reports ``passwordExpired``, but the session it returns is
    refused by every other call, as Salesforce only allows ``setPassword()``.
    """

    username: str
    password: str = field(repr=False)
    security_token: str = field(default="", repr=False)
    full_name: str = "Fake User"
    email: str | None = None
    language: str = "en_US"
    locale: str = "en_US"
    time_zone: str = "America/Los_Angeles"
    password_expired: bool = False
    user_id: str = field(default="", init=False)
    profile_id: str = field(default="", init=False)

    def __post_init__(self) -> None:
        if self.email is None:
            self.email = self.username if "@" in self.username else f"{self.username}@example.com"


class SoapFault(Exception):
    """A SOAP fault to answer with (always HTTP 500)."""

    def __init__(self, code: str, message: str, *, detail: str = "LoginFault") -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class LoginRequest:
    """The parts of a SOAP call the fake needs: operation and login credentials."""

    operation: str
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    session_id: str = field(default="", repr=False)


def _local(key: str) -> str:
    return key.rsplit(":", 1)[-1]


def _child(node: Any, name: str) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if _local(key) == name:
                return value
    return None


def parse_soap_call(body: bytes) -> LoginRequest:
    """Read the operation (``login``, ``logout``, ``getUserInfo``...) and its arguments."""
    try:
        envelope = parse_xml(body, "Envelope")
    except XmlError:
        raise SoapFault(
            "INVALID_XML",
            "The request is not a well-formed SOAP envelope",
            detail="UnexpectedErrorFault",
        ) from None
    header = _child(envelope, "Header")
    session = _child(_child(header, "SessionHeader"), "sessionId")
    soap_body = _child(envelope, "Body")
    if not isinstance(soap_body, dict) or not soap_body:
        raise SoapFault("INVALID_XML", "The SOAP body is empty", detail="UnexpectedErrorFault")
    key, call = next(iter(soap_body.items()))
    operation = _local(key)
    username = _child(call, "username")
    password = _child(call, "password")
    return LoginRequest(
        operation,
        username=username if isinstance(username, str) else "",
        password=password if isinstance(password, str) else "",
        session_id=session if isinstance(session, str) else "",
    )


def render_fault(fault: SoapFault) -> bytes:
    """The one-line fault envelope Salesforce answers failed calls with."""
    code = escape(fault.code)
    message = escape(fault.message)
    kind = fault.detail
    return (
        f'{_DECL}<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns:sf="{FAULT_NS}" '
        f'xmlns:xsi="{XSI_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring>"
        f'<detail><sf:{kind} xsi:type="sf:{kind}"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage></sf:{kind}></detail>"
        f"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _elements(items: Iterable[tuple[str, Any]]) -> str:
    out = []
    for name, value in items:
        if value is None:
            out.append(f'<{name} xsi:nil="true"/>')
        else:
            out.append(f"<{name}>{_text(value)}</{name}>")
    return "".join(out)


def user_info_elements(info: UserInfo, api_version: float) -> str:
    """``userInfo`` children in the WSDL order of the :class:`UserInfo` model.

    ``chatterExternal`` exists from v40 and ``orgDefaultCurrencyLocale`` is
    absent from old (v24-era) responses; both are left out below those versions.
    """
    skip = set()
    if api_version < 40.0:
        skip.add("chatterExternal")
    if api_version < 31.0:
        skip.add("orgDefaultCurrencyLocale")
    items = []
    for name, spec in UserInfo.model_fields.items():
        alias = spec.alias or name
        if alias not in skip:
            items.append((alias, getattr(info, name)))
    return _elements(items)


def render_login_response(
    *,
    metadata_server_url: str,
    server_url: str,
    session_id: str,
    user_id: str,
    user_info: UserInfo,
    api_version: float,
    password_expired: bool = False,
    sandbox: bool = False,
) -> bytes:
    """The ``loginResponse`` envelope."""
    result = _elements(
        [
            ("metadataServerUrl", metadata_server_url),
            ("passwordExpired", password_expired),
            ("sandbox", sandbox),
            ("serverUrl", server_url),
            ("sessionId", session_id),
            ("userId", user_id),
        ]
    )
    info = user_info_elements(user_info, api_version)
    return (
        f'{_DECL}<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns="{PARTNER_NS}" '
        f'xmlns:xsi="{XSI_NS}"><soapenv:Body><loginResponse><result>{result}'
        f"<userInfo>{info}</userInfo></result></loginResponse></soapenv:Body>"
        f"</soapenv:Envelope>"
    ).encode()


def render_logout_response() -> bytes:
    """The empty ``logoutResponse`` envelope."""
    return (
        f'{_DECL}<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns="{PARTNER_NS}">'
        f"<soapenv:Body><logoutResponse/></soapenv:Body></soapenv:Envelope>"
    ).encode()


def render_user_info_response(user_info: UserInfo, api_version: float) -> bytes:
    """The ``getUserInfoResponse`` envelope."""
    info = user_info_elements(user_info, api_version)
    return (
        f'{_DECL}<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns="{PARTNER_NS}" '
        f'xmlns:xsi="{XSI_NS}"><soapenv:Body><getUserInfoResponse><result>{info}</result>'
        f"</getUserInfoResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()
