"""``bulk.query(...)`` returns a record stream: every record once, in order, whether
taken by ``for``, by ``next()`` or both; closing it (``with``, ``close()``, or
dropping it) closes the result download it was reading."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.records import AsyncRecordStream, RecordStream
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.timing import FakeTime

SOQL = "SELECT Id, Name FROM Account"
ROWS = 5_000


class _Tracked(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A result body handed out in small pieces, which notes whether it was closed."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), 4096):
            yield self.body[start : start + 4096]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), 4096):
            yield self.body[start : start + 4096]

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class _Transport(FakeOrgTransport):
    """The fake org, with every query result body a :class:`_Tracked` stream."""

    def __init__(self, org: FakeOrg) -> None:
        super().__init__(org)
        self.results: list[_Tracked] = []

    def _tracked(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        path = request.url.path
        if request.method != "GET" or not (path.endswith("/results") or "/result/" in path):
            return response
        stream = _Tracked(response.content)
        self.results.append(stream)
        dropped = ("content-length", "content-encoding")
        headers = [(k, v) for k, v in response.headers.items() if k not in dropped]
        return httpx.Response(response.status_code, headers=headers, stream=stream)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        return self._tracked(request, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await response.aread()
        return self._tracked(request, response)


def _org() -> FakeOrg:
    org = FakeOrg(query_result_file_rows=2_000)
    org.insert("Account", [{"Name": f"A{i:05d}"} for i in range(ROWS)])
    return org


def _bulk(org: FakeOrg, transport: FakeOrgTransport) -> Bulk:
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=transport, **FakeTime().sync())  # type: ignore[arg-type]


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_next_and_for_take_from_the_same_place(api: str) -> None:
    org = _org()
    with _bulk(org, FakeOrgTransport(org)) as bulk:
        records = bulk.query(SOQL, api=api)  # type: ignore[arg-type]
        assert isinstance(records, RecordStream)
        first, second = next(records), next(records)
        rest = [r["Name"] for r in records]
        with pytest.raises(StopIteration):
            next(records)
    names = [first["Name"], second["Name"], *rest]
    assert sorted(names) == [f"A{i:05d}" for i in range(ROWS)]
    assert len(names) == len(set(names)) == ROWS


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_leaving_the_with_block_closes_the_download_it_was_reading(api: str) -> None:
    org = _org()
    transport = _Transport(org)
    with _bulk(org, transport) as bulk:
        with bulk.query(SOQL, api=api) as records:  # type: ignore[arg-type]
            for record in records:
                assert record["Name"].startswith("A")
                break
            # Bulk 1.0 streams a result file; Bulk 2.0 reads each page whole
            assert transport.results and transport.results[-1].closed is (api == "bulk2")
        assert all(stream.closed for stream in transport.results)
        assert len(transport.results) == 1  # the other result files were never asked for
        assert list(records) == []  # a closed stream has no more records


def test_close_and_dropping_the_stream_close_the_download() -> None:
    org = _org()
    transport = _Transport(org)
    with _bulk(org, transport) as bulk:
        records = bulk.query(SOQL, api="bulk1")
        next(records)
        records.close()
        assert [s.closed for s in transport.results] == [True]
        dropped = bulk.query(SOQL, api="bulk1")
        next(dropped)
        del dropped
        gc.collect()
        assert [s.closed for s in transport.results] == [True, True]


@pytest.mark.anyio
@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
async def test_the_async_stream_reads_every_record_and_closes_on_leaving(api: str) -> None:
    org = _org()
    transport = _Transport(org)
    auth = StaticSession(org.instance_url, org.issue_session())
    async with AsyncBulk(auth=auth, transport=transport, **FakeTime().async_()) as bulk:  # type: ignore[arg-type]
        records = bulk.query(SOQL, api=api)  # type: ignore[arg-type]
        assert isinstance(records, AsyncRecordStream)
        first = await records.__anext__()
        names = [first["Name"]] + [r["Name"] async for r in records]
        assert sorted(names) == [f"A{i:05d}" for i in range(ROWS)]
        async with bulk.query(SOQL, api=api) as early:  # type: ignore[arg-type]
            async for _record in early:
                break
        assert all(stream.closed for stream in transport.results)
