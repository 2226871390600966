"""Exit codes of ``sfbulk`` and the one-line message of every error (no typer here).

====  ==========================================================================
code  meaning
====  ==========================================================================
0     everything succeeded (every row of a load)
1     the command ran, but some rows failed (see the error file / ``--json``)
2     usage: a bad option or argument, a missing file, a missing extra
3     authentication: login refused, not logged in, session or grant dead
4     Salesforce answered with an error: API error, failed job or batch
5     network: connection, TLS, timeout, unreadable reply, unreachable store
6     a load completed, but its report file or the job history was not written
70    an unexpected error (a bug: ``--debug`` shows the traceback)
130   interrupted (Ctrl+C)
141   the reader of standard output went away (``| head``): output stopped, quietly
====  ==========================================================================
"""

from __future__ import annotations

from enum import IntEnum

from .. import errors
from ..core.grants import UnreadableGrantError

__all__ = ["CliError", "ExitCode", "describe"]


class ExitCode(IntEnum):
    """What ``sfbulk`` exits with (documented in ``sfbulk --help`` and docs/cli.md)."""

    OK = 0
    ROWS_FAILED = 1
    USAGE = 2
    AUTH = 3
    API = 4
    NETWORK = 5
    NOT_RECORDED = 6
    INTERNAL = 70
    INTERRUPTED = 130
    PIPE_CLOSED = 141


class CliError(errors.SfBulkError):
    """An error the CLI reports as one line: ``message``, a ``hint`` and an exit code.

    Part of the SDK's tree (a :class:`~sfbulk_sdk.errors.SfBulkError`), so the CLI's
    functions raise only the SDK's own errors too."""

    def __init__(self, message: str, *, code: ExitCode = ExitCode.USAGE, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


_LOGIN_HINT = "check the credentials and the login URL, then run 'sfbulk login' again"

_CODES: tuple[tuple[type[BaseException], ExitCode, str], ...] = (
    (errors.RefreshTokenRevokedError, ExitCode.AUTH, "authorise again: sfbulk login --web"),
    (errors.LoginError, ExitCode.AUTH, _LOGIN_HINT),
    (errors.InvalidSessionError, ExitCode.AUTH, "the session ended: run 'sfbulk login' again"),
    (UnreadableGrantError, ExitCode.AUTH, "authorise again: sfbulk login --web"),
    (errors.SessionStoreError, ExitCode.NETWORK, "check --store: is its server up?"),
    (errors.SessionError, ExitCode.AUTH, "run 'sfbulk login' again"),
    (errors.InvalidInputError, ExitCode.USAGE, "see 'sfbulk COMMAND --help'"),
    (errors.TransportError, ExitCode.NETWORK, "check the URL, the network and --ca-file"),
    (errors.ProtocolError, ExitCode.NETWORK, "is the URL a Salesforce org?"),
    (errors.PollTimeoutError, ExitCode.NETWORK, "the job goes on: sfbulk job wait JOB_ID"),
    (errors.SfBulkError, ExitCode.API, ""),
)


def describe(exc: BaseException) -> CliError:
    """The exit code, one-line message and hint for an error a command raised."""
    if isinstance(exc, CliError):
        return exc
    for kind, code, hint in _CODES:
        if isinstance(exc, kind):
            return CliError(_one_line(str(exc)) or kind.__name__, code=code, hint=hint)
    if isinstance(exc, FileNotFoundError):
        return CliError(f"no such file: {exc.filename}", code=ExitCode.USAGE)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return CliError(f"{exc.strerror or exc}{where}", code=ExitCode.USAGE)
    name = type(exc).__name__
    return CliError(
        f"unexpected {name}: {_one_line(str(exc))}",
        code=ExitCode.INTERNAL,
        hint="run again with --debug for the traceback",
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
