"""Shared pieces of the load tests: clients on a fake org, and generated rows.

Imported as ``from tests.loads.loadkit import ...`` (like ``tests.timing``).
"""

from __future__ import annotations

import gzip

import httpx

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, FieldSpec
from tests.timing import FakeTime

#: The external id field the upsert tests key on.
EXTERNAL_ID = "Ext__c"


def sync_bulk(org: FakeOrg, **options: object) -> Bulk:
    """A client of ``org`` (in-process transport; waits that take no time)."""
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().sync(), **options)  # type: ignore[arg-type]


def async_bulk(org: FakeOrg, **options: object) -> AsyncBulk:
    """The async twin of :func:`sync_bulk`."""
    auth = StaticSession(org.instance_url, org.issue_session())
    return AsyncBulk(auth=auth, transport=FakeOrgTransport(org), **FakeTime().async_(), **options)  # type: ignore[arg-type]


def org_with_external_id(**settings: object) -> FakeOrg:
    """A fake org whose Contact has a unique external id field ``Ext__c``."""
    org = FakeOrg(**settings)  # type: ignore[arg-type]
    org.add_field("Contact", FieldSpec(EXTERNAL_ID, external_id=True, unique=True))
    return org


def contacts(count: int, *, missing_every: int = 0, start: int = 0) -> list[dict[str, object]]:
    """Contacts ``C{i}`` with an external id; every ``missing_every``-th lacks its LastName
    (``REQUIRED_FIELD_MISSING`` on insert)."""
    return [
        {
            "FirstName": f"F{i}",
            "LastName": None if missing_every and i % missing_every == 0 else f"L{i}",
            EXTERNAL_ID: f"E{i}",
        }
        for i in range(start, start + count)
    ]


def requests_seen(org: FakeOrg) -> int:
    """Every request the fake org answered so far."""
    return int(org.stats()["requests"]["total"])


class RecordingTransport(FakeOrgTransport):
    """A fake org transport that keeps every request's method, path and body (gunzipped)."""

    def __init__(self, org: FakeOrg) -> None:
        super().__init__(org)
        self.sent: list[tuple[str, str, bytes]] = []

    def _keep(self, request: httpx.Request, body: bytes) -> None:
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        self.sent.append((request.method, request.url.path, body))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._keep(request, request.read())
        return super().handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._keep(request, await request.aread())
        return await super().handle_async_request(request)

    def uploads(self) -> list[bytes]:
        """The CSV bodies uploaded: Bulk 1.0 batches and Bulk 2.0 job data, in order."""
        return [
            body
            for method, path, body in self.sent
            if (method == "POST" and path.endswith("/batch") and b"<" not in body[:1])
            or (method == "PUT" and path.endswith("/batches"))
        ]


def recording_bulk(org: FakeOrg) -> tuple[Bulk, RecordingTransport]:
    """A client of ``org`` whose requests are kept."""
    transport = RecordingTransport(org)
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=transport, **FakeTime().sync()), transport
