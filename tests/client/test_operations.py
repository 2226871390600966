"""Every Bulk 1.0 operation (all seven) through both clients, in-process and over HTTP.

One scenario, written once as async code, drives ``AsyncBulk`` directly and
``Bulk`` through a thin adapter, so the two clients are held to the same
behaviour. It runs against the fake org through its in-process transport and
through a real HTTP server on loopback.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.models import BatchState
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport, FieldSpec
from sfbulk_sdk.testing.server import serve_in_thread
from tests.org_clients import soap_auth
from tests.timing import FakeTime


class _SyncAsAsync:
    """Presents a sync ``Bulk`` with awaitable methods, for one shared scenario."""

    def __init__(self, bulk: Bulk) -> None:
        self._bulk = bulk

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._bulk, name)
        if name == "iter_query_results":

            async def agen(*args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
                for record in member(*args, **kwargs):
                    yield record

            return agen

        async def call(*args: Any, **kwargs: Any) -> Any:
            return member(*args, **kwargs)

        return call


def _no_sleep_async() -> Callable[[float], Any]:
    async def sleep(_seconds: float) -> None:
        return None

    return sleep


async def _run_job(bulk: Any, operation: str, sobject: str, data: str, **kwargs: Any) -> list[Any]:
    job = await bulk.create_job(operation, sobject, **kwargs)
    assert job.operation.value == operation
    batch = await bulk.add_batch(job.id, data)
    await bulk.close_job(job.id)
    done = await bulk.wait_for_batch(job.id, batch.id)
    assert done.state is BatchState.COMPLETED
    if operation in ("query", "queryAll"):
        return [r async for r in bulk.iter_query_results(job.id, batch.id)]
    results = await bulk.get_batch_results(job.id, batch.id)
    return list(results)


async def _scenario(bulk: Any, org: FakeOrg) -> None:
    # insert
    data = "Name,Ext__c,Industry\n" + "".join(f"Acme {i},EXT-{i},Energy\n" for i in range(6))
    inserted = await _run_job(bulk, "insert", "Account", data)
    assert [r.success for r in inserted] == [True] * 6
    assert all(r.created for r in inserted)
    ids = [r.id for r in inserted]
    assert sorted(row["Id"] for row in org.records("Account")) == sorted(ids)

    # update
    data = "Id,Industry\n" + "".join(f"{i},Banking\n" for i in ids[:2])
    updated = await _run_job(bulk, "update", "Account", data)
    assert [(r.id, r.success, r.created) for r in updated] == [(i, True, False) for i in ids[:2]]
    industries = {row["Id"]: row["Industry"] for row in org.records("Account")}
    assert [industries[i] for i in ids] == ["Banking"] * 2 + ["Energy"] * 4

    # upsert by external id: one update, one insert
    data = "Ext__c,Name\nEXT-0,Acme Zero\nEXT-99,Newco\n"
    upserted = await _run_job(bulk, "upsert", "Account", data, external_id_field="Ext__c")
    assert [(r.success, r.created) for r in upserted] == [(True, False), (True, True)]
    assert upserted[0].id == ids[0]
    names = {row["Ext__c"]: row["Name"] for row in org.records("Account")}
    assert names["EXT-0"] == "Acme Zero" and names["EXT-99"] == "Newco"

    # delete (soft: queryAll still sees it) and hardDelete (gone for good)
    deleted = await _run_job(bulk, "delete", "Account", f"Id\n{ids[1]}\n")
    assert deleted[0].success and deleted[0].id == ids[1]
    hard = await _run_job(bulk, "hardDelete", "Account", f"Id\n{ids[2]}\n")
    assert hard[0].success and hard[0].id == ids[2]
    live = {row["Id"] for row in org.records("Account")}
    assert ids[1] not in live and ids[2] not in live

    # query vs queryAll
    soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' ORDER BY Name"
    queried = await _run_job(bulk, "query", "Account", soql)
    assert ids[1] not in {r["Id"] for r in queried}
    assert len(queried) == 4
    everything = await _run_job(bulk, "queryAll", "Account", soql)
    all_ids = {r["Id"] for r in everything}
    assert ids[1] in all_ids  # soft-deleted rows are visible to queryAll
    assert ids[2] not in all_ids  # hard-deleted rows are not
    assert len(everything) == 5

    # per-record failure: delete of an already deleted record
    again = await _run_job(bulk, "delete", "Account", f"Id\n{ids[1]}\n")
    assert not again[0].success
    assert again[0].errors[0].status_code == "ENTITY_IS_DELETED"


def _org() -> FakeOrg:
    org = FakeOrg(query_result_file_rows=2)
    org.add_field("Account", FieldSpec("Ext__c", external_id=True, unique=True))
    return org


@contextlib.contextmanager
def _served(org: FakeOrg, mode: str) -> Iterator[str | None]:
    if mode == "in-process":
        yield None
    else:
        with serve_in_thread(org) as url:
            yield url


@pytest.mark.parametrize("mode", ["in-process", "http"])
@pytest.mark.anyio
async def test_sync_client_runs_all_seven_operations(mode: str) -> None:
    org = _org()
    with _served(org, mode) as url:
        if url is None:
            bulk = Bulk(
                auth=soap_auth("https://login.salesforce.com"), transport=FakeOrgTransport(org)
            )
        else:
            bulk = Bulk(
                auth=soap_auth(url), http_client=httpx.Client(timeout=30), **FakeTime().sync()
            )
        with bulk:
            await _scenario(_SyncAsAsync(bulk), org)
        if url is not None:
            bulk._driver.http.close()
    assert org.login_count == 1


@pytest.mark.parametrize("mode", ["in-process", "http"])
@pytest.mark.anyio
async def test_async_client_runs_all_seven_operations(mode: str) -> None:
    org = _org()
    with _served(org, mode) as url:
        client = None
        if url is None:
            bulk = AsyncBulk(
                auth=soap_auth("https://login.salesforce.com"), transport=FakeOrgTransport(org)
            )
        else:
            client = httpx.AsyncClient(timeout=30)
            bulk = AsyncBulk(auth=soap_auth(url), http_client=client, **FakeTime().async_())
        async with bulk:
            await _scenario(bulk, org)
        if client is not None:
            await client.aclose()
    assert org.login_count == 1
