"""The clients' session manager and its store: short-lived clients share one login through
a store, and a store that fails to record a session's use never loses a call's result.

(The session manager's own tests and the stores' are in ``tests/stores/``.) The
first test is peer complaint 7 of spec/peers.md §3 (sharing one session across
workers; login rate limits).
"""

from __future__ import annotations

import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.stores import MemoryStore
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.org_clients import org_bulk, soap_auth


@pytest.mark.peer("simple-salesforce#589", "restforce#744", "n8n#31948", complaint=7)
def test_c7_one_client_per_task_shares_one_login_under_the_login_rate_limit() -> None:
    """Complaint 7 (simple-salesforce PR #589; restforce PR #744 and n8n #31948:
    a login per task hit LOGIN_RATE_EXCEEDED and locked everyone out).

    In an org that allows one login an hour, 30 short-lived clients, one per
    task, share a session store: one login, 30 jobs done. Without the store the
    second client gets a typed ``LoginRateExceededError`` after exactly one
    attempt: the SDK does not hammer the login endpoint."""
    org = FakeOrg(max_logins_per_hour=1)
    store = MemoryStore()
    for task in range(30):
        with org_bulk(org, store=store) as bulk:
            job = bulk.create_job("insert", "Contact")
            assert job.id is not None
            batch = bulk.add_batch(job.id, f"LastName\nTask{task:02d}\n")
            bulk.close_job(job.id)
            bulk.wait_for_batch(job.id, batch.id)
            (result,) = bulk.get_batch_results(job.id, batch.id)
            assert result.success
    assert org.login_count == 1
    assert org.count("Contact") == 30

    org = FakeOrg(max_logins_per_hour=1)
    with org_bulk(org) as first:
        first.create_job("insert", "Contact")
    with org_bulk(org) as second, pytest.raises(errors.LoginRateExceededError):
        second.create_job("insert", "Contact")
    assert (org.login_count, org.failed_logins, org.requests["soap"]) == (1, 1, 2)


def test_a_store_failing_to_record_use_does_not_lose_a_created_job(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sfbulk_sdk.errors import SessionStoreError
    from sfbulk_sdk.models import Session
    from sfbulk_sdk.sessions import SessionPolicy
    from sfbulk_sdk.stores import MemoryStore

    class UnreachableOnRenew(MemoryStore):
        def renew(self, key: str, session: Session, ttl: float) -> bool:
            raise SessionStoreError("store unreachable")

    org = FakeOrg()
    touch_always = {"policy": SessionPolicy(touch_seconds=0)}
    with Bulk(
        auth=soap_auth(),
        transport=FakeOrgTransport(org),
        store=UnreachableOnRenew(),
        session_options=touch_always,
    ) as bulk:
        job = bulk.create_job("insert", "Contact")
    assert job.id is not None and org.job(job.id).id == job.id
    assert any("could not record" in r.getMessage() for r in caplog.records)
