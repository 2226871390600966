"""Logging in and staying logged in: authenticators, the login profile and the store.

``sfbulk login`` builds the authenticator the settings name, logs in through a
:class:`~sfbulk_sdk.sessions.SessionManager` over the configured session store
(which keeps the session and, for OAuth grants, the refresh token) and writes
the *profile* (``<home>/profile.json``: how it logged in, never a secret).

Every later command rebuilds the authenticator from the profile: with the
secrets at hand (environment variables, or the grant in the store for the
refresh-token and web flows) it can log in again when the session expires;
without them it uses the stored session until it expires, then asks for
``sfbulk login`` (exit code 3).
"""

from __future__ import annotations

import json
import os
import ssl
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from ..auth import ClientCredentials, JwtBearer, RefreshToken, SoapLogin
from ..auth.base import Authenticator, StaticSession
from ..client import Bulk
from ..core.transport_errors import forget_request
from ..deprecations import LoginDeprecationWarning
from ..errors import SfBulkError, TransportError
from ..models.session import Session
from ..sessions import SessionManager
from ..stores import GrantStore, LoginFailureStore, SessionStore, session_key, utc_now
from .exits import CliError, ExitCode
from .settings import Settings, home_dir, secret_from_env

__all__ = [
    "Profile",
    "Secrets",
    "build_auth",
    "connect",
    "http_client",
    "login",
    "logout",
    "open_store",
    "read_profile",
    "shown_store",
    "tls_context",
]

#: Asks for a secret (a hidden prompt), or ``None`` when there is no terminal.
Secrets = Callable[[str], str | None]
_PROFILE = "profile.json"


@dataclass(frozen=True)
class Profile:
    """How the last ``sfbulk login`` logged in (no secret: safe to write to disk)."""

    auth: str
    login_url: str
    username: str
    client_id: str
    key_file: str
    instance_url: str
    user_id: str
    store_key: str
    api_version: str
    #: The session store logged in through, as output shows it (a password masked);
    #: ``""`` for the default file store (and in profiles written before it was kept).
    store: str = ""
    #: A refresh-token grant's :attr:`~sfbulk_sdk.auth.RefreshToken.identity` (no secret),
    #: which names its store key; ``""`` for other logins and in older profiles.
    grant_identity: str = ""


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def read_profile(env: Mapping[str, str] | None = None) -> Profile:
    """The profile of the last login; exit code 3 when there is none."""
    path = home_dir(env) / _PROFILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Profile(**data)
    except FileNotFoundError:
        raise CliError(
            "not logged in", code=ExitCode.AUTH, hint="run 'sfbulk login' first"
        ) from None
    except (ValueError, TypeError) as exc:
        raise CliError(f"unreadable login profile {path}: {exc}", code=ExitCode.AUTH) from None


def open_store(settings: Settings, env: Mapping[str, str] | None = None) -> SessionStore:
    """The session store the settings name (default: a file store in the sfbulk home)."""
    where = settings.store or str(home_dir(env) / "sessions")
    if where.startswith(("redis://", "rediss://", "unix://")):
        import redis

        from ..stores import RedisStore

        return RedisStore(redis.Redis.from_url(where))
    if where.startswith(("mongodb://", "mongodb+srv://")):
        import pymongo

        from ..stores import MongoStore

        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(where)
        return MongoStore(client.get_default_database("sfbulk")["sessions"])
    from ..stores import FileStore

    return FileStore(Path(where).expanduser())


def shown_store(settings: Settings) -> str:
    """The session store as output may show it: a URL's password (``redis://:pw@host``,
    ``mongodb://user:pw@host``, ``?password=``) masked."""
    where = settings.store or str(home_dir() / "sessions")
    parts = urlsplit(where)
    if not parts.scheme or not parts.netloc:
        return where
    user, at, host = parts.netloc.rpartition("@")
    if at and ":" in user:
        user = user.split(":", 1)[0] + ":***"
    query = "&".join(
        f"{name}=***" if "pass" in name.lower() or "secret" in name.lower() else f"{name}={value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, f"{user}{at}{host}", parts.path, query, parts.fragment))


def http_client(settings: Settings) -> httpx.Client:
    """The HTTP client every request goes through (``ca_file`` verifies HTTPS)."""
    verify: ssl.SSLContext | bool = True
    if settings.ca_file:
        if not Path(settings.ca_file).is_file():
            raise CliError(f"no such CA file: {settings.ca_file}", hint="check --ca-file")
        verify = tls_context(
            lambda: ssl.create_default_context(cafile=settings.ca_file),
            f"--ca-file {settings.ca_file} holds no usable certificate",
            "a PEM file of CA certificates",
        )
    return httpx.Client(verify=verify, timeout=settings.timeout)


def tls_context(make: Callable[[], ssl.SSLContext], problem: str, hint: str) -> ssl.SSLContext:
    """``make()``'s TLS context, or one line saying ``problem`` and OpenSSL's reason."""
    try:
        return make()
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise CliError(f"{problem}: {reason}", hint=hint) from None


def _secret(name: str, ask: Secrets, what: str) -> str:
    value = secret_from_env(name) or ask(what)
    if not value:
        from .settings import SECRET_VARIABLES

        raise CliError(
            f"no {what} given",
            code=ExitCode.AUTH,
            hint=f"set {SECRET_VARIABLES[name]} (or run in a terminal to be asked)",
        )
    return value


def _need(value: str, flag: str, kind: str) -> str:
    if not value:
        raise CliError(f"{kind} login needs {flag}", hint=f"give {flag} or set it in the config")
    return value


def build_auth(
    settings: Settings,
    ask: Secrets,
    *,
    refresh_token: str | None = None,
    grant_identity: str | None = None,
) -> Authenticator:
    """The authenticator ``settings.auth`` names, with its secrets from the env or ``ask``.

    A refresh-token grant is keyed by ``grant_identity`` when given (the profile's, so
    that the grant is found again under the key the login made), else by its first token:
    a new ``sfbulk login`` starts a new grant record, whoever the user is."""
    kind = settings.auth
    url = settings.login_url
    if kind == "soap":
        username = _need(settings.username, "--username", "a SOAP")
        password = _secret("password", ask, "password")
        token = secret_from_env("security_token") or ""
        return SoapLogin(username, password, token, login_url=url)
    client_id = _need(settings.client_id, "--client-id", f"a {kind}")
    if kind == "jwt":
        username = _need(settings.username, "--username", "a JWT")
        pem = secret_from_env("private_key")
        if pem is None and not settings.key_file:
            raise CliError(
                "a JWT login needs --key-file or SFBULK_PRIVATE_KEY", code=ExitCode.USAGE
            )
        if pem is None and not Path(settings.key_file).is_file():
            raise CliError(f"no such key file: {settings.key_file}", hint="check --key-file")
        return JwtBearer(
            client_id, username, pem, key_file=None if pem else settings.key_file, login_url=url
        )
    if kind == "client-credentials":
        return ClientCredentials(client_id, _secret("client_secret", ask, "client secret"), url)
    # refresh-token and web: a user's grant
    token = refresh_token or _secret("refresh_token", ask, "refresh token")
    return RefreshToken(
        client_id,
        token,
        client_secret=secret_from_env("client_secret"),
        identity=grant_identity or None,
        login_url=url,
    )


def _send(http: httpx.Client) -> Callable[[httpx.Request], httpx.Response]:
    def send(request: httpx.Request) -> httpx.Response:
        try:
            response = http.send(request)
            response.read()
        except httpx.HTTPError as exc:
            where = f"{request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')}"
            forget_request(exc)  # the cause keeps no password or secret
            raise TransportError(
                f"{type(exc).__name__} on the login request to {where}", request=request
            ) from exc
        return response

    return send


def login(
    settings: Settings, auth: Authenticator, store: SessionStore, http: httpx.Client
) -> tuple[Session, Profile]:
    """Log in now (a fresh session in the store) and write the profile."""
    key = session_key(auth.fingerprint)
    if isinstance(store, LoginFailureStore):  # asked for: try now, even after a refusal
        store.clear_failure(key)
    manager = SessionManager(auth, store=store, send=_send(http))
    stale = store.get(key)
    if stale is not None:  # a new login replaces what the store held
        store.compare_and_delete(key, stale.session_id.get_secret_value())
    try:
        session = manager.get()
    except SfBulkError:
        _restore(store, key, stale)  # a failed login (a mistyped password) loses nothing
        raise
    profile = Profile(
        auth=settings.auth,
        login_url=settings.login_url,
        username=settings.username or (session.user_name or ""),
        client_id=settings.client_id,
        key_file=settings.key_file,
        instance_url=session.instance_url,
        user_id=session.user_id or "",
        store_key=session_key(auth.fingerprint),
        api_version=settings.api_version,
        store=_kept_store(settings),
        grant_identity=auth.identity if isinstance(auth, RefreshToken) else "",
    )
    _write_private(home_dir() / _PROFILE, json.dumps(asdict(profile), indent=2))
    return session, profile


def _kept_store(settings: Settings) -> str:
    """What the profile keeps of the store: a directory made absolute, a URL masked."""
    if not settings.store:
        return ""
    if urlsplit(settings.store).netloc:
        return shown_store(settings)
    return str(Path(settings.store).expanduser().resolve())


def _restore(store: SessionStore, key: str, stale: Session | None) -> None:
    """Put back the session a failed login would have replaced, while it lasts."""
    if stale is None or store.get(key) is not None:
        return
    left = (stale.expires_at - utc_now()).total_seconds()
    if left > 1.0:
        store.set(key, stale, left)


def _profile_settings(settings: Settings, profile: Profile) -> Settings:
    return settings.with_overrides(
        auth=profile.auth,
        login_url=profile.login_url,
        username=profile.username,
        client_id=profile.client_id,
        key_file=profile.key_file,
    )


def _reauth(settings: Settings, profile: Profile, store: SessionStore) -> Authenticator:
    """The profile's authenticator if its secrets are at hand, else the stored session.

    A stored session used without its secrets cannot be renewed: once it
    expires, ``sfbulk login`` is needed again (exit code 3)."""
    logged = _profile_settings(settings, profile)
    if profile.auth in ("refresh-token", "web") and isinstance(store, GrantStore):
        grant = store.get_grant(profile.store_key)
        if grant is not None and grant.revoked_at is None:
            token = grant.refresh_token.get_secret_value()
            # the grant's key as the login made it ("grant": a profile from before keys
            # told users apart); another key would fork the grant and resend old tokens
            identity = profile.grant_identity or "grant"
            grant_auth = build_auth(
                logged, _no_prompt, refresh_token=token, grant_identity=identity
            )
            if session_key(grant_auth.fingerprint) == profile.store_key:
                return grant_auth
    auth: Authenticator | None
    try:
        with warnings.catch_warnings():  # login already said it once
            warnings.simplefilter("ignore", LoginDeprecationWarning)
            auth = build_auth(logged, _no_prompt)
    except CliError:
        auth = None
    if auth is not None and session_key(auth.fingerprint) == profile.store_key:
        return auth
    stored = store.get(profile.store_key)
    if stored is None:
        raise CliError(
            "the stored session has expired and no credentials are at hand",
            code=ExitCode.AUTH,
            hint="run 'sfbulk login' again",
        )
    return StaticSession(stored.instance_url, stored.session_id.get_secret_value())


def _no_prompt(what: str) -> str | None:
    return None


def _profile_store(settings: Settings, profile: Profile) -> Settings:
    """``settings`` naming the store the profile logged in through, unless they name one."""
    if settings.store or not profile.store:
        return settings
    if "***" in profile.store:  # its password was never written down: ask for it again
        raise CliError(
            f"the login went through the session store {profile.store}",
            code=ExitCode.USAGE,
            hint="give its URL again with --store or SFBULK_STORE",
        )
    return settings.with_overrides(store=profile.store)


def connect(settings: Settings, http: httpx.Client) -> Bulk:
    """A :class:`~sfbulk_sdk.Bulk` client on the logged-in session (refreshing when it can).

    ``http`` stays the caller's to close."""
    profile = read_profile()
    settings = _profile_store(settings, profile)
    store = open_store(settings)
    auth = _reauth(settings, profile, store)
    version = settings.api_version or profile.api_version or None
    return Bulk(auth=auth, store=store, http_client=http, api_version=version)


def logout(settings: Settings) -> dict[str, object]:
    """Revoke the session (and its refresh token) at Salesforce, then forget both."""
    profile = read_profile()
    settings = _profile_store(settings, profile)
    store = open_store(settings)
    session = store.get(profile.store_key)
    grant = store.get_grant(profile.store_key) if isinstance(store, GrantStore) else None
    token: SecretStr | None = grant.refresh_token if grant is not None else None
    if token is None and session is not None:
        token = session.session_id
    revoked = False
    if token is not None:
        base = (session.instance_url if session is not None else profile.instance_url).rstrip("/")
        with http_client(settings) as http:
            try:
                reply = http.post(
                    base + "/services/oauth2/revoke", data={"token": token.get_secret_value()}
                )
            except httpx.HTTPError as exc:
                forget_request(exc)  # it holds the token being revoked
                raise TransportError(f"{type(exc).__name__} on the revoke request") from exc
        revoked = reply.status_code == 200
    if grant is not None and isinstance(store, GrantStore):  # keep no dead token on disk
        store.set_grant(
            profile.store_key,
            replace(
                grant,
                refresh_token=SecretStr("-"),
                revoked_at=utc_now(),
                revoked_reason="sfbulk logout",
            ),
        )
    forgotten = False
    if session is not None:
        forgotten = store.compare_and_delete(
            profile.store_key, session.session_id.get_secret_value()
        )
    store.close()
    (home_dir() / _PROFILE).unlink(missing_ok=True)
    return {"revoked": revoked, "forgotten": forgotten, "username": profile.username}
