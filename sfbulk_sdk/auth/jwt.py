"""The OAuth 2.0 JWT bearer flow: a server logs in as a user with the app's private key.

The request posts ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
and an RS256-signed assertion (spec §1.3, §9):

* ``iss``: the app's consumer key; ``sub``: the username (pre-authorised for
  the app by an admin);
* ``aud``: ``https://login.salesforce.com`` or ``https://test.salesforce.com``
  (or an Experience Cloud site URL), **even when the token request goes to My
  Domain**: a My Domain audience fails with ``Audience validation failed``.
  It defaults from the login URL and can be set on its own;
* ``exp``: at most 3 minutes ahead. The assertion is valid for ``lifetime``
  seconds (150 by default), leaving 30 s for a clock running ahead of
  Salesforce's; it is signed at each login, with the time the session manager
  passes in.

Needs the ``jwt`` extra (PyJWT and cryptography): ``pip install 'sfbulk-sdk[jwt]'``.
The private key and the assertion never show in a ``repr``, a log line or an
exception message.
"""

from __future__ import annotations

from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from pydantic import SecretStr

from ..core import oauth
from ..core.clock import utc_now
from ..errors import InvalidInputError
from ..models.session import DEFAULT_SESSION_SECONDS
from .hosts import default_audience, resolve_login_url
from .oauth import OAuthFlow, secret

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["MAX_ASSERTION_SECONDS", "JwtBearer"]

#: Salesforce accepts an assertion whose ``exp`` is at most 3 minutes ahead.
MAX_ASSERTION_SECONDS = 180
_EXTRA = "the JWT bearer flow needs PyJWT and cryptography: pip install 'sfbulk-sdk[jwt]'"


def _load_key(pem: bytes, password: SecretStr | None) -> RSAPrivateKey:
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        raise InvalidInputError(_EXTRA) from None
    phrase = password.get_secret_value().encode() if password is not None else None
    refused = False
    try:
        key = load_pem_private_key(pem, password=phrase)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        refused = True
    if refused:
        # Raised outside the handler: the library's error may quote the key, and
        # is neither chained nor kept as the context.
        raise InvalidInputError("private_key is not a PEM private key (or its password is wrong)")
    if not isinstance(key, RSAPrivateKey):
        raise InvalidInputError("the JWT bearer flow signs with RS256: give an RSA private key")
    return key


class JwtBearer(OAuthFlow):
    """Log in as ``username`` with an assertion signed by the app's private key.

    Give the key as ``private_key`` (PEM text or bytes) or ``key_file`` (a path
    to a PEM file), with ``key_password`` if it is encrypted. ``login_url`` (or
    ``sandbox`` / ``domain``) is where the token request goes; ``audience`` the
    assertion's ``aud``, by default login or test by that URL (a sandbox My
    Domain gets test).
    """

    grant_type = oauth.GRANT_JWT_BEARER

    def __init__(
        self,
        client_id: str,
        username: str,
        private_key: str | bytes | SecretStr | None = None,
        *,
        key_file: str | PathLike[str] | None = None,
        key_password: str | SecretStr | None = None,
        audience: str | None = None,
        login_url: str | None = None,
        sandbox: bool = False,
        domain: str | None = None,
        lifetime: int = 150,
        session_seconds: int = DEFAULT_SESSION_SECONDS,
    ) -> None:
        if not isinstance(username, str) or not username.strip():
            raise InvalidInputError("username must be a non-empty string")
        if (private_key is None) == (key_file is None):
            raise InvalidInputError("give the private key as private_key= or key_file=, not both")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int):
            raise InvalidInputError("lifetime must be a whole number of seconds")
        if not 0 < lifetime <= MAX_ASSERTION_SECONDS:
            raise InvalidInputError(
                f"lifetime must be 1 to {MAX_ASSERTION_SECONDS} seconds: Salesforce refuses "
                "an assertion whose exp is more than 3 minutes ahead"
            )
        url = resolve_login_url(sandbox=sandbox, domain=domain, login_url=login_url)
        super().__init__(
            client_id, login_url=url, identity=username, session_seconds=session_seconds
        )
        self._username = username
        self._audience = (audience or default_audience(url)).rstrip("/")
        self._lifetime = lifetime
        password = None if key_password is None else secret(key_password, "key_password")
        self._key = _load_key(self._pem(private_key, key_file), password)

    @staticmethod
    def _pem(private_key: str | bytes | SecretStr | None, key_file: object) -> bytes:
        if key_file is not None:
            if not isinstance(key_file, (str, PathLike)):
                raise InvalidInputError("key_file must be a path (str or os.PathLike)")
            try:
                return Path(key_file).read_bytes()
            except OSError as exc:
                raise InvalidInputError(
                    f"cannot read the key file {str(key_file)!r}: {exc.strerror}"
                ) from None
        if isinstance(private_key, SecretStr):
            return private_key.get_secret_value().encode()
        if isinstance(private_key, str):
            return private_key.encode()
        if isinstance(private_key, bytes):
            return private_key
        raise InvalidInputError("private_key must be PEM text or bytes")

    @property
    def username(self) -> str:
        """The user the app logs in as."""
        return self._username

    @property
    def audience(self) -> str:
        """The assertion's ``aud``."""
        return self._audience

    def assertion(self, *, now: datetime) -> SecretStr:
        """The signed assertion for a login at ``now`` (RS256; ``exp`` = now + lifetime)."""
        try:
            import jwt
        except ImportError:
            raise InvalidInputError(_EXTRA) from None
        claims = {
            "iss": self._client_id,
            "sub": self._username,
            "aud": self._audience,
            "exp": int(now.timestamp()) + self._lifetime,
        }
        return SecretStr(jwt.encode(claims, self._key, algorithm="RS256"))

    def login_request(self, *, now: datetime | None = None) -> httpx.Request:
        """``grant_type=...jwt-bearer`` with a freshly signed assertion."""
        form: dict[str, str | SecretStr] = {
            "grant_type": self.grant_type,
            "assertion": self.assertion(now=now or utc_now()),
        }
        return oauth.token_request(self._login_url, form)
