"""Property-based fuzzing of every parser and decoder: nothing but the SDK's own errors.

Each parser gets :data:`EXAMPLES` examples, half arbitrary bytes and half
near-valid documents of its format (see :mod:`tests.reliability.strategies`),
whole and, for the streaming decoders, cut at random points. Whatever the
input, a parser returns or raises an :class:`~sfbulk_sdk.errors.SfBulkError`:
never ``RecursionError``, ``LookupError``, ``UnicodeDecodeError``,
``csv.Error``, ``ExpatError`` or pydantic's ``ValidationError``. Sizes are
bounded, so no example can hang. ``EXAMPLES`` is set explicitly (and so is the
database: none, so a run leaves nothing behind).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfbulk_sdk import errors
from sfbulk_sdk.core import bulk1, bulk2
from sfbulk_sdk.core.decoders import record_decoder
from sfbulk_sdk.core.oauth import parse_token_response
from sfbulk_sdk.models import (
    BatchInfo,
    BatchInfoList,
    BatchResult,
    BulkErrorInfo,
    JobInfo,
    LoginResult,
    QueryResultList,
    Session,
)
from sfbulk_sdk.models.bulk2 import IngestJobInfo, JobList, RestErrors, ResultPages
from sfbulk_sdk.models.oauth import TokenResponse
from sfbulk_sdk.models.xml import parse_xml
from tests.reliability.strategies import chunked, csv_documents, json_documents, xml_documents

#: Examples per parser (and per decoder).
EXAMPLES = 300
#: Examples actually run, by parser (each test checks its own and prints it: ``pytest -s``).
RUN: Counter[str] = Counter()
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

_noise = st.binary(max_size=512)
XML_INPUT = _noise | xml_documents()
JSON_INPUT = _noise | json_documents()
CSV_INPUT = _noise | csv_documents()


def _response(status: int, media: str) -> Callable[[bytes], httpx.Response]:
    return lambda body: httpx.Response(status, headers={"content-type": media}, content=body)


#: Whole-body parsers: (parser, the inputs it is fuzzed with).
PARSERS: dict[str, tuple[Callable[[bytes], object], st.SearchStrategy[bytes]]] = {
    "parse_xml": (lambda b: parse_xml(b, ["jobInfo", "queryResult", "Envelope"]), XML_INPUT),
    "JobInfo.from_xml": (JobInfo.from_xml, XML_INPUT),
    "BatchInfo.from_xml": (BatchInfo.from_xml, XML_INPUT),
    "BatchInfoList.from_xml": (BatchInfoList.from_xml, XML_INPUT),
    "BatchResult.from_xml": (BatchResult.from_xml, XML_INPUT),
    "QueryResultList.from_xml": (QueryResultList.from_xml, XML_INPUT),
    "BulkErrorInfo.from_xml": (BulkErrorInfo.from_xml, XML_INPUT),
    "LoginResult.from_soap_reply": (
        lambda b: LoginResult.from_soap_reply(b, status_code=200, secrets=["password-1"]),
        XML_INPUT,
    ),
    "Session.from_xml": (lambda b: Session.from_xml(b, now=NOW), XML_INPUT),
    "JobInfo.from_json": (JobInfo.from_json, JSON_INPUT),
    "BatchInfoList.from_json": (BatchInfoList.from_json, JSON_INPUT),
    "BatchResult.from_json": (BatchResult.from_json, JSON_INPUT),
    "QueryResultList.from_json": (QueryResultList.from_json, JSON_INPUT),
    "IngestJobInfo.from_json": (IngestJobInfo.from_json, JSON_INPUT),
    "JobList.from_json": (JobList.from_json, JSON_INPUT),
    "ResultPages.from_json": (ResultPages.from_json, JSON_INPUT),
    "RestErrors.from_json": (RestErrors.from_json, JSON_INPUT),
    "Session.from_json": (Session.from_json, JSON_INPUT),
    "TokenResponse.from_json": (TokenResponse.from_json, JSON_INPUT),
    "BatchResult.from_csv": (BatchResult.from_csv, CSV_INPUT),
    "parse_token_response(200)": (
        lambda b: parse_token_response(_response(200, "application/json")(b)),
        JSON_INPUT,
    ),
    "parse_token_response(400)": (
        lambda b: parse_token_response(_response(400, "application/json")(b)),
        JSON_INPUT,
    ),
    "bulk1 jobInfo reply (XML)": (
        lambda b: bulk1.get_job("750x0000000001AAAA").parse(_response(200, "application/xml")(b)),
        XML_INPUT,
    ),
    "bulk1 batch results reply (CSV)": (
        lambda b: bulk1.get_batch_results("750x0000000001AAAA", "751x0000000001AAAA").parse(
            _response(200, "text/csv")(b)
        ),
        CSV_INPUT,
    ),
    "bulk2 ingest job reply": (
        lambda b: bulk2.get_ingest_job("7505j000000ZZZZAAA").parse(
            _response(200, "application/json")(b)
        ),
        JSON_INPUT,
    ),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_parser_raises_nothing_but_sdk_errors(name: str) -> None:
    parse, inputs = PARSERS[name]

    @FUZZ
    @given(inputs)
    def check(body: bytes) -> None:
        RUN[name] += 1
        with contextlib.suppress(errors.SfBulkError):
            parse(body)

    check()
    _report(name)


@pytest.mark.parametrize("status", [400, 500])
def test_an_error_reply_always_becomes_an_api_error(status: int) -> None:
    """``parse_error`` never raises: whatever the body, an ``APIError`` of the status."""

    @FUZZ
    @given(XML_INPUT | JSON_INPUT, st.sampled_from(["application/xml", "application/json", ""]))
    def check(body: bytes, media: str) -> None:
        RUN[f"parse_error({status})"] += 1
        response = httpx.Response(status, headers={"content-type": media}, content=body)
        error = bulk1.parse_error(response)
        assert isinstance(error, errors.APIError) and error.status_code == status
        assert error.excerpt is None or len(error.excerpt) <= 200

    check()
    _report(f"parse_error({status})")


DECODERS: dict[str, tuple[str, st.SearchStrategy[bytes]]] = {
    "CsvRecordDecoder": ("text/csv", CSV_INPUT),
    "JsonRecordDecoder": ("application/json", JSON_INPUT),
    "XmlRecordDecoder": ("application/xml", XML_INPUT),
}


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_a_decoder_raises_nothing_but_sdk_errors_whatever_the_chunks(name: str) -> None:
    media, inputs = DECODERS[name]

    @FUZZ
    @given(inputs, st.lists(st.integers(0, 600), max_size=12))
    def check(body: bytes, cuts: list[int]) -> None:
        RUN[name] += 1
        for pieces in ([body], chunked(body, cuts)):
            decoder = record_decoder(media)
            refused: errors.SfBulkError | None = None
            try:
                for piece in pieces:
                    decoder.feed(piece)
                decoder.close()
            except errors.SfBulkError as exc:
                refused = exc
            if refused is not None:
                assert isinstance(refused, errors.MalformedReplyError)
                assert refused.excerpt is None or len(refused.excerpt) <= 200

    check()
    _report(name)


def _report(name: str) -> None:
    print(f"fuzz examples: {name}: {RUN[name]}")
    assert RUN[name] >= EXAMPLES
