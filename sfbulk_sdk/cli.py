"""The ``sfbulk`` command line (needs the ``cli`` extra; ``fake-org`` also needs ``fake-org``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .testing.accounts import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME

__all__ = ["app", "main"]

app = typer.Typer(
    name="sfbulk",
    help="sfbulk_sdk: tools for the Salesforce Bulk API.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """sfbulk_sdk: tools for the Salesforce Bulk API."""


@app.command("fake-org")
def fake_org(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 0,
    certfile: Annotated[
        Path | None, typer.Option(help="PEM certificate (chain) to serve HTTPS with.")
    ] = None,
    keyfile: Annotated[Path | None, typer.Option(help="PEM private key of --certfile.")] = None,
    username: Annotated[str, typer.Option(help="Username of the org's user.")] = DEFAULT_USERNAME,
    password: Annotated[str, typer.Option(help="The user's password.")] = DEFAULT_PASSWORD,
    security_token: Annotated[
        str, typer.Option(help="The user's security token (appended to the password).")
    ] = DEFAULT_SECURITY_TOKEN,
    session_timeout: Annotated[
        int, typer.Option(help="Session inactivity timeout in seconds.")
    ] = 7200,
    query_result_file_rows: Annotated[
        int | None, typer.Option(help="Split query results into files of this many rows.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run a fake Salesforce org (SOAP login + Bulk API 1.0) until interrupted."""
    if (certfile is None) != (keyfile is None):
        raise typer.BadParameter("--certfile and --keyfile go together")
    from .testing.accounts import FakeUser
    from .testing.org import FakeOrg
    from .testing.server import serve

    org = FakeOrg(
        users=[FakeUser(username, password, security_token)],
        session_timeout=session_timeout,
        query_result_file_rows=query_result_file_rows,
    )
    serve(
        org,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        log_level=log_level,
        echo=typer.echo,
    )


@app.command("demo")
def demo(
    records: Annotated[int, typer.Option(help="How many Contact records to load.")] = 25_000,
    batch_size: Annotated[int, typer.Option(help="Records per batch (at most 10,000).")] = 10_000,
) -> None:
    """Run the seed's documented flow against the built-in fake org (no account needed)."""
    from .demo import run_demo

    if not 1 <= batch_size <= 10_000:
        raise typer.BadParameter("--batch-size must be between 1 and 10,000")
    if records < 2:
        raise typer.BadParameter("--records must be at least 2")
    raise typer.Exit(run_demo(records=records, batch_size=batch_size, echo=typer.echo))


def main() -> None:
    """Entry point of the ``sfbulk`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
