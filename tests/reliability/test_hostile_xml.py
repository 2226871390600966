"""Hostile or broken XML on every XML parse path: whole bodies, streamed query results,
SOAP login replies, and the client's success and error replies.

A DTD, an entity declaration or reference, an external entity or entity
amplification is refused as ``UnsafeXmlError`` before anything is expanded;
an unknown encoding, 100,000 levels of nesting, a truncated body, an HTML page,
binary or empty bodies raise a ``MalformedReplyError`` (the client: a
``ProtocolError`` with the HTTP status, or the ``APIError`` the status says),
each with a short excerpt and no secret, and never a parser's own exception.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth.soap import SoapLogin, parse_login_result
from sfbulk_sdk.core.decoders import XmlRecordDecoder
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
from sfbulk_sdk.models.xml import parse_xml
from tests.reliability.hostile import (
    BATCH,
    HOSTILE_XML,
    INSTANCE,
    JOB,
    RESULT,
    STATIC_SESSION,
    UNSAFE_XML,
    assert_refusal,
    job_xml,
    reply,
)
from tests.timing import FakeTime

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")


def _decode_whole(body: bytes) -> object:
    decoder = XmlRecordDecoder()
    return [*decoder.feed(body), *decoder.close()]


def _decode_chunked(body: bytes) -> object:
    decoder = XmlRecordDecoder()
    out = []
    for start in range(0, len(body), 61):
        out += decoder.feed(body[start : start + 61])
    return [*out, *decoder.close()]


def _soap_login(body: bytes) -> object:
    auth = SoapLogin("user@example.com", "password-123", "token-456", login_url=INSTANCE)
    return auth.parse_login_response(reply(200, body, "text/xml"), now=NOW)


#: Every whole-body and streamed XML parser, by name.
XML_PARSERS: dict[str, Callable[[bytes], object]] = {
    "parse_xml": lambda body: parse_xml(body, "jobInfo"),
    "JobInfo.from_xml": JobInfo.from_xml,
    "BatchInfo.from_xml": BatchInfo.from_xml,
    "BatchInfoList.from_xml": BatchInfoList.from_xml,
    "BatchResult.from_xml": BatchResult.from_xml,
    "QueryResultList.from_xml": QueryResultList.from_xml,
    "BulkErrorInfo.from_xml": BulkErrorInfo.from_xml,
    "LoginResult.from_xml": LoginResult.from_xml,
    "Session.from_xml": lambda body: Session.from_xml(body, now=NOW),
    "parse_login_result": lambda body: parse_login_result(body, status_code=200),
    "SoapLogin.parse_login_response": _soap_login,
    "XmlRecordDecoder(whole)": _decode_whole,
    "XmlRecordDecoder(chunked)": _decode_chunked,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
@pytest.mark.parametrize("parser", sorted(XML_PARSERS))
def test_every_xml_parser_refuses_hostile_xml_with_an_sdk_error(parser: str, kind: str) -> None:
    body = HOSTILE_XML[kind]
    expected = errors.UnsafeXmlError if kind in UNSAFE_XML else errors.ProtocolError
    started = time.perf_counter()
    with pytest.raises(errors.SfBulkError) as caught:
        XML_PARSERS[parser](body)
    assert time.perf_counter() - started < 5
    assert_refusal(caught.value, kind=expected)
    if parser.startswith(("SoapLogin", "parse_login")):
        assert caught.value.status_code == 200  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", sorted(UNSAFE_XML))
def test_entities_are_refused_before_anything_is_expanded(kind: str) -> None:
    """The refusal comes at the declaration: no element is ever reached, nothing grows."""
    body = HOSTILE_XML[kind]
    tracemalloc.start()
    try:
        for parse in XML_PARSERS.values():
            with pytest.raises(errors.UnsafeXmlError, match=r"DTD|entity"):
                parse(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # a billion laughs expanded would be gigabytes


def test_an_entity_value_never_reaches_a_record() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE queryResult [<!ENTITY x "EXPANDED">]>'
        b'<queryResult xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
        b"<records><Id>&x;</Id></records></queryResult>"
    )
    decoder = XmlRecordDecoder()
    with pytest.raises(errors.UnsafeXmlError):
        decoder.feed(body)


# --------------------------------------------------------------------------- the client


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> Bulk:
    return Bulk(
        INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(handler), **FakeTime().sync()
    )


#: The client calls that parse an XML reply, each with the job reply it needs first.
CLIENT_CALLS: dict[str, Callable[[Bulk], object]] = {
    "get_job": lambda bulk: bulk.get_job(JOB),
    "list_batches": lambda bulk: bulk.list_batches(JOB),
    "get_batch": lambda bulk: bulk.get_batch(JOB, BATCH),
    "get_batch_results": lambda bulk: bulk.get_batch_results(JOB, BATCH),
    "get_query_result_ids": lambda bulk: bulk.get_query_result_ids(JOB, BATCH),
    "iter_query_results": lambda bulk: list(
        bulk.iter_query_results(JOB, BATCH, result_ids=[RESULT])
    ),
}


def _hostile_org(body: bytes, *, learn: bool) -> Callable[[httpx.Request], httpx.Response]:
    """An XML query job whose every reply is ``body``, but the first ``GET job`` when
    the client must ``learn`` the job's content type from it."""
    first = learn

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal first
        if first and request.url.path.endswith(f"/job/{JOB}"):
            first = False
            return reply(200, job_xml("query", "XML"), "application/xml")
        return reply(200, body, "application/xml")

    return handler


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
@pytest.mark.parametrize("call", sorted(CLIENT_CALLS))
def test_client_success_replies_of_hostile_xml_raise_protocol_error(call: str, kind: str) -> None:
    bulk = _client(_hostile_org(HOSTILE_XML[kind], learn=call != "get_job"))
    if call != "get_job":
        bulk.get_job(JOB)
    expected = errors.UnsafeXmlError if kind in UNSAFE_XML else errors.ProtocolError
    with pytest.raises(errors.SfBulkError) as caught:
        CLIENT_CALLS[call](bulk)
    assert_refusal(caught.value, status=200, kind=expected, streamed=call == "iter_query_results")
    if kind not in ("empty",):
        assert caught.value.excerpt  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [400, 500, 503])
@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_client_error_replies_of_hostile_xml_raise_the_api_error_of_the_status(
    kind: str, status: int
) -> None:
    bulk = _client(lambda request: reply(status, HOSTILE_XML[kind], "application/xml"))
    with pytest.raises(errors.APIError) as caught:
        bulk.get_job(JOB)
    assert_refusal(caught.value, status=status)
    assert caught.value.code == ("InternalServerError" if status >= 500 else f"HTTP{status}")
    assert isinstance(caught.value, errors.ServerError) == (status >= 500)


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_a_soap_login_through_the_client_refuses_hostile_xml(kind: str) -> None:
    bulk = Bulk(
        transport=httpx.MockTransport(lambda request: reply(200, HOSTILE_XML[kind], "text/xml")),
        **FakeTime().sync(),
    )
    with pytest.raises(errors.SfBulkError) as caught:
        bulk.login("user@example.com", "password-123", "token-456")
    expected = errors.UnsafeXmlError if kind in UNSAFE_XML else errors.ProtocolError
    assert_refusal(caught.value, status=200, kind=expected)
