"""A closed client sends nothing more: every call, and a query stream made before the
close, raises the SDK's InvalidInputError (not httpx's RuntimeError)."""

from __future__ import annotations

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.loads.loadkit import async_bulk, sync_bulk

SOQL = "SELECT Id, Name FROM Account"


def test_a_closed_sync_client_refuses_every_call_and_its_pending_streams() -> None:
    org = FakeOrg()
    org.insert("Account", [{"Name": "A"}])
    bulk = sync_bulk(org)
    with bulk:
        assert len(list(bulk.query(SOQL))) == 1
        pending = bulk.query(SOQL)
    seen = int(org.stats()["requests"]["total"])
    for call in (
        lambda: list(pending),
        lambda: list(bulk.query(SOQL)),
        lambda: bulk.insert("Account", [{"Name": "B"}], progress=None),
        lambda: bulk.create_job("insert", "Account"),
    ):
        with pytest.raises(errors.InvalidInputError, match="this client is closed"):
            call()
    assert int(org.stats()["requests"]["total"]) == seen  # nothing more was sent


def test_a_client_closed_before_it_logged_in_says_it_is_closed() -> None:
    org = FakeOrg()
    bulk = sync_bulk(org)
    bulk.close()
    with pytest.raises(errors.InvalidInputError, match="this client is closed"):
        list(bulk.query(SOQL))
    assert int(org.stats()["requests"]["total"]) == 0


@pytest.mark.anyio
async def test_a_closed_async_client_refuses_its_pending_streams() -> None:
    org = FakeOrg()
    org.insert("Account", [{"Name": "A"}])
    async with async_bulk(org) as bulk:
        assert len([r async for r in bulk.query(SOQL)]) == 1
        pending = bulk.query(SOQL)
    with pytest.raises(errors.InvalidInputError, match="this client is closed"):
        [r async for r in pending]


def test_an_http_client_closed_by_its_owner_is_named() -> None:
    org = FakeOrg()
    http = httpx.Client(transport=FakeOrgTransport(org))
    auth = StaticSession(org.instance_url, org.issue_session())
    with Bulk(auth=auth, http_client=http) as bulk:
        http.close()
        with pytest.raises(errors.InvalidInputError, match=r"HTTP client .* is closed"):
            list(bulk.query(SOQL))
