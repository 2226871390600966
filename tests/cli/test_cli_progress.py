"""The CLI progress bar notes what slows a load: a request sent again, locked rows re-sent."""

from __future__ import annotations

import io
import re

from rich.console import Console

from sfbulk_sdk.cli.output import Output
from tests.loads.loadkit import contacts, org_with_external_id, sync_bulk

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _terminal() -> tuple[Output, io.StringIO]:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, highlight=False)
    return Output(err=console), screen


def test_a_retry_and_a_lock_resubmit_are_printed_above_the_bar() -> None:
    org = org_with_external_id()
    org.inject_fault(r"/batch$", method="POST", status=503, exception_code="InternalServerError")
    org.inject_record_errors("Contact", count=100, every=20)  # UNABLE_TO_LOCK_ROW on 100 rows
    out, screen = _terminal()
    with out.progress("insert Contact", 2_000) as hook, sync_bulk(org) as bulk:
        result = bulk.insert("Contact", contacts(2_000), api="bulk1", progress=hook)
    assert result.ok and len(result.resubmitted) == 100
    text = _ANSI.sub("", screen.getvalue())
    retried = [line for line in text.splitlines() if line.startswith("retrying: POST ")]
    assert len(retried) == 1, text
    assert "/batch again in " in retried[0] and "after ServerError (HTTP 503)" in retried[0]
    assert org.issue_session() not in text
    assert "re-submitting 100 records that met a locked row" in text
    assert re.search(r"2,?000/2,?000", text), text


def test_no_terminal_no_lines() -> None:
    org = org_with_external_id()
    org.inject_fault(r"/batch$", method="POST", status=503, exception_code="InternalServerError")
    screen = io.StringIO()
    out = Output(err=Console(file=screen, force_terminal=False))
    with out.progress("insert Contact", 500) as hook, sync_bulk(org) as bulk:
        assert bulk.insert("Contact", contacts(500), api="bulk1", progress=hook).ok
    assert org.faults.active() == [] and screen.getvalue() == ""
