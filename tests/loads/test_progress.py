"""Progress: the hook sees every step of a load; by default each is logged at INFO."""

from __future__ import annotations

import logging

import pytest

from sfbulk_sdk import ProgressEvent
from tests.loads.loadkit import contacts, org_with_external_id, sync_bulk


def test_the_default_hook_logs_every_step_at_info(caplog: pytest.LogCaptureFixture) -> None:
    org = org_with_external_id()
    with caplog.at_level(logging.INFO, logger="sfbulk_sdk.progress"), sync_bulk(org) as bulk:
        result = bulk.insert("Contact", contacts(12_000), batch_size=5_000)
    assert result.ok
    lines = [r.getMessage() for r in caplog.records if r.name == "sfbulk_sdk.progress"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "sfbulk_sdk.progress")
    queued = [line for line in lines if line.startswith("batch_queued")]
    assert len(queued) == 3 and all(result.jobs[0] in line for line in queued)
    assert lines[-1].startswith("done: 12000 records")


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_the_events_account_for_every_record(api: str) -> None:
    org = org_with_external_id()
    events: list[ProgressEvent] = []
    with sync_bulk(org) as bulk:
        bulk.insert(
            "Contact",
            contacts(9_000),
            api=api,
            batch_size=2_000,
            job_size=100_000,
            progress=events.append,
        )
    sent = "batch_queued" if api == "bulk1" else "job_created"
    done = "batch_completed" if api == "bulk1" else "job_completed"
    assert sum(e.records for e in events if e.kind == sent) == 9_000
    assert sum(e.records for e in events if e.kind == done) == 9_000
    assert events[-1].kind == "done" and events[-1].records == 9_000
