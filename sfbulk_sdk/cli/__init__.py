"""The ``sfbulk`` command line (needs the ``cli`` extra: ``pip install 'sfbulk-sdk[cli]'``).

:func:`main` is the console script. Without the extra installed it prints one
line naming the extra and exits with status 2 (a usage error), before anything
else is imported. ``sfbulk_sdk.cli.app`` is the typer application (imported on
first use; the commands are in :mod:`sfbulk_sdk.cli.commands`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.util import find_spec

__all__ = ["MISSING_EXTRA", "main"]

#: What ``sfbulk`` prints (on standard error) when typer or rich is missing.
MISSING_EXTRA = "sfbulk: the command line needs the 'cli' extra: pip install 'sfbulk-sdk[cli]'"


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``sfbulk`` console script; exits with the command's status."""
    if any(find_spec(name) is None for name in ("typer", "rich")):
        print(MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(2)
    from .commands import run

    raise SystemExit(run(list(sys.argv[1:] if argv is None else argv)))


def __getattr__(name: str) -> object:
    if name == "app":
        from . import commands  # registers every command on the app

        return commands.app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
