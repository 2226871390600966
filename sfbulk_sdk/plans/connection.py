"""What a worker needs to rebuild its client: public settings, never a secret.

A :class:`ConnectionSpec` names the login (:class:`AuthSpec`: the flow, the
user or client id, the login URL), the API version and the shared session
store (:class:`StoreSpec`: a ``redis://`` or ``mongodb://`` address, or a
directory on a shared path). The secrets (password, security token, client
secret, a store password) are read on each worker from environment
variables whose *names* the spec carries. So a plan can be pickled, written
as JSON, shown in Spark's UI and logs: nothing in it opens the org.

Every worker that opens a client from the same spec shares one session
through the store: the first to need it logs in, the others read it; when
Salesforce rejects it, one worker logs in again under the store's lock and
the others pick the new session up (:class:`~sfbulk_sdk.sessions.SessionManager`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlsplit

from ..auth.base import Authenticator
from ..errors import InvalidInputError
from ..stores.base import SessionStore

if TYPE_CHECKING:
    from ..client import Bulk

__all__ = ["AuthKind", "AuthSpec", "ConnectionSpec", "StoreSpec"]

AuthKind = Literal["soap", "client_credentials"]
_AUTH_KINDS: tuple[AuthKind, ...] = ("soap", "client_credentials")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} must be a non-empty string")
    return value


def _env(name: str, what: str, *, required: bool = True) -> str:
    value = os.environ.get(name)
    if value is None or (required and not value):
        if not required:
            return ""
        raise InvalidInputError(
            f"the {what} is read from the environment variable {name}, which is not set "
            "on this machine (set it on the driver and on every executor)"
        )
    return value


#: A URL query parameter (its name or its value) that carries a secret: redis-py
#: reads ``?password=``, MongoDB ``tlsCertificateKeyFilePassword=`` and
#: ``authMechanismProperties=AWS_SESSION_TOKEN:...``.
_SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|credential", re.I)


def _secret_parameter(query: str) -> str | None:
    """``"a password in its query parameter 'x'"`` for a secret one, else ``None``."""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _SECRET_PARAMETER.search(name) or _SECRET_PARAMETER.search(value):
            return f"a secret in its query parameter {name!r}"
    return None


@dataclass(frozen=True)
class AuthSpec:
    """How to log in, without the secret: the secret comes from ``*_env`` variables.

    ``kind`` ``soap``: ``username`` plus the password in ``password_env`` and the
    security token in ``token_env`` (may be unset). ``kind``
    ``client_credentials``: ``client_id`` plus the secret in ``secret_env``,
    sent to ``login_url`` (the org's My Domain).
    """

    kind: AuthKind
    login_url: str
    username: str | None = None
    client_id: str | None = None
    password_env: str = "SFBULK_PASSWORD"
    token_env: str = "SFBULK_SECURITY_TOKEN"
    secret_env: str = "SFBULK_CLIENT_SECRET"

    def __post_init__(self) -> None:
        if self.kind not in _AUTH_KINDS:
            raise InvalidInputError(f"auth must be one of {list(_AUTH_KINDS)}, not {self.kind!r}")
        _text(self.login_url, "loginUrl")
        if self.kind == "soap":
            _text(self.username, "username")
        else:
            _text(self.client_id, "clientId")

    def authenticator(self, api_version: str | None = None) -> Authenticator:
        """The authenticator, with its secret read from the environment now.

        ``api_version`` is the connection's: a SOAP login is made at it (at
        :data:`~sfbulk_sdk.auth.soap.DEFAULT_SOAP_API_VERSION` when not given).
        """
        if self.kind == "soap":
            from ..auth.soap import DEFAULT_SOAP_API_VERSION, SoapLogin

            return SoapLogin(
                _text(self.username, "username"),
                _env(self.password_env, "password"),
                _env(self.token_env, "security token", required=False),
                login_url=self.login_url,
                api_version=api_version or DEFAULT_SOAP_API_VERSION,
            )
        from ..auth.oauth import ClientCredentials

        return ClientCredentials(
            _text(self.client_id, "clientId"),
            _env(self.secret_env, "client secret"),
            self.login_url,
        )


@dataclass(frozen=True)
class StoreSpec:
    """Where the session is shared: ``redis://host:port/db``, ``mongodb://host:port``
    or a directory (``file:///shared/sessions`` or a plain path) every worker sees.

    An address with a password in it (``redis://:pw@host``, or a query parameter
    such as ``?password=``) is refused, without echoing it: give the store's
    password in the environment variable ``password_env`` instead. ``key_prefix`` separates
    applications sharing one store; ``database``/``collection`` name the
    MongoDB collection.
    """

    address: str
    key_prefix: str = "sfbulk:session:"
    password_env: str = "SFBULK_STORE_PASSWORD"
    database: str = "sfbulk"
    collection: str = "sessions"

    def __post_init__(self) -> None:
        _text(self.address, "store address")
        parts = urlsplit(self.address)
        secret = "a password" if parts.password else _secret_parameter(parts.query)
        if secret:
            raise InvalidInputError(
                f"the store address holds {secret}: put the password in the environment "
                f"variable {self.password_env} instead, so that it stays out of the plan and "
                "the logs"
            )

    @property
    def scheme(self) -> str:
        """``redis``, ``mongodb`` or ``file``."""
        scheme = urlsplit(self.address).scheme.lower()
        if scheme in ("redis", "rediss"):
            return "redis"
        if scheme in ("mongodb", "mongodb+srv"):
            return "mongodb"
        if scheme in ("", "file"):
            return "file"
        raise InvalidInputError(
            f"unknown store address scheme {scheme!r}: use redis://, mongodb:// or a directory"
        )

    @contextmanager
    def open(self) -> Iterator[SessionStore]:
        """The store, and the backend client opened for it, closed on exit."""
        password = os.environ.get(self.password_env) or None
        if self.scheme == "redis":
            with missing_extra("redis"):
                import redis

                from ..stores.redis import RedisStore
            client = redis.Redis.from_url(self.address, password=password)
            try:
                yield RedisStore(client)
            finally:
                client.close()
            return
        if self.scheme == "mongodb":
            with missing_extra("mongodb"):
                import pymongo

                from ..stores.mongodb import MongoStore
            mongo: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                self.address, password=password
            )
            try:
                yield MongoStore(mongo[self.database][self.collection])
            finally:
                mongo.close()
            return
        with missing_extra("file"):
            from ..stores.file import FileStore
        parts = urlsplit(self.address)
        store = FileStore(parts.path if parts.scheme else self.address)
        try:
            yield store
        finally:
            store.close()


@contextmanager
def missing_extra(extra: str) -> Iterator[None]:
    """Turn a missing optional dependency into a one-line error naming its extra."""
    try:
        yield
    except ImportError as exc:
        raise InvalidInputError(
            f"this store needs the '{extra}' extra: pip install 'sfbulk-sdk[{extra}]'"
        ) from exc


@dataclass(frozen=True)
class ConnectionSpec:
    """A login and a shared store: what every worker rebuilds its client from.

    ``api_version`` is the connection's one API version: the client's, and the
    one a SOAP login is made at (``None``: the client's default for the flow).
    """

    auth: AuthSpec
    store: StoreSpec
    api_version: str | None = None
    timeout: float = field(default=120.0)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy (no secret: there is none in it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ConnectionSpec:
        """The spec :meth:`to_dict` gave."""
        auth = data.get("auth")
        store = data.get("store")
        if not isinstance(auth, dict) or not isinstance(store, dict):
            raise InvalidInputError("a connection needs 'auth' and 'store' objects")
        version = data.get("api_version")
        timeout = data.get("timeout", 120.0)
        if not isinstance(timeout, (int, float)):
            raise InvalidInputError("timeout must be a number")
        return cls(
            AuthSpec(**auth),
            StoreSpec(**store),
            api_version=None if version is None else str(version),
            timeout=float(timeout),
        )

    @contextmanager
    def connect(self) -> Iterator[Bulk]:
        """A :class:`~sfbulk_sdk.Bulk` client sharing the store's session, closed on exit."""
        from ..client import Bulk

        with self.store.open() as store:
            client = Bulk(
                auth=self.auth.authenticator(self.api_version),
                store=store,
                api_version=self.api_version,
                timeout=self.timeout,
                session_options={"key_prefix": self.store.key_prefix},
            )
            with client:
                yield client
