"""The ``sfbulk`` typer application: the root options and the session commands.

Data commands (loads, ``query``, ``job``) are in :mod:`sfbulk_sdk.cli.data`.
:func:`run` runs the app and turns every error into one line and an exit code
(:mod:`sfbulk_sdk.cli.exits`); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import logging
import os
import ssl
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO, cast

import typer
import typer.main

from ..testing.accounts import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME
from .exits import CliError, ExitCode, describe
from .output import ClosedStdout, Output
from .root import app, state

__all__ = ["app", "hoist_global_options", "run"]


def _ask(out: Output) -> Callable[[str], str | None]:
    def ask(what: str) -> str | None:
        if not sys.stdin.isatty():
            return None
        value: str = typer.prompt(what.capitalize(), hide_input=True, err=True)
        return value

    return ask


@app.command()
def login(
    ctx: typer.Context,
    auth: Annotated[
        str | None,
        typer.Option(help="soap, jwt, client-credentials, refresh-token or web. [SFBULK_AUTH]"),
    ] = None,
    web: Annotated[
        bool, typer.Option("--web", help="Log in in the browser (authorization code + PKCE).")
    ] = False,
    login_url: Annotated[
        str | None,
        typer.Option(help="Login host, My Domain or fake org URL. [SFBULK_LOGIN_URL]"),
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Log in at https://test.salesforce.com.")
    ] = False,
    username: Annotated[str | None, typer.Option(help="Username. [SFBULK_USERNAME]")] = None,
    client_id: Annotated[
        str | None, typer.Option(help="The app's consumer key. [SFBULK_CLIENT_ID]")
    ] = None,
    key_file: Annotated[
        str | None, typer.Option(help="JWT: the PEM private key file. [SFBULK_KEY_FILE]")
    ] = None,
    callback_port: Annotated[
        int | None,
        typer.Option(help="--web: loopback port of the redirect. [SFBULK_CALLBACK_PORT]"),
    ] = None,
    browser_timeout: Annotated[
        float, typer.Option(help="--web: seconds to wait for the browser.")
    ] = 300.0,
) -> None:
    """Log in and keep the session (and refresh token) in the session store.

    Secrets come from SFBULK_PASSWORD, SFBULK_SECURITY_TOKEN, SFBULK_CLIENT_SECRET,
    SFBULK_REFRESH_TOKEN or SFBULK_PRIVATE_KEY, or a hidden prompt; never from flags.
    """
    from .session import build_auth, http_client, open_store, shown_store
    from .session import login as do_login
    from .settings import secret_from_env
    from .web import run_web_login

    run_state = state(ctx)
    out = run_state.out
    settings = run_state.settings.with_overrides(
        auth="web" if web else auth,
        login_url="https://test.salesforce.com" if sandbox else login_url,
        username=username,
        client_id=client_id,
        key_file=key_file,
        callback_port=callback_port,
    )
    with http_client(settings) as http:
        token = None
        if settings.auth == "web":
            if not settings.client_id:
                raise CliError("a web login needs --client-id", hint="the app's consumer key")
            token = run_web_login(
                settings.login_url,
                settings.client_id,
                http,
                port=settings.callback_port,
                client_secret=secret_from_env("client_secret"),
                timeout=browser_timeout,
                # the URL is needed where no browser opens: shown even with --json or -q
                say=lambda text: out.err.print(text, markup=False, soft_wrap=True),
            )
        authenticator = build_auth(settings, _ask(out), refresh_token=token)
        store = open_store(settings)
        try:
            session, profile = do_login(settings, authenticator, store, http)
        finally:
            store.close()
    shown = {
        "logged_in": True,
        "auth": profile.auth,
        "username": profile.username,
        "user_id": profile.user_id,
        "instance_url": profile.instance_url,
        "store": shown_store(settings),
        "expires_at": session.expires_at.isoformat(),
    }
    if out.json:
        out.data(shown)
    out.summary("Logged in", {k: v for k, v in shown.items() if k != "logged_in"})


@app.command()
def logout(ctx: typer.Context) -> None:
    """Revoke the session and refresh token at Salesforce, and forget them here."""
    from .session import logout as do_logout

    run_state = state(ctx)
    done = do_logout(run_state.settings)
    if run_state.out.json:
        run_state.out.data({"logged_out": True, **done})
    run_state.out.say(
        f"Logged out {done['username'] or ''}: "
        + ("revoked at Salesforce" if done["revoked"] else "nothing left to revoke")
    )


@app.command("fake-org")
def fake_org(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 0,
    certfile: Annotated[
        Path | None, typer.Option(help="PEM certificate (chain) to serve HTTPS with.")
    ] = None,
    keyfile: Annotated[Path | None, typer.Option(help="PEM private key of --certfile.")] = None,
    username: Annotated[
        str, typer.Option(help="Username of the fake org's test user.")
    ] = DEFAULT_USERNAME,
    password: Annotated[
        str, typer.Option(help="The test user's throwaway password (a fake org's, not yours).")
    ] = DEFAULT_PASSWORD,
    security_token: Annotated[
        str, typer.Option(help="The test user's throwaway security token.")
    ] = DEFAULT_SECURITY_TOKEN,
    session_timeout: Annotated[
        int, typer.Option(help="Session inactivity timeout in seconds.")
    ] = 7200,
    query_result_file_rows: Annotated[
        int | None, typer.Option(help="Split query results into files of this many rows.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run a fake Salesforce org (SOAP, OAuth, Bulk 1.0 and 2.0) until interrupted.

    Its throwaway test user (not a real account) is printed at start.
    """
    if (certfile is None) != (keyfile is None):
        raise typer.BadParameter("--certfile and --keyfile go together")
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            raise CliError(f"no such file: {path}", hint="give a PEM file made e.g. by trustme")
    _check_fake_org_options(certfile, keyfile, session_timeout, query_result_file_rows, log_level)
    from ..testing.accounts import FakeUser
    from ..testing.org import FakeOrg
    from ..testing.server import serve

    user = FakeUser(username, password, security_token)
    org = FakeOrg(
        users=[user], session_timeout=session_timeout, query_result_file_rows=query_result_file_rows
    )
    try:
        serve(
            org,
            host=host,
            port=port,
            certfile=certfile,
            keyfile=keyfile,
            log_level=log_level.lower(),
            echo=lambda line: typer.echo(line, err=False),
        )
    except OSError as exc:
        raise CliError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except Exception as exc:  # uvicorn reports a bad certificate as ssl.SSLError (an OSError)
        raise CliError(f"cannot serve: {exc}") from None


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _check_fake_org_options(
    certfile: Path | None, keyfile: Path | None, timeout: int, rows: int | None, level: str
) -> None:
    """Refuse what would only fail once the server is announced (or with a traceback)."""
    if timeout < 1:
        raise CliError(f"--session-timeout must be at least 1 second, not {timeout}")
    if rows is not None and rows < 1:
        raise CliError(f"--query-result-file-rows must be at least 1, not {rows}")
    if level.lower() not in _LOG_LEVELS:
        raise CliError(f"--log-level must be one of {', '.join(_LOG_LEVELS)}, not {level!r}")
    if certfile is not None and keyfile is not None:
        from .session import tls_context

        def serving() -> ssl.SSLContext:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certfile, keyfile)
            return context

        tls_context(
            serving,
            f"cannot serve HTTPS with --certfile {certfile} and --keyfile {keyfile}",
            "a PEM certificate and its own private key",
        )


@app.command()
def demo(
    ctx: typer.Context,
    accounts: Annotated[int, typer.Option(help="How many Accounts to load.")] = 10_000,
    contacts: Annotated[int, typer.Option(help="How many Contacts to load.")] = 40_000,
) -> None:
    """Load and query a generated sample in a built-in fake org (no account, no network)."""
    from ..demo import run_demo

    if accounts < 1 or contacts < 1:
        raise CliError("--accounts and --contacts must be at least 1")
    out = state(ctx).out

    def summary(title: str, rows: Mapping[str, object]) -> None:
        if out.json:
            out.data({"demo": "ok", **rows})
        out.summary(title, rows)

    code = run_demo(
        accounts=accounts, contacts=contacts, say=out.say, progress=out.progress, summary=summary
    )
    raise typer.Exit(code)


# the data commands register themselves on ``app``
from . import data  # noqa: E402, F401

#: Root options that may also come after the command (moved to the front by :func:`run`).
_FLAGS = frozenset({"--json", "--quiet", "-q", "--debug"})
_VALUED = frozenset({"--config", "--store", "--ca-file", "--api-version", "--timeout"})


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move the root options found after the command to the front (``sfbulk query --json``)."""
    front: list[str] = []
    rest: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        token = items[i]
        name = token.split("=", 1)[0]
        if token == "--":
            rest.extend(items[i:])
            break
        if token in _FLAGS or (name in _VALUED and "=" in token):
            front.append(token)
        elif token in _VALUED and i + 1 < len(items):
            front.extend(items[i : i + 2])
            i += 1
        else:
            rest.append(token)
        i += 1
    return front + rest


def _click_class(name: str) -> type[Exception]:
    """A click exception class as typer raises it (typer may carry its own click)."""
    for klass in typer.BadParameter.__mro__:
        if klass.__name__ == name:
            return klass
    raise LookupError(name)  # pragma: no cover - every click has both


_CLICK_ERROR = _click_class("ClickException")
_USAGE_ERROR = _click_class("UsageError")


def _warn(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """The SDK's warnings (a deprecated login flow, ...) as one line each."""
    sys.stderr.write(f"sfbulk: warning: {' '.join(str(message).split())}\n")


@contextmanager
def _one_line_diagnostics(debug: bool) -> Iterator[None]:
    """Without ``--debug``: warnings as one line, and the SDK's logs only when CRITICAL, as
    ``sfbulk:`` lines (each of its ERROR logs comes with the error the command then prints
    as its one line: shown too, it would say the same thing twice); everything is put back
    afterwards (``run`` may be called in process)."""
    if debug:
        yield
        return
    logger = logging.getLogger("sfbulk_sdk")
    saved = (logger.handlers[:], logger.level, logger.propagate, warnings.showwarning)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sfbulk: %(levelname)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.CRITICAL)
    logger.propagate = False
    warnings.showwarning = _warn
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate, warnings.showwarning = saved


def run(argv: Sequence[str]) -> int:
    """Run ``sfbulk`` with ``argv``; the exit code (errors printed as one line)."""
    args = hoist_global_options(argv)
    debug = "--debug" in args
    command = typer.main.get_command(app)
    if sys.stdout is None:  # started with stdout closed (>&-): a write is one error line
        sys.stdout = cast("TextIO", ClosedStdout())
    streams = (sys.stdout, sys.stderr)
    try:
        with _one_line_diagnostics(debug):
            result = command.main(args=args, prog_name="sfbulk", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _line("interrupted", "")
        return ExitCode.INTERRUPTED
    except _CLICK_ERROR as exc:
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help(), file=sys.stderr)  # a bare 'sfbulk': its help, as it reads
            return ExitCode.USAGE
        if isinstance(exc, _USAGE_ERROR) and ctx is not None:
            hint = f"see '{ctx.command_path} --help'"
        _line(exc.format_message(), hint)  # type: ignore[attr-defined]
        return ExitCode.USAGE
    except KeyboardInterrupt:
        _line("interrupted", "")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return _pipe_closed(streams)
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            if sys.stdout is not streams[0] or sys.stderr is not streams[1]:
                return _pipe_closed(streams)  # click caught a broken pipe and swapped them
            return int(exc.code) if isinstance(exc.code, int) else ExitCode.INTERNAL
        if debug:
            traceback.print_exc()
        error = describe(exc)
        _line(error.message, error.hint)
        return error.code
    return int(result) if isinstance(result, int) else ExitCode.OK


def _pipe_closed(streams: tuple[TextIO, TextIO]) -> int:
    """The reader of the output went away (``| head``): stop quietly, as SIGPIPE would.

    A stream whose buffered text can no longer be flushed is pointed at the null
    device, so that the interpreter's last flush cannot complain either."""
    sys.stdout, sys.stderr = streams
    for stream in streams:
        try:
            stream.flush()
        except OSError:
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, stream.fileno())
                os.close(null)
            except (OSError, ValueError):
                pass
    return ExitCode.PIPE_CLOSED


def _line(message: str, hint: str) -> None:
    text = " ".join(message.split())
    sys.stderr.write(f"sfbulk: error: {text}" + (f" (hint: {hint})" if hint else "") + "\n")
    sys.stderr.flush()
