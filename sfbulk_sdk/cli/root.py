"""The root of the ``sfbulk`` typer application: its options and the run's :class:`State`."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from .output import Output
from .settings import Settings, load_settings

__all__ = ["EXIT_CODES", "State", "app", "state"]

EXIT_CODES = (
    "Exit codes: 0 all rows succeeded; 1 some rows failed; 2 usage error (bad option, "
    "missing file or extra); 3 authentication; 4 Salesforce API error (failed job or "
    "batch); 5 network, TLS or timeout; 6 loaded, but a report or the job history not "
    "written; 70 unexpected error; 130 interrupted; 141 the output's reader went away "
    "(| head)."
)

app = typer.Typer(
    name="sfbulk",
    help="sfbulk: load and query Salesforce data with the Bulk API (1.0 and 2.0).\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class State:
    """What the root options decided, shared with every command (``ctx.obj``)."""

    settings: Settings = field(default_factory=Settings)
    out: Output = field(default_factory=Output)
    debug: bool = False


def state(ctx: typer.Context) -> State:
    """The run's :class:`State` (root options and resolved settings)."""
    found = ctx.find_object(State)
    return found if found is not None else State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sfbulk {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable JSON document on stdout.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars, summaries or messages.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    config: Annotated[
        Path | None,
        typer.Option(help="Config file (TOML); default $SFBULK_CONFIG or <home>/config.toml."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="Session store: a directory, redis://... or mongodb://... [SFBULK_STORE]"
        ),
    ] = None,
    ca_file: Annotated[
        str | None, typer.Option(help="PEM CA bundle to verify HTTPS with. [SFBULK_CA_FILE]")
    ] = None,
    api_version: Annotated[
        str | None, typer.Option(help="Salesforce API version, e.g. 62.0. [SFBULK_API_VERSION]")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds one HTTP request may take. [SFBULK_TIMEOUT]")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """sfbulk: load and query Salesforce data with the Bulk API (1.0 and 2.0)."""
    env = dict(os.environ)
    if config is not None:
        env["SFBULK_CONFIG"] = str(config)
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    settings = load_settings(env).with_overrides(
        store=store, ca_file=ca_file, api_version=api_version, timeout=timeout
    )
    ctx.obj = State(settings=settings, out=Output(json=json_output, quiet=quiet), debug=debug)
