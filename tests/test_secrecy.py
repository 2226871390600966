"""No session id or password in any repr, str or log record (issue: secrets stay secret).

The whole flow runs with every logger at DEBUG (httpx and httpcore included),
through a login, a rejected session, a refresh, an API error and a failed
login, and everything the caller can see is searched for the secrets.
"""

from __future__ import annotations

import logging

import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.testing import DEFAULT_SECURITY_TOKEN, FakeOrg, FakeOrgTransport
from tests.timing import FakeTime

PASSWORD = 'p@ss<&"]]>word-xyz'


def test_no_secret_reaches_a_log_record_repr_or_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sfbulk_sdk"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    org = FakeOrg()
    org.add_user("worker@example.com", PASSWORD, DEFAULT_SECURITY_TOKEN)
    auth = SoapLogin(
        "worker@example.com", PASSWORD, DEFAULT_SECURITY_TOKEN, login_url="https://login.example"
    )
    seen: list[object] = [auth]
    secrets: set[str] = {PASSWORD, PASSWORD + DEFAULT_SECURITY_TOKEN}
    with Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None and bulk.sessionid is not None
        secrets.add(bulk.sessionid)
        org.expire_sessions()  # the next call is rejected, refreshed and retried
        batch = bulk.add_batch(job.id, "LastName\nA\n")
        assert bulk.sessionid is not None
        secrets.add(bulk.sessionid)
        bulk.wait_for_batch(job.id, batch.id)
        results = bulk.get_batch_results(job.id, batch.id)
        with pytest.raises(errors.InvalidJobError) as api_error:
            bulk.create_job("insert", "NoSuchObject__c")
        seen += [bulk, job, batch, results, api_error.value, bulk._driver.sessions, bulk.session]
    assert org.login_count == 2
    assert len(secrets) == 4  # two distinct session ids were really in play

    bad = SoapLogin("worker@example.com", "wrong" + PASSWORD, login_url="https://login.example")
    with Bulk(auth=bad, transport=FakeOrgTransport(org)) as failing:
        with pytest.raises(errors.LoginError) as login_error:
            failing.get_job("750000000000001AAA")
        seen += [failing, login_error.value]

    texts = [r.getMessage() for r in caplog.records] + [
        str(a) for r in caplog.records for a in (r.args or ())
    ]
    texts += [repr(o) for o in seen] + [str(o) for o in seen]
    for exc in (api_error.value, login_error.value):
        texts += [str(a) for a in exc.args]
    assert caplog.records, "the flow should have logged something at DEBUG"
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked into: {text[:120]}"
