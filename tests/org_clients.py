"""Clients on the fake org, shared by the tests of several folders.

* :func:`soap_auth`: a SOAP login as the fake org's default user;
* :func:`org_bulk`: a ``Bulk`` on the fake org (its in-process transport unless
  another is given) whose waits move the org's clock when that clock is a
  :class:`~sfbulk_sdk.testing.ManualClock`, and return at once otherwise;
* :func:`strict_org`: an org enforcing the batch limits at their strictest;
* :func:`upload_batches` and :func:`read_outcomes`: send batches as a splitter produces
  them, then read back every input record's outcome, in input order.

Imported as ``from tests.org_clients import ...`` (like ``tests.timing``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from sfbulk_sdk import Bulk, RecordResult
from sfbulk_sdk import testing as fake
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.core.csvsplit import MAX_BATCH_BYTES, MAX_BATCH_CHARS, CsvBatch
from tests.timing import FakeTime

LOGIN_URL = "https://login.salesforce.com"


def soap_auth(
    login_url: str = LOGIN_URL,
    password: str = fake.DEFAULT_PASSWORD,
    token: str = fake.DEFAULT_SECURITY_TOKEN,
) -> SoapLogin:
    """The fake org's default user, logging in at ``login_url``."""
    return SoapLogin(fake.DEFAULT_USERNAME, password, token, login_url=login_url)


def org_bulk(
    org: fake.FakeOrg, transport: httpx.BaseTransport | None = None, **kwargs: Any
) -> Bulk:
    """A ``Bulk`` on the fake org whose waits move the org's clock (or return at once)."""
    waits = FakeTime(on_sleep=org.advance if isinstance(org.clock, fake.ManualClock) else None)
    return Bulk(
        auth=soap_auth(),
        transport=transport or fake.FakeOrgTransport(org),
        **waits.sync(),
        **kwargs,
    )


def strict_org() -> fake.FakeOrg:
    """An org enforcing the limits at their strictest reading (10 MB = 10,000,000 bytes)."""
    return fake.FakeOrg(max_batch_bytes=MAX_BATCH_BYTES, max_batch_chars=MAX_BATCH_CHARS)


def upload_batches(
    bulk: Bulk, job_id: str, batches: Iterator[CsvBatch]
) -> list[tuple[CsvBatch, str]]:
    """Upload each batch as it is produced; ``(batch, batch id)`` pairs in order."""
    return [(batch, bulk.add_batch(job_id, batch.data).id) for batch in batches]


def read_outcomes(bulk: Bulk, job_id: str, sent: list[tuple[CsvBatch, str]]) -> list[RecordResult]:
    """Every input record's outcome, in input order, checked against the batch plan."""
    out: list[RecordResult] = []
    for batch, batch_id in sent:
        results = list(bulk.get_batch_results(job_id, batch_id))
        assert len(results) == batch.records
        assert batch.first_record == len(out) + 1
        out.extend(results)
    return out
