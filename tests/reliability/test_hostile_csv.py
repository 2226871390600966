"""Hostile or broken CSV on every CSV parse path, and replies of an unexpected content type.

CSV: ``BatchResult.from_csv``, the streaming decoder (whole, chunked, other
delimiters), Bulk 1.0 batch results and query results, Bulk 2.0 query and
ingest results. Binary bodies, HTML pages, unterminated or stray quotes, rows
of the wrong width, fields over the CSV limit and bytes that are not UTF-8 raise
a ``MalformedReplyError`` (a client: a ``ProtocolError`` with the status),
with a short excerpt and no secret; never ``csv.Error`` or ``UnicodeDecodeError``.

Content types: a 200 whose media type is none of XML, JSON or CSV (an HTML
page from a proxy, plain text) is refused on every success path, whatever its
body looks like.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.core.decoders import CsvRecordDecoder, record_decoder
from sfbulk_sdk.models import BatchResult
from tests.reliability.hostile import (
    BATCH,
    HOSTILE_CSV,
    INSTANCE,
    JOB,
    RESULT,
    STATIC_SESSION,
    assert_refusal,
    job_xml,
    reply,
)
from tests.timing import FakeTime

V2_JOB = "7505j000000ZZZZAAA"
_RESULT_HEADER = b'"Id","Success","Created","Error"\n'

#: Batch-result CSV no parser may accept.
HOSTILE_RESULT_CSV: dict[str, bytes] = {
    "binary": _RESULT_HEADER + bytes(range(128, 256)) * 4,
    "html-page": HOSTILE_CSV["html-page"],
    "unterminated-quote": _RESULT_HEADER + b'"001","true","true","unterminated\n',
    "stray-quote": _RESULT_HEADER + b'"001"x,"true","true",""\n',
    "short-row": _RESULT_HEADER + b'"001","true"\n',
    "field-too-large": _RESULT_HEADER + b'"001","true","true","' + b"x" * 140_000 + b'"\n',
    "invalid-utf8": _RESULT_HEADER + b'"\xff\xfe","true","true",""\n',
    "not-a-flag": _RESULT_HEADER + b'"001","yes","true",""\n',
    "missing-columns": b'"Id","Success"\n"001","true"\n',
}


def _decode(body: bytes, size: int, delimiter: str = ",") -> object:
    decoder = CsvRecordDecoder(delimiter)
    out = []
    for start in range(0, len(body), size):
        out += decoder.feed(body[start : start + size])
    return [*out, *decoder.close()]


RESULT_PARSERS: dict[str, Callable[[bytes], object]] = {
    "BatchResult.from_csv(bytes)": BatchResult.from_csv,
    "BatchResult.from_csv(str)": lambda body: BatchResult.from_csv(
        body.decode("utf-8", errors="surrogateescape")
    ),
}

DECODERS: dict[str, Callable[[bytes], object]] = {
    "CsvRecordDecoder(whole)": lambda body: _decode(body, max(len(body), 1)),
    "CsvRecordDecoder(chunked)": lambda body: _decode(body, 13),
    "CsvRecordDecoder(byte by byte)": lambda body: _decode(body, 1),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_RESULT_CSV))
@pytest.mark.parametrize("parser", sorted(RESULT_PARSERS))
def test_batch_result_csv_that_is_hostile_is_refused(parser: str, kind: str) -> None:
    if parser.endswith("(str)") and kind == "invalid-utf8":
        pytest.skip("text has no bytes to mis-decode")
    with pytest.raises(errors.SfBulkError) as caught:
        RESULT_PARSERS[parser](HOSTILE_RESULT_CSV[kind])
    assert_refusal(caught.value, kind=errors.MalformedReplyError)


@pytest.mark.parametrize("kind", sorted(HOSTILE_CSV))
@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_the_csv_decoder_refuses_hostile_csv(decoder: str, kind: str) -> None:
    if decoder.endswith("byte by byte)") and kind == "field-too-large":
        pytest.skip("140,000 single-byte feeds: covered whole and chunked")
    with pytest.raises(errors.SfBulkError) as caught:
        DECODERS[decoder](HOSTILE_CSV[kind])
    assert_refusal(caught.value, kind=errors.MalformedReplyError)
    assert caught.value.excerpt  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the clients


def _bulk(handler: Callable[[httpx.Request], httpx.Response]) -> Bulk:
    return Bulk(
        INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(handler), **FakeTime().sync()
    )


def _org(body: bytes, media: str, *, operation: str = "query", csv_job: bool = True) -> Bulk:
    """A Bulk 1.0 CSV job and a Bulk 2.0 job whose results are ``body`` as ``media``."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(f"/job/{JOB}"):
            content_type = "CSV" if csv_job else "XML"
            return reply(200, job_xml(operation, content_type), "application/xml")
        if path.endswith(f"/jobs/query/{V2_JOB}") or path.endswith(f"/jobs/ingest/{V2_JOB}"):
            job = {"id": V2_JOB, "state": "JobComplete", "apiVersion": 66.0}
            return reply(200, json.dumps(job).encode(), "application/json")
        response = reply(200, body, media)
        response.headers["Sforce-Locator"] = "null"
        return response

    return _bulk(handler)


CSV_CALLS: dict[str, Callable[[Bulk], object]] = {
    "get_batch_results": lambda bulk: bulk.get_batch_results(JOB, BATCH),
    "iter_query_results": lambda bulk: list(
        bulk.iter_query_results(JOB, BATCH, result_ids=[RESULT])
    ),
    "iter_query_job_results": lambda bulk: list(bulk.iter_query_job_results(V2_JOB)),
    "iter_ingest_results": lambda bulk: list(bulk.iter_ingest_results(V2_JOB, "failed")),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_CSV))
@pytest.mark.parametrize("call", sorted(CSV_CALLS))
def test_client_csv_results_that_are_hostile_raise_protocol_error(call: str, kind: str) -> None:
    body = HOSTILE_CSV[kind]
    if call == "get_batch_results":
        body = HOSTILE_RESULT_CSV.get(kind, HOSTILE_RESULT_CSV["short-row"])
    bulk = _org(body, "text/csv", operation="insert" if call == "get_batch_results" else "query")
    with pytest.raises(errors.SfBulkError) as caught:
        CSV_CALLS[call](bulk)
    streamed = call != "get_batch_results"
    assert_refusal(caught.value, status=200, kind=errors.MalformedReplyError, streamed=streamed)


# --------------------------------------------------------------------------- content types

#: Bodies that would parse if their content type were believed.
_PLAUSIBLE = {
    "xml": job_xml("query", "XML"),
    "json": b'{"id": "7505j000000ZZZZAAA", "state": "Open"}',
    "csv": b'"Id","Name"\n"001x00000000001","A"\n',
}

OTHER_CALLS: dict[str, Callable[[Bulk], object]] = {
    "get_job": lambda bulk: bulk.get_job(JOB),
    "list_batches": lambda bulk: bulk.list_batches(JOB),
    "get_ingest_job": lambda bulk: bulk.get_ingest_job(V2_JOB),
    "create_query_job": lambda bulk: bulk.create_query_job("SELECT Id FROM Account"),
}


@pytest.mark.parametrize("media", ["text/html", "text/plain", "application/octet-stream"])
@pytest.mark.parametrize("body", sorted(_PLAUSIBLE))
@pytest.mark.parametrize("call", sorted({**CSV_CALLS, **OTHER_CALLS}))
def test_a_success_reply_of_an_unexpected_content_type_is_refused(
    call: str, body: str, media: str
) -> None:
    every: dict[str, Callable[[Bulk], object]] = {**CSV_CALLS, **OTHER_CALLS}
    if call in OTHER_CALLS:
        bulk = _bulk(lambda request: reply(200, _PLAUSIBLE[body], media))
    else:
        bulk = _org(
            _PLAUSIBLE[body], media, operation="insert" if call == "get_batch_results" else "query"
        )
    with pytest.raises(errors.SfBulkError) as caught:
        every[call](bulk)
    streamed = call.startswith("iter_")
    assert_refusal(caught.value, status=200, kind=errors.ProtocolError, streamed=streamed)
    assert media in str(caught.value)


def test_every_media_type_but_csv_json_and_xml_gets_a_refusing_decoder() -> None:
    for media in ("text/html", "text/plain", "", "application/pdf"):
        decoder = record_decoder(media)
        with pytest.raises(errors.MalformedReplyError, match="not CSV, JSON or XML"):
            decoder.feed(b"<html>")
        with pytest.raises(errors.MalformedReplyError):
            decoder.close()
