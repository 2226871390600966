"""The CLI reference page (``docs/cli.md``), generated from the typer app itself.

``scripts/cli_reference.py`` writes it; a test regenerates it and compares, so
the page cannot drift from the commands. The output depends on nothing but the
app (no terminal width, no environment).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import typer
import typer.main

from .commands import app
from .exits import ExitCode

__all__ = ["render_reference"]

_INTRO = """# The `sfbulk` command line

Generated from the commands themselves by `scripts/cli_reference.py`; do not edit by
hand (a test checks that this page is in step).

Install it with the `cli` extra: `pip install 'sfbulk-sdk[cli]'`. Without the extra,
`sfbulk` prints one line naming it and exits with status 2.

## Settings: flags, then environment, then a config file

Every setting has one name: `login_url` is the flag `--login-url`, the variable
`SFBULK_LOGIN_URL` and the key `login_url` of the config file. A flag wins over the
variable, the variable over the file. The config file is TOML (a flat table):
`SFBULK_CONFIG` (or `--config`) names it (a named file must exist), else `config.toml` in
the sfbulk home (read when it exists). `timeout` is seconds, above 0 and at most a day.
The home is `SFBULK_HOME`, else the platform's config directory
(`$XDG_CONFIG_HOME/sfbulk` or `~/.config/sfbulk` on Linux,
`~/Library/Application Support/sfbulk` on macOS, `%APPDATA%\\\\sfbulk` on Windows); it
holds the default file session store (`sessions/`), the login profile
(`profile.json`, no secret) and the job history (`jobs.jsonl`). The profile remembers
the store a login went through, so later commands need no `--store`; a store URL holding
a password is kept (and shown) with the password masked, and later commands ask for the
URL again.

Settings: `auth`, `login_url`, `username`, `client_id`, `key_file`, `api_version`,
`store`, `ca_file`, `timeout`, `callback_port`.

Secrets are never flags or settings: `SFBULK_PASSWORD`, `SFBULK_SECURITY_TOKEN`,
`SFBULK_CLIENT_SECRET`, `SFBULK_REFRESH_TOKEN`, `SFBULK_PRIVATE_KEY` (PEM), or a
hidden prompt on a terminal, or the session store after `sfbulk login`. They are
never echoed, logged or printed in `--json` output.

## Output

Standard output carries only data: query records (`-o -`) and the `--json`
document (with `query -o -` the records take standard output and the `--json`
summary goes to standard error). Progress bars (records/s and ETA; only on a terminal, never with
`--quiet`), summaries, messages, warnings and errors go to standard error. A request
sent again after a transient fault or a throttle, and rows sent again after
`UNABLE_TO_LOCK_ROW`, each print a line above the bar. Every
error is one line, `sfbulk: error: ... (hint: ...)`; `--debug` adds the traceback.
The root options (`--json`, `--quiet`, `--debug`, `--config`, `--store`,
`--ca-file`, `--api-version`, `--timeout`) may come before or after the command.

## Exit codes

| code | meaning |
| --- | --- |
"""

_MEANING = {
    ExitCode.OK: "everything succeeded (every row of a load)",
    ExitCode.ROWS_FAILED: "the command ran, but some rows failed (see `--error-file`, `--json`)",
    ExitCode.USAGE: "usage: a bad option or argument, a missing file, a missing extra",
    ExitCode.AUTH: "authentication: login refused, not logged in, session or grant dead",
    ExitCode.API: "Salesforce answered with an error: API error, failed job or batch",
    ExitCode.NETWORK: "network: connection, TLS, timeout, unreadable reply, unreachable store",
    ExitCode.NOT_RECORDED: "a load completed at Salesforce, but a report file (`--success-file`, "
    "`--error-file`) or the job history was not written: the message names the jobs and "
    "counts (do not load again; `sfbulk job results JOB_ID` gives every row's outcome)",
    ExitCode.INTERNAL: "an unexpected error (a bug: `--debug` shows the traceback)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl+C)",
    ExitCode.PIPE_CLOSED: "the reader of standard output went away (piped into `head`): the "
    "output stopped there, with no message (128 + SIGPIPE, as a shell reports it)",
}


_TYPES = {"str": "text", "int": "integer", "float": "number", "bool": "flag", "Path": "path"}


def _text(value: object) -> str:
    return _escape(inspect.cleandoc(str(value or "")))


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _type_name(param: object) -> str:
    """The parameter's type, from typer's annotation (any typer) or click's type name."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if annotation is not None:
        name = getattr(annotation, "__name__", "")
    else:
        name = str(getattr(getattr(param, "type", None), "name", ""))
    return _TYPES.get(name, name.lower())


def _param_rows(command: object) -> Iterator[str]:
    for param in getattr(command, "params", []):
        kind = getattr(param, "param_type_name", "")
        name = getattr(param, "name", "")
        if kind == "argument":
            shown = f"`{getattr(param, 'metavar', None) or name.upper()}`"
        else:
            opts = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            shown = ", ".join(f"`{o}`" for o in opts)
        type_name = "flag" if getattr(param, "is_flag", False) else _type_name(param)
        default = getattr(param, "default", None)
        empty = default in (None, False, "") or callable(default)
        default_text = "" if empty else f"`{default}`"
        required = "yes" if getattr(param, "required", False) else ""
        helped = _escape(" ".join(str(getattr(param, "help", "") or "").split()))
        yield f"| {shown} | {type_name} | {default_text} | {required} | {helped} |"


def _usage(path: str, command: object) -> str:
    pieces = [path, "[OPTIONS]"]
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "argument":
            pieces.append(getattr(param, "metavar", None) or str(param.name).upper())
    if hasattr(command, "commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _sections(path: str, command: object, level: int) -> Iterator[str]:
    yield f"{'#' * level} `{path}`"
    yield ""
    yield "```"
    yield _usage(path, command)
    yield "```"
    yield ""
    helped = _text(getattr(command, "help", ""))
    if helped:
        yield helped
        yield ""
    rows = list(_param_rows(command))
    if rows:
        yield "| option | type | default | required | help |"
        yield "| --- | --- | --- | --- | --- |"
        yield from rows
        yield ""
    children = getattr(command, "commands", {})
    for name in sorted(children):
        yield from _sections(f"{path} {name}", children[name], min(level + 1, 4))


def render_reference() -> str:
    """The whole reference page, as Markdown."""
    command = typer.main.get_command(app)
    lines = [_INTRO.rstrip("\n")]
    lines += [f"| {int(code)} | {_MEANING[code]} |" for code in ExitCode]
    lines.append("")
    lines.append("## Commands")
    lines.append("")
    lines += list(_sections("sfbulk", command, 3))
    return "\n".join(lines).rstrip("\n") + "\n"
