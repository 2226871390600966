"""Login results and the :class:`Session` every request is made with.

A session id is a bearer credential. It is held as a :class:`pydantic.SecretStr`
so that it never shows in a ``repr``, a ``str``, a log line or an exception
message; only :meth:`Session.to_store_dict` (for session stores) and the
request builders reveal it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .._redact import body_excerpt
from ..errors import InvalidInputError, MalformedReplyError
from .base import JsonValue, WireModel, header_safe, load_json, validation_summary
from .soap import parse_login_envelope, unusable_result_error

__all__ = ["DEFAULT_SESSION_SECONDS", "LoginResult", "Session", "UserInfo", "instance_url_from"]

#: Salesforce's default org session timeout (2 hours of inactivity).
DEFAULT_SESSION_SECONDS = 7200
#: Far above any org's session timeout (Salesforce allows 24 hours at most);
#: a larger ``sessionSecondsValid`` is not a timeout but a broken reply.
MAX_SESSION_SECONDS = 366 * 86400


#: Why a session id is refused (its value is never shown).
UNSAFE_SESSION_ID = (
    "the session id holds a character no HTTP header can carry (a space, a line break or a "
    "non-ASCII character): check where it was read from"
)


def url_problem(value: str) -> str | None:
    """Why requests cannot go to ``value`` (``None`` when they can): it must be an
    absolute http(s) URL whose host and port httpx can send to (``https://host:abc``
    or a malformed IDNA label such as ``https://xn--`` would fail only at the first
    request, as a raw httpx or idna error)."""
    if not value.startswith(("https://", "http://")):
        return "not an absolute http(s) URL"
    try:
        host = httpx.URL(value).host  # (reading the host decodes its IDNA labels)
    except (httpx.InvalidURL, ValueError):  # IDNAError is a ValueError
        return "not a URL requests can be sent to (its host or port is malformed)"
    return None if host else "a URL without a host"


def instance_url_from(server_url: str) -> str:
    """The instance URL (scheme and host) of a SOAP ``serverUrl``.

    A legacy ``-api`` host suffix (``na9-api.salesforce.com``) is dropped, as
    Salesforce's own clients do.
    """
    parts = urlsplit(server_url)
    if not parts.scheme or not parts.netloc:
        raise MalformedReplyError("serverUrl is not an absolute URL")
    host = parts.netloc
    name, dot, rest = host.partition(".")
    if name.endswith("-api") and dot:
        host = f"{name[:-4]}.{rest}"
    return f"{parts.scheme}://{host}"


class UserInfo(WireModel):
    """``GetUserInfoResult`` as returned inside a SOAP ``LoginResult``."""

    xml_root = "userInfo"

    accessibility_mode: bool | None = None
    chatter_external: bool | None = None
    currency_symbol: str | None = None
    org_attachment_file_size_limit: int | None = None
    org_default_currency_iso_code: str | None = None
    org_default_currency_locale: str | None = None
    org_disallow_html_attachments: bool | None = None
    org_has_person_accounts: bool | None = None
    organization_id: str | None = None
    organization_multi_currency: bool | None = None
    organization_name: str | None = None
    profile_id: str | None = None
    role_id: str | None = None
    session_seconds_valid: int | None = Field(default=None, ge=0, le=MAX_SESSION_SECONDS)
    user_default_currency_iso_code: str | None = None
    user_email: str | None = None
    user_full_name: str | None = None
    user_id: str | None = None
    user_language: str | None = None
    user_locale: str | None = None
    user_name: str | None = None
    user_time_zone: str | None = None
    user_type: str | None = None
    user_ui_skin: str | None = None


class LoginResult(WireModel):
    """The SOAP partner ``login()`` result.

    :meth:`from_xml` takes the whole SOAP reply (``soapenv:Envelope``) and
    raises :class:`~sfbulk_sdk.errors.LoginError` for a SOAP fault.
    """

    xml_root = "result"
    holds_secrets = True

    @classmethod
    def from_xml(cls, data: str | bytes) -> LoginResult:
        """Parse a SOAP ``login()`` reply (the envelope, as Salesforce sends it)."""
        return cls.from_soap_reply(data)

    @classmethod
    def from_soap_reply(
        cls, body: str | bytes, *, status_code: int | None = None, secrets: Iterable[str] = ()
    ) -> LoginResult:
        """Parse the body of a SOAP ``login()`` reply.

        A SOAP fault raises :class:`~sfbulk_sdk.errors.LoginError`, any other
        reply that holds no usable result :class:`~sfbulk_sdk.errors.ProtocolError`
        (see :func:`~sfbulk_sdk.models.soap.parse_login_envelope` for
        ``status_code`` and ``secrets``). A result with ``passwordExpired``
        true is returned as it is.
        """
        secrets = tuple(secrets)
        content = parse_login_envelope(body, status_code=status_code, secrets=secrets)
        try:
            return cls.model_validate(content)
        except ValidationError as exc:
            excerpt = body_excerpt(body if isinstance(body, (str, bytes)) else None, secrets)
            error = unusable_result_error(exc, status_code, excerpt=excerpt)
        raise error

    metadata_server_url: str | None = None
    password_expired: bool = False
    sandbox: bool = False
    server_url: str
    session_id: SecretStr
    user_id: str | None = None
    user_info: UserInfo = Field(default_factory=UserInfo)

    @field_validator("session_id")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the login result holds an empty sessionId")
        return value

    @field_validator("server_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        # Every request goes to this URL's host: refuse what cannot be one here,
        # not later as a bare ValueError (or an httpx error) far from the login.
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("serverUrl must be an absolute http(s) URL")
        problem = url_problem(instance_url_from(value))
        if problem:
            raise ValueError(f"serverUrl is {problem}")
        return value

    @property
    def instance_url(self) -> str:
        """Scheme and host of ``serverUrl``."""
        return instance_url_from(self.server_url)

    @property
    def session_seconds_valid(self) -> int:
        """The org's inactivity timeout in seconds (7200 when not reported)."""
        return self.user_info.session_seconds_valid or DEFAULT_SESSION_SECONDS

    def to_session(self, *, now: datetime, auth_fingerprint: str = "") -> Session:
        """The :class:`Session` this login opened, issued at ``now``."""
        return Session(
            instance_url=self.instance_url,
            session_id=self.session_id,
            user_id=self.user_id or self.user_info.user_id,
            org_id=self.user_info.organization_id,
            user_name=self.user_info.user_name,
            auth_fingerprint=auth_fingerprint,
            issued_at=now,
            last_used_at=now,
            seconds_valid=self.session_seconds_valid,
        )


class Session(BaseModel):
    """A usable Salesforce session: where to send requests and with which id.

    ``expires_at`` is derived: Salesforce expires a session after
    ``seconds_valid`` seconds of *inactivity*, so it is ``last_used_at +
    seconds_valid``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    instance_url: str
    session_id: SecretStr
    user_id: str | None = None
    org_id: str | None = None
    user_name: str | None = None
    auth_fingerprint: str = ""
    issued_at: datetime
    last_used_at: datetime
    seconds_valid: int = DEFAULT_SESSION_SECONDS
    #: A new refresh token the login returned (refresh-token rotation). The
    #: session manager moves it to the store's grant record; it is never
    #: stored with the session.
    refresh_token: SecretStr | None = Field(default=None, exclude=True)

    @field_validator("session_id")
    @classmethod
    def _header_safe(cls, value: SecretStr) -> SecretStr:
        if not header_safe(value.get_secret_value()):
            raise ValueError(UNSAFE_SESSION_ID)
        return value

    @property
    def expires_at(self) -> datetime:
        """When the session expires if it is not used again."""
        return self.last_used_at + timedelta(seconds=self.seconds_valid)

    def bulk_url(self, api_version: str) -> str:
        """The Bulk API 1.0 base URL: ``{instance}/services/async/{version}``."""
        return f"{self.instance_url.rstrip('/')}/services/async/{api_version}"

    def touched(self, now: datetime) -> Session:
        """A copy with ``last_used_at`` moved to ``now``."""
        return self.model_copy(update={"last_used_at": now})

    def same_credential(self, other: Session | None) -> bool:
        """True when ``other`` carries the same session id."""
        return (
            other is not None
            and self.session_id.get_secret_value() == other.session_id.get_secret_value()
        )

    def to_store_dict(self) -> dict[str, JsonValue]:
        """A JSON-ready dict *including the secret*, for session stores only."""
        data = self.model_dump(mode="json")
        data["session_id"] = self.session_id.get_secret_value()
        return data

    @classmethod
    def from_json(cls, data: str | bytes) -> Session:
        """Parse the JSON written by :meth:`to_store_dict` (``json.dumps``).

        Anything else raises :class:`~sfbulk_sdk.errors.MalformedReplyError`
        naming the fields at fault, never their values (one is the session id),
        and without chaining pydantic's error, whose text quotes them.
        """
        problem = ""
        try:
            document = load_json(data, "the stored session")
        except MalformedReplyError as exc:  # no excerpt: the text is the session itself
            problem = str(exc)
        if problem:
            raise MalformedReplyError(problem)
        if not isinstance(document, dict):
            raise MalformedReplyError("a stored session must be a JSON object")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            summary = validation_summary(exc)
        raise MalformedReplyError(f"the stored session is not valid: {summary}")

    @classmethod
    def from_xml(cls, data: str | bytes, *, now: datetime | None = None) -> Session:
        """The session a SOAP ``login()`` reply opened, issued at ``now`` (default: now)."""
        when = now or datetime.now(timezone.utc)
        return LoginResult.from_xml(data).to_session(now=when)

    @classmethod
    def from_store_dict(cls, data: Mapping[str, object]) -> Session:
        """Rebuild a session written by :meth:`to_store_dict`."""
        return cls.model_validate(data)

    @classmethod
    def static(cls, instance_url: str, session_id: str, *, now: datetime | None = None) -> Session:
        """A session from an already known id and instance URL (no login)."""
        now = now or datetime.now(timezone.utc)
        if not isinstance(session_id, str) or not header_safe(session_id):
            raise InvalidInputError(UNSAFE_SESSION_ID)
        problem = url_problem(instance_url) if isinstance(instance_url, str) else "not a string"
        if problem:
            raise InvalidInputError(f"instance_url {instance_url!r} is {problem}")
        return cls(
            instance_url=instance_url.rstrip("/"),
            session_id=SecretStr(session_id),
            auth_fingerprint="static",
            issued_at=now,
            last_used_at=now,
        )
