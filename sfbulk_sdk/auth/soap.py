"""SOAP partner ``login()``: a username and password (plus security token) to a session.

This is the legacy login path. Salesforce removed ``login()`` from API 65.0
(Winter '26), keeps it in 31.0-64.0 until it retires in Summer '27, and turns
it off by default in orgs created from Winter '26 on. Prefer an OAuth flow;
use :class:`SoapLogin` for orgs that still allow it, pinned to API 64.0 or
lower.

The exchange, sans-IO:

* request: ``POST {login_url}/services/Soap/u/{version}`` with
  ``Content-Type: text/xml; charset=UTF-8`` and ``SOAPAction: login``; the
  body is a SOAP 1.1 envelope whose ``Body`` holds ``login`` (namespace
  ``urn:partner.soap.sforce.com``) with ``username`` and ``password``
  (the password with the security token appended), optionally preceded by a
  ``CallOptions`` header naming the client. It may be at most 10 KB.
* success: HTTP 200, ``Envelope/Body/loginResponse/result`` (a
  :class:`~sfbulk_sdk.models.LoginResult`): ``serverUrl`` gives the instance,
  ``userInfo/sessionSecondsValid`` the session's inactivity timeout.
* failure: HTTP 500 with ``Envelope/Body/Fault``: ``faultcode``
  (``sf:INVALID_LOGIN``, sometimes without the prefix), ``faultstring`` and
  ``detail/LoginFault/exceptionCode`` + ``exceptionMessage``.

The password, the security token and the session id never appear in a repr,
a log line or an exception message.
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.sax.saxutils import escape

import httpx
from pydantic import SecretStr

from ..deprecations import warn_once
from ..errors import (
    InvalidInputError,
    LoginError,
    LoginUnavailableError,
    ProtocolError,
    UnsafeXmlError,
)
from ..models.session import LoginResult, Session
from ..models.soap import PARTNER_NS, SOAP_ENV_NS, login_reply_error
from .base import fingerprint
from .hosts import PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL, resolve_login_url

__all__ = [
    "DEFAULT_SOAP_API_VERSION",
    "FIRST_SOAP_LOGIN_VERSION",
    "LAST_SOAP_LOGIN_VERSION",
    "MAX_LOGIN_REQUEST_BYTES",
    "PRODUCTION_LOGIN_URL",
    "SANDBOX_LOGIN_URL",
    "SoapLogin",
    "build_login_envelope",
    "check_soap_api_version",
    "parse_login_result",
    "resolve_login_url",
]


#: The last API version whose SOAP ``login()`` works, and the default here.
DEFAULT_SOAP_API_VERSION = "64.0"
#: ``login()`` is not available from API 65.0 on.
LAST_SOAP_LOGIN_VERSION = 64.0
#: API versions 21.0-30.0 were retired in Summer '25.
FIRST_SOAP_LOGIN_VERSION = 31.0
#: Salesforce refuses login requests larger than 10 KB.
MAX_LOGIN_REQUEST_BYTES = 10 * 1024

EXPIRED_PASSWORD_CODE = "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"

_VERSION = re.compile(r"v?(\d{2,3})(?:\.(\d))?")
# Characters XML 1.0 cannot carry at all, not even as character references.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --------------------------------------------------------------------------- settings


def check_soap_api_version(api_version: str | float) -> str:
    """Validate an API version for SOAP ``login()`` and return it as ``"NN.0"``.

    ``login()`` exists from 31.0 (older versions are retired) up to 64.0 (it
    was removed in 65.0 and retires altogether in Summer '27).
    """
    text = str(api_version).strip()
    match = _VERSION.fullmatch(text)
    if match is None or match.group(2) not in (None, "0"):
        raise InvalidInputError(f"API version must look like '64.0', got {api_version!r}")
    number = float(match.group(1))
    if number > LAST_SOAP_LOGIN_VERSION:
        raise InvalidInputError(
            f"SOAP login() is not available in API {number:.1f}: Salesforce removed it in "
            "API 65.0 and retires it in Summer '27. Use api_version='64.0' (or lower) for "
            "SOAP login, or an OAuth flow."
        )
    if number < FIRST_SOAP_LOGIN_VERSION:
        raise InvalidInputError(
            f"API {number:.1f} is retired (versions 21.0-30.0 were retired in Summer '25); "
            "SOAP login needs API 31.0 to 64.0."
        )
    return f"{number:.1f}"


# --------------------------------------------------------------------------- request


def _xml_text(value: str, what: str) -> str:
    """``value`` escaped as XML character data, so that a parser gives it back intact."""
    if _NOT_XML.search(value):
        raise InvalidInputError(f"the {what} contains a character that XML cannot carry")
    # escape() handles & < > (so "]]>" is harmless too); a literal CR would be
    # normalised to LF by any XML parser, so it is sent as a character reference.
    return escape(value, {"\r": "&#13;"})


def build_login_envelope(username: str, password: str, *, client_id: str | None = None) -> bytes:
    """The SOAP 1.1 ``login`` envelope, UTF-8 encoded.

    ``password`` is the password with the security token already appended.
    Every value is escaped as XML character data. Raises
    :class:`~sfbulk_sdk.errors.InvalidInputError` (never showing a value) when
    a value holds a character XML cannot carry or the envelope exceeds 10 KB.
    """
    header = ""
    if client_id:
        header = (
            "<soapenv:Header><urn:CallOptions>"
            f"<urn:client>{_xml_text(client_id, 'client id')}</urn:client>"
            "</urn:CallOptions></soapenv:Header>"
        )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns:urn="{PARTNER_NS}">'
        f"{header}"
        "<soapenv:Body><urn:login>"
        f"<urn:username>{_xml_text(username, 'username')}</urn:username>"
        f"<urn:password>{_xml_text(password, 'password')}</urn:password>"
        "</urn:login></soapenv:Body></soapenv:Envelope>"
    )
    body = document.encode("utf-8")
    if len(body) > MAX_LOGIN_REQUEST_BYTES:
        raise InvalidInputError(
            f"the SOAP login request would be {len(body):,} bytes; Salesforce accepts at "
            f"most {MAX_LOGIN_REQUEST_BYTES:,} bytes"
        )
    return body


# --------------------------------------------------------------------------- response


def parse_login_result(body: str | bytes, *, status_code: int | None = None) -> LoginResult:
    """Parse the body of a SOAP ``login()`` reply into a :class:`LoginResult`.

    A SOAP fault raises :class:`~sfbulk_sdk.errors.LoginError` carrying the
    fault code (:class:`~sfbulk_sdk.errors.LoginRateExceededError` for
    ``LOGIN_RATE_EXCEEDED``); anything else that is not a login result raises
    :class:`~sfbulk_sdk.errors.ProtocolError`. ``status_code``, when given, is
    attached to the error, and a result is only accepted with a 2xx status.
    A result with ``passwordExpired`` true is returned as it is (see
    :meth:`SoapLogin.parse_login_response`, which refuses it). The parsing
    itself is :meth:`LoginResult.from_soap_reply
    <sfbulk_sdk.models.LoginResult.from_soap_reply>`.
    """
    return LoginResult.from_soap_reply(body, status_code=status_code)


# --------------------------------------------------------------------------- authenticator


class SoapLogin:
    """Log in with a username, password and security token through SOAP ``login()``.

    ``sandbox``, ``domain`` and ``login_url`` choose the login host (see
    :func:`resolve_login_url`). ``api_version`` must be 31.0-64.0 (``login()``
    is gone from 65.0). ``client_id`` goes into the ``CallOptions`` header.

    The password and token are kept as :class:`pydantic.SecretStr` and never
    appear in :func:`repr` or in an exception message.
    """

    def __init__(
        self,
        username: str,
        password: str | SecretStr,
        security_token: str | SecretStr = "",
        *,
        sandbox: bool = False,
        domain: str | None = None,
        login_url: str | None = None,
        api_version: str = DEFAULT_SOAP_API_VERSION,
        client_id: str | None = None,
    ) -> None:
        if not isinstance(username, str) or not username.strip():
            raise InvalidInputError("username must be a non-empty string")
        self._username = username
        self._password = _secret(password, "password")
        self._security_token = _secret(security_token, "security_token")
        self._api_version = check_soap_api_version(api_version)
        self._login_url = resolve_login_url(sandbox=sandbox, domain=domain, login_url=login_url)
        self._client_id = client_id or None
        # Salesforce usernames and hosts are case-insensitive: one key per login.
        self._fingerprint = fingerprint(
            "soap", self._login_url.lower(), self._username.strip().lower()
        )
        self._body()  # validate escaping and size now, not at the first login
        warn_once(
            "soap-login",
            "SOAP login() retires for every API version in Summer '27 and is gone from "
            "API 65.0 (orgs created since Winter '26 have it off by default): move to an "
            "OAuth flow (JwtBearer, ClientCredentials or RefreshToken)",
        )

    def __repr__(self) -> str:
        return (
            f"SoapLogin(username={self._username!r}, login_url={self._login_url!r}, "
            f"api_version={self._api_version!r})"
        )

    @property
    def can_refresh(self) -> bool:
        """Always ``True``: a rejected session is replaced by a new login."""
        return True

    @property
    def username(self) -> str:
        """The Salesforce username."""
        return self._username

    @property
    def login_url(self) -> str:
        """The login host, e.g. ``https://login.salesforce.com``."""
        return self._login_url

    @property
    def api_version(self) -> str:
        """The API version of the SOAP endpoint, e.g. ``"64.0"``."""
        return self._api_version

    @property
    def soap_url(self) -> str:
        """The partner SOAP endpoint the login request is posted to."""
        return f"{self._login_url}/services/Soap/u/{self._api_version}"

    @property
    def fingerprint(self) -> str:
        """A digest of the login URL and username (no secret): names the session in a store."""
        return self._fingerprint

    def _body(self) -> bytes:
        password = self._password.get_secret_value() + self._security_token.get_secret_value()
        return build_login_envelope(self._username, password, client_id=self._client_id)

    def _secrets(self) -> tuple[str, ...]:
        password = self._password.get_secret_value()
        token = self._security_token.get_secret_value()
        return (password + token, password, token)

    def login_request(self, *, now: datetime | None = None) -> httpx.Request:
        """The ``POST …/services/Soap/u/{version}`` request carrying the login envelope."""
        return httpx.Request(
            "POST",
            self.soap_url,
            headers={
                "Content-Type": "text/xml; charset=UTF-8",
                "SOAPAction": "login",
                "Accept": "text/xml",
            },
            content=self._body(),
        )

    def parse_login_response(self, response: httpx.Response | None, *, now: datetime) -> Session:
        """The session a login reply opened, issued at ``now``.

        Raises :class:`~sfbulk_sdk.errors.LoginError` for a SOAP fault and for
        a result whose password has expired (such a session could only change
        the password), :class:`~sfbulk_sdk.errors.LoginUnavailableError`
        (retryable) for an HTTP 5xx that is not a SOAP reply, and
        :class:`~sfbulk_sdk.errors.ProtocolError` for any other reply.
        """
        if response is None:
            raise login_reply_error("is missing: SOAP login always sends a request", None)
        try:
            body = response.content
        except httpx.ResponseNotRead:
            raise login_reply_error("was not read", response.status_code) from None
        try:
            result = LoginResult.from_soap_reply(
                body, status_code=response.status_code, secrets=self._secrets()
            )
        except ProtocolError as exc:
            if response.status_code < 500 or isinstance(exc, UnsafeXmlError):
                raise
            # not a SOAP reply at all (a proxy's error page, an empty body): the
            # login server failed, not the credentials, so this may be retried
            raise LoginUnavailableError(
                f"HTTP{response.status_code}",
                f"the login server failed: HTTP {response.status_code} with a body "
                "that is not a SOAP reply",
                status_code=response.status_code,
                excerpt=exc.excerpt,
            ) from exc
        if result.password_expired:
            raise LoginError(
                EXPIRED_PASSWORD_CODE,
                "the user's password has expired; set a new password before logging in "
                "through the API",
                status_code=response.status_code,
            )
        return result.to_session(now=now, auth_fingerprint=self.fingerprint)


def _secret(value: str | SecretStr, name: str) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        return SecretStr(value)
    raise InvalidInputError(f"{name} must be a string")
