"""The OAuth 2.0 token endpoint's replies: a token, or an error (spec §1.3).

Every flow (JWT bearer, client credentials, refresh token, username-password)
answers ``POST /services/oauth2/token`` with HTTP 200 and a JSON object
carrying at least ``access_token`` and ``instance_url``; only a refresh with
rotation on (and the web-server flow) carries a ``refresh_token``. The reply
has no ``expires_in``: a session lives while it is used, for the org's session
timeout. Refusals are HTTP 400 (401 for some client-authentication failures)
with ``{"error": ..., "error_description": ...}``.

Tokens are :class:`pydantic.SecretStr`: they never show in a ``repr``, a log
line or an exception message.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator
from typing_extensions import Self

from ..errors import MalformedReplyError
from .base import WireText, header_safe, load_json, validation_summary
from .session import url_problem

__all__ = ["OAuthErrorBody", "TokenResponse"]


class TokenResponse(BaseModel):
    """A successful token reply. Unknown fields are kept (``model_extra``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    access_token: SecretStr
    instance_url: str
    #: The identity URL ``https://login.salesforce.com/id/<orgId>/<userId>``.
    id: str | None = None
    token_type: str | None = None
    #: When the token was issued (the wire sends epoch milliseconds as a string).
    issued_at: datetime | None = None
    signature: str | None = None
    scope: str | None = None
    #: Only with refresh-token rotation (or the web-server flow).
    refresh_token: SecretStr | None = None
    id_token: SecretStr | None = None
    api_instance_url: str | None = None
    sfdc_community_id: str | None = None
    sfdc_community_url: str | None = None

    @classmethod
    def from_json(cls, data: str | bytes) -> Self:
        """Parse a token reply's body.

        Anything but a JSON object holding a usable ``access_token`` and
        ``instance_url`` raises :class:`~sfbulk_sdk.errors.MalformedReplyError`
        naming the fields at fault, never their values (and never chaining
        pydantic's error, whose text would quote the token).
        """
        problem = ""
        try:
            document = load_json(data, "the token reply")
        except MalformedReplyError as exc:  # the excerpt is left to the caller, who masks
            problem = str(exc)
        if problem:
            raise MalformedReplyError(problem)
        return cls.from_document(document)

    @classmethod
    def from_document(cls, document: object) -> Self:
        """Validate a decoded token reply (see :meth:`from_json`)."""
        if not isinstance(document, dict):
            raise MalformedReplyError(
                f"the token reply is not a JSON object but {type(document).__name__}"
            )
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]} or {"document"})
            summary = validation_summary(exc)
        raise MalformedReplyError(
            f"the token reply lacks or mangles {', '.join(fields)} ({summary})"
        )

    @field_validator("access_token")
    @classmethod
    def _token_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the access token is empty")
        if not header_safe(value.get_secret_value()):
            raise ValueError("the access token holds a character no HTTP header can carry")
        return value

    @field_validator("issued_at", mode="before")
    @classmethod
    def _epoch_millis(cls, value: object) -> object:
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
            except (OverflowError, OSError, ValueError):
                raise ValueError("issued_at is not a time in milliseconds") from None
        return value

    @field_validator("instance_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        problem = url_problem(value) if urlsplit(value).netloc else "not an absolute http(s) URL"
        if problem:
            raise ValueError(f"instance_url is {problem}")
        return value.rstrip("/")

    @property
    def user_id(self) -> str | None:
        """The user id, the last part of the identity URL."""
        return self._id_part(-1)

    @property
    def org_id(self) -> str | None:
        """The org id, from the identity URL."""
        return self._id_part(-2)

    def _id_part(self, index: int) -> str | None:
        if not self.id:
            return None
        parts = [p for p in self.id.split("/") if p]
        return parts[index] if len(parts) >= 3 else None


class OAuthErrorBody(BaseModel):
    """``{"error": "invalid_grant", "error_description": "..."}``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    error: str
    error_description: WireText = ""
