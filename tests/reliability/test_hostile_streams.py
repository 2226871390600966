"""Streamed replies that would lose or repeat records are refused, never taken as whole.

* a compressed reply that stops before its compressed stream ends (a gzip body
  cut at a record boundary, without its final block and trailer): httpx's own
  decoder takes it as complete, so the clients inflate streamed replies
  themselves and raise ``ProtocolError``;
* a Bulk 2.0 query whose ``Sforce-Locator`` or ``/resultPages`` listing points
  back at a page already read: read again, it would hand out the same records
  forever; it is refused on the first repeat;
* a Bulk 1.0 query whose result list names a file twice, or whose batch list
  names a batch twice: each is read once.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.core.decoders import MAX_RECORD_CHARS, CsvRecordDecoder, JsonRecordDecoder
from sfbulk_sdk.core.inflate import Inflater
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.timing import FakeTime

Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class _Stream(httpx.SyncByteStream):
    """A body handed out in small pieces, as a network stream is."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        for at in range(0, len(self.data), 1000):
            yield self.data[at : at + 1000]


class _Rewriting(FakeOrgTransport):
    def __init__(self, org: FakeOrg, rewrite: Rewrite) -> None:
        super().__init__(org)
        self.rewrite = rewrite
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        response = super().handle_request(request)
        response.read()
        return self.rewrite(request, response) or response


def _client(org: FakeOrg, rewrite: Rewrite) -> tuple[Bulk, _Rewriting]:
    transport = _Rewriting(org, rewrite)
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=transport, **FakeTime().sync()), transport  # type: ignore[arg-type]


def _reply(response: httpx.Response, body: bytes, **headers: str) -> httpx.Response:
    kept = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "content-encoding")
    }
    kept.update({k.replace("_", "-"): v for k, v in headers.items()})
    return httpx.Response(
        response.status_code, headers=kept, stream=_Stream(body), request=response.request
    )


def _cut_gzip(body: bytes, records: int = 5) -> bytes:
    """``body``'s header and first ``records`` lines, gzip-compressed but never finished."""
    kept = b"".join(body.splitlines(keepends=True)[: records + 1])
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(kept) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _org(count: int = 25) -> tuple[FakeOrg, list[str]]:
    org = FakeOrg()
    return org, org.insert("Contact", [{"LastName": f"L{i}"} for i in range(count)])


def _is_results(request: httpx.Request) -> bool:
    path = request.url.path
    result_file = path.endswith("/results") or "Results" in path or "/result/" in path
    return request.method == "GET" and result_file


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_a_query_reply_cut_inside_its_gzip_stream_is_refused(api: str) -> None:
    org, _ids = _org()

    def cut(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if _is_results(request) and response.status_code == 200:
            return _reply(response, _cut_gzip(response.content), content_encoding="gzip")
        return None

    bulk, _ = _client(org, cut)
    options = {"max_records": 100} if api == "bulk2" else {}
    with bulk, pytest.raises(errors.ProtocolError, match="ends early"):
        list(bulk.query("SELECT Id, LastName FROM Contact", api=api, **options))  # type: ignore[arg-type]


def test_bulk2_load_results_cut_inside_their_gzip_stream_are_refused() -> None:
    org, ids = _org()

    def cut(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if "successfulResults" in request.url.path:
            return _reply(response, _cut_gzip(response.content), content_encoding="gzip")
        return None

    bulk, _ = _client(org, cut)
    rows = [{"Id": record_id, "LastName": "Z"} for record_id in ids]
    with bulk, pytest.raises(errors.ProtocolError, match="ends early"):
        bulk.update("Contact", rows, api="bulk2", progress=None)


def test_whole_gzip_replies_of_several_members_still_read_whole() -> None:
    org, _ids = _org(40)

    def members(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if _is_results(request) and response.status_code == 200:
            lines = response.content.splitlines(keepends=True)
            body = gzip.compress(b"".join(lines[:10])) + gzip.compress(b"".join(lines[10:]))
            return _reply(response, body, content_encoding="gzip")
        return None

    bulk, _ = _client(org, members)
    with bulk:
        rows = list(bulk.query("SELECT Id FROM Contact", api="bulk2", max_records=1_000))
    assert len(rows) == 40


def test_a_locator_given_twice_is_refused_not_read_forever() -> None:
    org, _ids = _org()

    def loop(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path.endswith("/results") and response.status_code == 200:
            return _reply(response, response.content, sforce_locator="MTA6MTA")
        return None

    bulk, transport = _client(org, loop)
    with bulk, pytest.raises(errors.ProtocolError, match="same result locator twice"):
        list(bulk.query("SELECT Id FROM Contact", api="bulk2", max_records=10))
    assert transport.sent < 20


def test_a_result_pages_listing_that_points_back_at_itself_is_refused() -> None:
    org, _ids = _org()

    def loop(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path.lower().endswith("/resultpages") and response.status_code == 200:
            listing = response.json()
            listing.update(done=False, nextRecordsUrl=request.url.path)
            return httpx.Response(200, json=listing, request=request)
        return None

    bulk, transport = _client(org, loop)
    with bulk, pytest.raises(errors.ProtocolError, match="twice"):
        list(bulk.query("SELECT Id FROM Contact", api="bulk2", parallel_pages=2))
    assert transport.sent < 20


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),
    ],
)
def test_the_inflater_reads_any_split_and_refuses_an_early_end(
    coding: str, compress: Callable[[bytes], bytes]
) -> None:
    data = b"".join(b'"%d","name %d"\n' % (i, i) for i in range(5_000))
    body = compress(data)
    for size in (1, 7, 4096, len(body)):
        inflater = Inflater(coding)
        out = b"".join(inflater.feed(body[at : at + size]) for at in range(0, len(body), size))
        inflater.end()
        assert out == data
    early = Inflater(coding)
    early.feed(body[: len(body) // 2])
    with pytest.raises(errors.ProtocolError, match="ends early"):
        early.end()
    with pytest.raises(errors.ProtocolError, match="cannot be inflated"):
        Inflater(coding).feed(b"\x1f\x8b\x08\x00garbage-after-a-gzip-magic" * 3)


def _doubled(pattern: bytes, listing: str) -> Rewrite:
    """A rewrite of the Bulk 1.0 ``listing`` reply that names every item matched twice."""

    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        path = request.url.path
        if request.method == "GET" and path.endswith(listing) and pattern[:8] in response.content:
            body = re.sub(rb"(" + pattern + rb")", rb"\1\1", response.content, flags=re.S)
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=request
            )
        return None

    return rewrite


@pytest.mark.parametrize(
    ("pattern", "listing"),
    [(rb"<result>[^<]+</result>", "/result"), (rb"<batchInfo>.*?</batchInfo>", "/batch")],
)
def test_a_bulk1_query_listing_that_repeats_a_file_or_batch_reads_it_once(
    pattern: bytes, listing: str
) -> None:
    org, ids = _org(5)
    bulk, _ = _client(org, _doubled(pattern, listing))
    with bulk:
        rows = list(bulk.query("SELECT Id FROM Contact", api="bulk1"))
    assert sorted(r["Id"] for r in rows) == sorted(ids)


@pytest.mark.parametrize("operation", ["update", "insert"])
def test_bulk2_rows_no_result_file_answers_are_failed_as_such(operation: str) -> None:
    org, ids = _org(3)

    def header_only(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if "successfulResults" in request.url.path:
            head = response.content.splitlines(keepends=True)[:1]
            return httpx.Response(200, headers=response.headers, content=b"".join(head))
        return None

    bulk, _ = _client(org, header_only)
    rows: list[dict[str, object]] = (
        [{"Id": record_id, "LastName": "Z"} for record_id in ids]
        if operation == "update"
        else [{"LastName": f"N{i}"} for i in range(3)]
    )
    with bulk:
        result = getattr(bulk, operation)("Contact", rows, api="bulk2", progress=None)
    assert result.failed_count == 3 and result.failed_rows() == [0, 1, 2]
    assert {e.status_code for o in result.failed() for e in o.errors} == {"NO_RESULT"}
    assert result.unanswered() == []


@pytest.mark.parametrize(
    ("decoder", "head"),
    [(CsvRecordDecoder, b'"Id","Name"\n"1","an open quote '), (JsonRecordDecoder, b'[{"Id": "1')],
)
def test_a_record_that_never_ends_is_refused_once_past_the_longest_record(
    decoder: type[CsvRecordDecoder] | type[JsonRecordDecoder], head: bytes
) -> None:
    reading = decoder()
    reading.feed(head)
    chunk = b"x" * 65_536
    fed = len(head)

    def feed_until_refused() -> None:
        nonlocal fed
        while fed < 4 * MAX_RECORD_CHARS:  # (before: kept whole, refused only at the end)
            reading.feed(chunk)
            fed += len(chunk)

    with pytest.raises(errors.MalformedReplyError, match="runs past 8,000,000 characters"):
        feed_until_refused()
    assert fed <= MAX_RECORD_CHARS + 2 * len(chunk) + len(head)


def test_a_bulk2_successful_results_file_without_its_id_columns_is_refused() -> None:
    org, ids = _org(3)

    def no_ids(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if "successfulResults" in request.url.path:
            lines = response.content.decode().splitlines()
            body = "\n".join(line.split(",", 2)[2] for line in lines) + "\n"  # two columns less
            return httpx.Response(200, headers=response.headers, content=body.encode())
        return None

    bulk, _ = _client(org, no_ids)
    rows = [{"Id": record_id, "LastName": "Z"} for record_id in ids]
    with bulk, pytest.raises(errors.ProtocolError, match="without its sf__Id and sf__Created"):
        bulk.update("Contact", rows, api="bulk2", progress=None)


@pytest.mark.parametrize("version", [1e300, -3.0, 0.0])
def test_a_bulk2_job_reply_with_an_api_version_that_is_none_is_the_servers_fault(
    version: float,
) -> None:
    org, _ids = _org(2)

    def bogus(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path.endswith("/jobs/query") and request.method == "POST":
            job = response.json()
            job["apiVersion"] = version
            return httpx.Response(response.status_code, json=job, request=request)
        return None

    bulk, _ = _client(org, bogus)
    with bulk, pytest.raises(errors.ProtocolError, match="API version that is none"):
        list(bulk.query("SELECT Id FROM Contact", api="bulk2"))


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_a_whole_reply_not_in_the_coding_it_names_is_refused_once_not_retried(api: str) -> None:
    org, _ids = _org(2)
    creations: list[str] = []

    def mislabelled(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith(("/job", "/jobs/query")):
            creations.append(request.url.path)
            return _reply(response, response.content, content_encoding="gzip")
        return None

    bulk, _ = _client(org, mislabelled)
    with bulk, pytest.raises(errors.MalformedReplyError, match="not in the Content-Encoding"):
        list(bulk.query("SELECT Id FROM Contact", api=api))  # type: ignore[arg-type]
    assert len(creations) == 1  # the server's fault: not sent again


@pytest.mark.parametrize(
    ("api", "operation"),
    [("bulk1", "query"), ("bulk2", "query"), ("bulk1", "insert"), ("bulk2", "insert")],
)
def test_a_redirect_is_refused_never_followed_nor_taken_as_a_success(
    api: str, operation: str
) -> None:
    org, _ids = _org(3)
    hosts: set[str] = set()

    def moved(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        hosts.add(request.url.host)
        uploads = request.method == "PUT" or request.url.path.endswith("/batch")
        if _is_results(request) if operation == "query" else uploads:
            location = "https://moved.example.my.salesforce.com" + request.url.path
            return httpx.Response(302, headers={"Location": location}, request=request)
        return None

    bulk, _ = _client(org, moved)

    def run() -> object:
        if operation == "query":
            return list(bulk.query("SELECT Id FROM Contact", api=api))  # type: ignore[arg-type]
        return bulk.insert("Contact", [{"LastName": "A"}], api=api, progress=None)  # type: ignore[arg-type]

    with bulk, pytest.raises(errors.ProtocolError, match=r"redirected \(HTTP 302 to moved"):
        run()
    assert hosts == {httpx.URL(org.instance_url).host}  # the session went nowhere else


_TRIGGER_ERROR = (
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY:ContactTrigger: execution of BeforeUpdate\n\n"
    "caused by: System.NullPointerException: Attempt to de-reference a null object\n\n"
    "Trigger.ContactTrigger: line 5, column 1:--"
)


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_a_record_error_whose_message_spans_lines_is_one_error(api: str) -> None:
    # The usual Apex trigger failure: its message holds the trigger's stack, lines apart.
    org, ids = _org(3)
    quoted = '"' + _TRIGGER_ERROR.replace('"', '""') + '"'

    def trigger_fails(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        path = request.url.path.rstrip("/")
        if request.method != "GET" or response.status_code != 200:
            return None
        if api == "bulk1" and path.endswith("/result") and "/batch/" in path:
            lines = response.content.decode().split("\n")
            lines[1] = f'"{ids[0]}","false","false",{quoted}'
            return _reply(response, "\n".join(lines).encode())
        if path.endswith("/successfulResults"):
            lines = response.content.decode().split("\n")
            kept = [line for line in lines if ids[0] not in line]
            return _reply(response, "\n".join(kept).encode())
        if path.endswith("/failedResults"):
            row = f'"sf__Id","sf__Error","Id","LastName"\n"{ids[0]}",{quoted},"{ids[0]}","Z"\n'
            return _reply(response, row.encode())
        return None

    bulk, _ = _client(org, trigger_fails)
    rows = [{"Id": record_id, "LastName": "Z"} for record_id in ids]
    with bulk:
        result = bulk.update("Contact", rows, api=api, progress=None)  # type: ignore[arg-type]
    (error,) = result[0].errors
    assert error.status_code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert error.message.startswith("ContactTrigger: execution of BeforeUpdate\n\ncaused by:")
    assert error.message.endswith("line 5, column 1") and error.fields == []
    assert result.failed_count == 1 and result[1].success and result[2].success
