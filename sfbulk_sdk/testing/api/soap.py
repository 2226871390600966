"""The SOAP partner API of the fake org: ``login()``, ``logout()`` and ``getUserInfo()``.

Route: ``POST {any prefix}/services/Soap/u/{version}[/{orgId}]`` (any prefix,
so that clients which build ``https://{domain}.salesforce.com/...`` URLs reach a
served org). This module reads the envelope, checks the credentials against the
org's :class:`~sfbulk_sdk.testing.accounts.Accounts` and writes the reply.

Replies are single-line documents, as Salesforce sends them: a
``loginResponse/result`` with the ``userInfo`` children in the partner WSDL's
order, or a ``soapenv:Fault`` whose ``detail`` holds an ``sf:LoginFault``
(HTTP 500).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from ...models.session import UserInfo
from ...models.xml import XSI_NS, XmlError, parse_xml
from ..accounts import EXPIRED_PASSWORD
from ..http import FakeRequest, FakeResponse
from ..state import OrgState

__all__ = [
    "BODY_ERROR_CODE",
    "INVALID_LOGIN",
    "PATTERN",
    "LoginRequest",
    "SoapFault",
    "error",
    "handle",
    "parse_soap_call",
    "render_fault",
    "render_login_response",
]

#: The SOAP endpoint, under any path prefix.
PATTERN = re.compile(r"^(?:/.*)?/services/Soap/u/(?P<version>[^/]+)(?:/(?P<org>[^/]*))?/?$")
#: The fault code answering a request body that cannot be read.
BODY_ERROR_CODE = "UNKNOWN_EXCEPTION"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
_VERSION = re.compile(r"^\d{1,3}\.\d$")

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "urn:partner.soap.sforce.com"
FAULT_NS = "urn:fault.partner.soap.sforce.com"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>'

INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


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


# ---------------------------------------------------------------------------
# The handler


def error(request: FakeRequest, status: int, code: str, message: str) -> FakeResponse:
    """A SOAP fault (``UnexpectedErrorFault``) with HTTP ``status``."""
    body = render_fault(SoapFault(code, message, detail="UnexpectedErrorFault"))
    return FakeResponse(status, body, [("Content-Type", SOAP_CONTENT_TYPE)])


def _fault(fault: SoapFault) -> FakeResponse:
    return FakeResponse(500, render_fault(fault), [("Content-Type", SOAP_CONTENT_TYPE)])


def handle(state: OrgState, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
    """Answer one SOAP call (the caller holds the org's lock)."""
    state.requests["soap"] += 1
    version_text = match["version"]
    try:
        if not _VERSION.match(version_text):
            raise SoapFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
        version = float(version_text)
        call = parse_soap_call(request.body)
        if call.operation == "login":
            return _login(state, request, version_text, version, call.username, call.password)
        accounts = state.accounts
        user = accounts.authenticate(call.session_id)
        if user is None:
            raise SoapFault(
                "INVALID_SESSION_ID",
                "Invalid Session ID found in SessionHeader: Illegal Session",
                detail="UnexpectedErrorFault",
            )
        if call.operation == "logout":
            accounts.end_session(call.session_id)
            body = render_logout_response()
        elif user.password_expired:
            raise SoapFault(
                "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
                EXPIRED_PASSWORD,
                detail="UnexpectedErrorFault",
            )
        elif call.operation == "getUserInfo":
            body = render_user_info_response(accounts.user_info(user), version)
        else:
            raise SoapFault(
                "INVALID_OPERATION",
                f"The fake org does not implement {call.operation}()",
                detail="UnexpectedErrorFault",
            )
        return FakeResponse(200, body, [("Content-Type", SOAP_CONTENT_TYPE)])
    except SoapFault as fault:
        return _fault(fault)


def _login(
    state: OrgState,
    request: FakeRequest,
    version_text: str,
    version: float,
    username: str,
    password: str,
) -> FakeResponse:
    settings = state.settings
    if not settings.oldest_api_version <= version <= settings.latest_api_version:
        state.failed_logins += 1
        raise SoapFault("UNSUPPORTED_API_VERSION", "Invalid Api version specified on URL")
    if version >= 65.0:
        state.failed_logins += 1
        raise SoapFault(
            "INVALID_OPERATION",
            f"The SOAP Login operation is not available in the API version specified "
            f"({version_text}). Refer to the documentation for supported versions.",
        )
    if not settings.soap_login_enabled:
        state.failed_logins += 1
        raise SoapFault(
            "INVALID_OPERATION",
            "SOAP API login() is disabled by default in this org. Contact the org "
            "administrator to enable SOAP API login().",
        )
    accounts = state.accounts
    user, problem = accounts.check_credentials(username, password)
    if user is None or problem == "INVALID_LOGIN":
        state.failed_logins += 1
        raise SoapFault("INVALID_LOGIN", INVALID_LOGIN)
    if problem == "LOGIN_MUST_USE_SECURITY_TOKEN":
        state.failed_logins += 1
        raise SoapFault(
            "LOGIN_MUST_USE_SECURITY_TOKEN",
            "Invalid username, password, security token; or user locked out. Are you at a new "
            "location? Outside a trusted network, append the user's security token to the "
            "password.",
        )
    if not accounts.check_login_rate(user):
        state.failed_logins += 1
        raise SoapFault("LOGIN_RATE_EXCEEDED", "Login rate exceeded.")
    session_id = accounts.new_session(user)
    state.logins += 1
    base = (request.base_url or settings.instance_url).rstrip("/")
    org_id15 = state.org_id[:15]
    body = render_login_response(
        metadata_server_url=f"{base}/services/Soap/m/{version_text}/{org_id15}",
        server_url=f"{base}/services/Soap/u/{version_text}/{org_id15}",
        session_id=session_id,
        user_id=user.user_id,
        user_info=accounts.user_info(user),
        api_version=version,
        password_expired=user.password_expired,
        sandbox=settings.sandbox,
    )
    return FakeResponse(200, body, [("Content-Type", SOAP_CONTENT_TYPE)])
