"""Progress: the hook sees every step of a load; by default each is logged at INFO."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sfbulk_sdk import LoadResult, ProgressEvent
from tests.loads.loadkit import async_bulk, contacts, org_with_external_id, sync_bulk


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


#: A failure each API's load meets once: (path, method, status, code, message, the error).
FAULTS = {
    "bulk1": (
        r"/batch$",
        "POST",
        503,
        "InternalServerError",
        "try again",
        "ServerError (HTTP 503)",
    ),
    "bulk2": (
        r"/jobs/ingest$",
        "POST",
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        "ThrottledError (HTTP 403)",
    ),
}


@pytest.mark.parametrize("client", ["sync", "async"])
@pytest.mark.parametrize("api", sorted(FAULTS))
def test_a_request_sent_again_is_reported_as_a_retry(api: str, client: str) -> None:
    # The batch uploads run beside the load's own flow: their events reach the hook too.
    path, method, status, code, message, why = FAULTS[api]
    org = org_with_external_id()
    org.inject_fault(path, method=method, status=status, exception_code=code, message=message)
    events: list[ProgressEvent] = []
    size = {"batch_size": 2_000} if api == "bulk1" else {}
    settings: dict[str, object] = {"api": api, **size, "progress": events.append}
    if client == "sync":
        with sync_bulk(org) as bulk:
            result = bulk.insert("Contact", contacts(6_000), **settings)  # type: ignore[arg-type]
    else:

        async def load() -> LoadResult:
            async with async_bulk(org) as bulk:
                return await bulk.insert("Contact", contacts(6_000), **settings)  # type: ignore[arg-type]

        result = asyncio.run(load())
    assert org.faults.active() == [] and result.ok and len(result) == 6_000
    retries = [e for e in events if e.kind == "retry"]
    assert len(retries) == 1, retries
    request = f"{method} {'job/' if api == 'bulk1' else 'jobs/ingest'}"
    assert retries[0].detail.startswith(request) and why in retries[0].detail
    assert " again in " in retries[0].detail and org.issue_session() not in retries[0].detail
    assert events[-1].kind == "done" and events[-1].records == 6_000
