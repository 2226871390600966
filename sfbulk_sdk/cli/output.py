"""What ``sfbulk`` shows: progress bars and summaries on standard error, data on standard out.

Standard output carries only data: query records (``-o -``) and the ``--json``
document, so both can be piped. Everything meant for a person goes to standard
error: progress bars (only on a terminal and without ``--quiet``), the summary
table, messages and errors. No secret is ever passed to these functions.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..core.progress import ProgressEvent, ProgressHook
from .exits import CliError

__all__ = ["ClosedStdout", "Output", "RateColumn"]


class ClosedStdout(io.TextIOBase):
    """Standard output when ``sfbulk`` started without one (``>&-``): a write is an error."""

    @property
    def closed(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise CliError("standard output is closed", hint="give -o FILE, or leave stdout open")

    def flush(self) -> None:
        """Nothing to flush."""


class RateColumn(TextColumn):
    """Records per second of a task."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: object) -> object:  # type: ignore[override]
        from rich.text import Text

        speed = getattr(task, "speed", None)
        return Text(f"{speed:,.0f} rec/s" if speed else "- rec/s", style="progress.data.speed")


#: Events that mean records are done (a load) or read (a query).
_DONE = frozenset({"batch_completed", "batch_failed", "job_completed", "query_records"})
#: Events shown as a line above the bar.
_NOTED = frozenset({"retry", "lock_resubmit"})


def _note(event: ProgressEvent) -> str:
    """The line a ``retry`` or ``lock_resubmit`` event prints (its detail holds no secret)."""
    if event.kind == "retry":
        return f"retrying: {event.detail}" if event.detail else "retrying a request"
    return f"re-submitting {event.records:,} records that met a locked row"


@dataclass
class Output:
    """The run's way of talking: ``json`` mode, ``quiet``, and a console on stderr."""

    json: bool = False
    quiet: bool = False
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))

    @property
    def live(self) -> bool:
        """Whether progress bars are drawn: stderr is a terminal and not ``--quiet``."""
        return self.err.is_terminal and not self.quiet

    def say(self, text: str) -> None:
        """A message for a person (not in quiet or JSON mode)."""
        if not (self.quiet or self.json):
            self.err.print(text, markup=False, highlight=False, soft_wrap=True)

    def data(self, document: Mapping[str, object]) -> None:
        """The ``--json`` document, on standard output."""
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        sys.stdout.flush()

    def summary(self, title: str, rows: Mapping[str, object]) -> None:
        """The summary table at the end of a command (skipped in quiet or JSON mode)."""
        if self.quiet or self.json:
            return
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column("what", style="bold")
        table.add_column("value", justify="right")
        for name, value in rows.items():
            # values are data (file names, SOQL), never markup: '[red]x.csv' shows as typed
            shown = f"{value:,}" if isinstance(value, int) else str(value)
            table.add_row(Text(name), Text(shown))
        self.err.print(table)

    @contextmanager
    def progress(self, label: str, total: int | None) -> Iterator[ProgressHook]:
        """A progress bar (records/s, ETA) fed by the SDK's progress events."""
        if not self.live:
            yield _ignore
            return
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.err, transient=False, refresh_per_second=8) as bar:
            task = bar.add_task(label, total=total)

            def hook(event: ProgressEvent) -> None:
                if event.kind in _DONE and event.records:
                    bar.advance(task, event.records)
                elif event.kind == "done" and total is not None:
                    bar.update(task, completed=total)
                elif event.kind in _NOTED:
                    # a line above the bar: the wait or the re-submit explains a slower rate
                    bar.console.print(_note(event), markup=False, highlight=False, style="dim")

            yield hook


def _ignore(event: ProgressEvent) -> None:
    """No progress display."""


def rate(records: int, started: float) -> str:
    """``records`` per second since ``started`` (a ``time.perf_counter`` value)."""
    elapsed = max(time.perf_counter() - started, 1e-9)
    return f"{records / elapsed:,.0f}/s"
