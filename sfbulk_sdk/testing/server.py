"""Serving the fake org over real HTTP(S) with uvicorn (needs the ``fake-org`` extra).

* :func:`serve` runs in the foreground until interrupted (the ``sfbulk
  fake-org`` command), after printing the URL and the login credentials.
* :func:`serve_in_thread` is for tests: it starts the server on a free
  loopback port in a background thread, yields the base URL and stops the
  server when the ``with`` block ends.

Pass ``certfile``/``keyfile`` (PEM) to serve HTTPS, e.g. with a test CA made
by ``trustme``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from os import PathLike

import uvicorn

from .accounts import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME, FakeUser
from .asgi import ConnectionDropped, create_app
from .org import FakeOrg

__all__ = ["serve", "serve_in_thread"]

StrPath = str | PathLike[str]
LOGIN_API_VERSION = "64.0"


class _HideInjectedDrops(logging.Filter):
    """Keep uvicorn from logging a traceback for every injected dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_DROP_FILTER = _HideInjectedDrops()


#: How long an idle keep-alive connection stays open.
KEEP_ALIVE_SECONDS = 120


def _config(
    org: FakeOrg,
    sock: socket.socket,
    tls: tuple[StrPath | None, StrPath | None],
    log_level: str,
    *,
    foreground: bool,
) -> uvicorn.Config:
    """The server's config; a ``foreground`` server logs every request and drains for longer."""
    host, port = sock.getsockname()[:2]
    certfile, keyfile = tls
    return uvicorn.Config(
        create_app(org),
        host=host,
        port=port,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        log_level=log_level,
        access_log=foreground,
        lifespan="off",
        # The fake does its work on the event loop, so one long request (a big
        # upload parsed, a big job's results rendered) can hold it for seconds; a
        # short keep-alive would then close other clients' idle connections just as
        # they reuse them (requests reports RemoteDisconnected and does not retry a
        # POST). Salesforce keeps connections open far longer than uvicorn's 5 s.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=5 if foreground else 1,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on such sockets, and without it
    # every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connectable from now on, before the server's loop starts
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def _ensure_user(
    org: FakeOrg, username: str | None, password: str | None, security_token: str | None
) -> FakeUser:
    accounts = org.state.accounts
    if username is None:
        return accounts.default
    existing = accounts.find(username)
    if existing is not None:
        return existing
    return org.add_user(username, password or DEFAULT_PASSWORD, security_token or "")


def serve(
    org: FakeOrg | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    certfile: StrPath | None = None,
    keyfile: StrPath | None = None,
    username: str | None = None,
    password: str | None = None,
    security_token: str | None = None,
    log_level: str = "info",
    echo: Callable[[str], object] = print,
) -> None:
    """Serve ``org`` (default: a new one) until interrupted; ``port=0`` picks a free port.

    When ``org`` is not given, the credentials create its user (defaults:
    :data:`DEFAULT_USERNAME`, :data:`DEFAULT_PASSWORD`,
    :data:`DEFAULT_SECURITY_TOKEN`); with an ``org``, a missing user is added.
    The URL and the test credentials are printed through ``echo``.
    """
    if org is None:
        org = FakeOrg(
            users=[
                FakeUser(
                    username or DEFAULT_USERNAME,
                    password if password is not None else DEFAULT_PASSWORD,
                    security_token if security_token is not None else DEFAULT_SECURITY_TOKEN,
                )
            ]
        )
        user = org.state.accounts.default
    else:
        user = _ensure_user(org, username, password, security_token)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    url = _url("https" if certfile else "http", host, bound_port)
    # These are the fake org's own throwaway test credentials, shown so a client can log in.
    echo(f"Fake Salesforce org listening on {url}")
    echo(f"  SOAP login      POST {url}/services/Soap/u/{LOGIN_API_VERSION}")
    echo(f"  Bulk API 1.0    {url}/services/async/{LOGIN_API_VERSION}/")
    echo(f"  OAuth token     POST {url}/services/oauth2/token (apps: POST {url}/_fake/oauth/apps)")
    echo(f"  controls        {url}/_fake/stats")
    echo(f"  username        {user.username}")
    echo(f"  password        {user.password}")
    echo(f"  security token  {user.security_token or '(none)'}")
    echo("Press Ctrl+C to stop.")
    config = _config(org, sock, (certfile, keyfile), log_level, foreground=True)
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        logging.getLogger("uvicorn.error").removeFilter(_DROP_FILTER)
        sock.close()


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that reports when it is listening (or failed to start)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run_in_thread(self, sock: socket.socket) -> None:
        try:
            self.run(sockets=[sock])
        except BaseException as exc:  # reported to the caller of serve_in_thread
            self.error = exc
        finally:
            self.ready.set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # The test is over: cut connections clients left open (an idle keep-alive, an unread
        # streamed body) instead of waiting for them, and leave no transport unclosed.
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        await super().shutdown(sockets=sockets)


@contextmanager
def serve_in_thread(
    org: FakeOrg,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    certfile: StrPath | None = None,
    keyfile: StrPath | None = None,
    log_level: str = "warning",
    startup_timeout: float = 10.0,
) -> Iterator[str]:
    """Serve ``org`` from a background thread; yields the base URL (``http(s)://host:port``).

    >>> with serve_in_thread(org, certfile=cert, keyfile=key) as url:
    ...     ...  # point any client at url
    """
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    config = _config(org, sock, (certfile, keyfile), log_level, foreground=False)
    server = _ThreadServer(config)
    thread = threading.Thread(
        target=server.run_in_thread, args=(sock,), name="sfbulk-fake-org", daemon=True
    )
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
    thread.start()
    try:
        if not server.ready.wait(startup_timeout) or not server.started:
            raise RuntimeError("the fake org server did not start") from server.error
        yield _url("https" if certfile else "http", host, bound_port)
    finally:
        server.should_exit = True
        thread.join(startup_timeout)
        logging.getLogger("uvicorn.error").removeFilter(_DROP_FILTER)
        sock.close()
