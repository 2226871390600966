"""Lock contention: 5 % of rows fail with ``UNABLE_TO_LOCK_ROW`` and are sent again.

The fake org fails one record in every 20 it writes (spread over every batch
or job). The load sends exactly those rows again (in a Serial Bulk 1.0 job by
default, or as configured), ends with every row loaded once, none
duplicated, and says which rows were re-submitted.
"""

from __future__ import annotations

import pytest

from sfbulk_sdk.core.progress import ProgressEvent
from sfbulk_sdk.models.enums import ConcurrencyMode
from sfbulk_sdk.testing import FakeOrg
from tests.loads.loadkit import EXTERNAL_ID, contacts, org_with_external_id, sync_bulk

ROWS = 10_000
EVERY = 20  # 5 %


def _contend(org: FakeOrg) -> None:
    org.inject_record_errors("Contact", count=ROWS // EVERY, every=EVERY)


def _loaded_once(org: FakeOrg) -> None:
    stored = org.query("SELECT Id, FirstName, Ext__c FROM Contact")
    keys = [r[EXTERNAL_ID] for r in stored]
    assert len(keys) == len(set(keys)) == ROWS  # every row once: none lost, none twice
    assert {r[EXTERNAL_ID]: r["FirstName"] for r in stored} == {
        f"E{i}": f"F{i}" for i in range(ROWS)
    }


@pytest.mark.parametrize("serial_retries", [True, False])
def test_bulk1_resubmits_exactly_the_locked_rows(serial_retries: bool) -> None:
    org = org_with_external_id()
    _contend(org)
    events: list[ProgressEvent] = []
    with sync_bulk(org) as bulk:
        result = bulk.insert(
            "Contact",
            contacts(ROWS),
            api="bulk1",
            serial_retries=serial_retries,
            progress=events.append,
        )
    assert result.ok and len(result) == ROWS
    assert len(result.resubmitted) == ROWS // EVERY
    assert set(result.resubmitted.values()) == {1}  # one re-submit was enough
    resent = [o.row for o in result if o.resubmitted]
    assert resent == sorted(result.resubmitted)
    _loaded_once(org)
    assert [e.records for e in events if e.kind == "lock_resubmit"] == [ROWS // EVERY]
    first, again = (org.job(job_id) for job_id in result.jobs)
    assert first.concurrency_mode is ConcurrencyMode.PARALLEL
    expected = ConcurrencyMode.SERIAL if serial_retries else ConcurrencyMode.PARALLEL
    assert again.concurrency_mode is expected
    assert again.number_records_processed == ROWS // EVERY  # only the locked rows went again
    ids = result.ids()
    assert len(set(ids)) == ROWS and None not in ids


@pytest.mark.parametrize("operation", ["insert", "upsert"])
def test_bulk2_resubmits_exactly_the_locked_rows(operation: str) -> None:
    org = org_with_external_id()
    _contend(org)
    with sync_bulk(org) as bulk:
        if operation == "insert":
            result = bulk.insert("Contact", contacts(ROWS), api="bulk2", progress=None)
        else:
            result = bulk.upsert("Contact", contacts(ROWS), EXTERNAL_ID, api="bulk2", progress=None)
    assert result.ok and len(result) == ROWS and result.succeeded == ROWS
    assert len(result.resubmitted) == ROWS // EVERY
    assert len(result.jobs) == 2  # the load, then one job for the re-submits
    _loaded_once(org)
    ids = result.ids()
    assert len(set(ids)) == ROWS and None not in ids


def test_lock_retries_zero_reports_the_locked_rows_without_sending_them_again() -> None:
    org = org_with_external_id()
    _contend(org)
    with sync_bulk(org) as bulk:
        result = bulk.insert("Contact", contacts(ROWS), lock_retries=0, progress=None)
    assert result.failed_count == ROWS // EVERY and not result.resubmitted
    assert {o.errors[0].status_code for o in result.failed()} == {"UNABLE_TO_LOCK_ROW"}
    assert len(result.jobs) == 1 and org.count("Contact") == ROWS - ROWS // EVERY
