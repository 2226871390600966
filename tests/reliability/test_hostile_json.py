"""Hostile or broken JSON on every JSON parse path: the models' ``from_json``, stored
sessions, OAuth token replies, streamed query results, and the clients' Bulk 1.0
JSON jobs, Bulk 2.0 replies, OAuth logins and REST error arrays.

100,000 levels of nesting, truncated, non-JSON, binary or empty bodies, HTML
pages from a proxy, ``NaN`` and integers too long to convert raise a
``MalformedReplyError`` (a client: a ``ProtocolError`` with the HTTP status, an
``OAuthError`` or the ``APIError`` the status says), with a short excerpt and no
secret: never ``RecursionError``, ``JSONDecodeError``, ``UnicodeDecodeError`` or
pydantic's ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth.oauth import ClientCredentials
from sfbulk_sdk.core.decoders import JsonRecordDecoder
from sfbulk_sdk.core.oauth import parse_token_response
from sfbulk_sdk.models import (
    BatchInfo,
    BatchInfoList,
    BatchResult,
    BulkErrorInfo,
    JobInfo,
    QueryResultList,
    Session,
)
from sfbulk_sdk.models.base import load_json
from sfbulk_sdk.models.bulk2 import (
    IngestJobInfo,
    JobList,
    QueryJobInfo,
    RestErrors,
    ResultPages,
)
from sfbulk_sdk.models.oauth import TokenResponse
from tests.reliability.hostile import (
    BATCH,
    HOSTILE_JSON,
    INSTANCE,
    JOB,
    RESULT,
    STATIC_SESSION,
    assert_refusal,
    job_xml,
    reply,
)
from tests.timing import FakeTime

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
INGEST = "7505j000000ZZZZAAA"


def _decode(body: bytes, size: int) -> object:
    decoder = JsonRecordDecoder()
    out = []
    for start in range(0, len(body), size):
        out += decoder.feed(body[start : start + size])
    return [*out, *decoder.close()]


#: Every whole-body and streamed JSON parser, by name.
JSON_PARSERS: dict[str, Callable[[bytes], object]] = {
    "load_json": load_json,
    "JobInfo.from_json": JobInfo.from_json,
    "BatchInfo.from_json": BatchInfo.from_json,
    "BatchInfoList.from_json": BatchInfoList.from_json,
    "BatchResult.from_json": BatchResult.from_json,
    "QueryResultList.from_json": QueryResultList.from_json,
    "BulkErrorInfo.from_json": BulkErrorInfo.from_json,
    "IngestJobInfo.from_json": IngestJobInfo.from_json,
    "QueryJobInfo.from_json": QueryJobInfo.from_json,
    "JobList.from_json": JobList.from_json,
    "ResultPages.from_json": ResultPages.from_json,
    "RestErrors.from_json": RestErrors.from_json,
    "Session.from_json": Session.from_json,
    "TokenResponse.from_json": TokenResponse.from_json,
    "parse_token_response": lambda body: parse_token_response(reply(200, body, "application/json")),
    "JsonRecordDecoder(whole)": lambda body: _decode(body, max(len(body), 1)),
    "JsonRecordDecoder(chunked)": lambda body: _decode(body, 97),
}

#: Bodies load_json accepts (it parses JSON, whatever its shape).
_WELL_FORMED: frozenset[str] = frozenset()


@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
@pytest.mark.parametrize("parser", sorted(JSON_PARSERS))
def test_every_json_parser_refuses_hostile_json_with_an_sdk_error(parser: str, kind: str) -> None:
    if parser == "load_json" and kind in _WELL_FORMED:
        pytest.skip("well-formed JSON (Python's json reads NaN): the models refuse it")
    with pytest.raises(errors.SfBulkError) as caught:
        JSON_PARSERS[parser](HOSTILE_JSON[kind])
    assert_refusal(caught.value, kind=errors.MalformedReplyError)
    if parser == "parse_token_response":
        assert caught.value.status_code == 200  # type: ignore[attr-defined]


@pytest.mark.parametrize("parser", ["Session.from_json", "TokenResponse.from_json"])
def test_a_refused_secret_document_chains_nothing_that_quotes_it(parser: str) -> None:
    body = b'{"session_id": 42, "access_token": ["00Dx0000000HOST!AQ4AQHostileSessionTokenValue"]}'
    with pytest.raises(errors.MalformedReplyError) as caught:
        JSON_PARSERS[parser](body)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert_refusal(caught.value)


# --------------------------------------------------------------------------- the clients


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> Bulk:
    return Bulk(
        INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(handler), **FakeTime().sync()
    )


def _json_job_org(body: bytes, media: str = "application/json") -> Bulk:
    """A JSON query job (learnt from its XML jobInfo) whose every other reply is ``body``."""
    first = True

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal first
        if first:
            first = False
            return reply(200, job_xml("query", "JSON"), "application/xml")
        return reply(200, body, media)

    bulk = _client(handler)
    bulk.get_job(JOB)
    return bulk


BULK1_JSON_CALLS: dict[str, Callable[[Bulk], object]] = {
    "get_job": lambda bulk: bulk.get_job(JOB),
    "list_batches": lambda bulk: bulk.list_batches(JOB),
    "get_batch": lambda bulk: bulk.get_batch(JOB, BATCH),
    "get_batch_results": lambda bulk: bulk.get_batch_results(JOB, BATCH),
    "get_query_result_ids": lambda bulk: bulk.get_query_result_ids(JOB, BATCH),
    "iter_query_results": lambda bulk: list(
        bulk.iter_query_results(JOB, BATCH, result_ids=[RESULT])
    ),
}

BULK2_CALLS: dict[str, Callable[[Bulk], object]] = {
    "get_ingest_job": lambda bulk: bulk.get_ingest_job(INGEST),
    "get_query_job": lambda bulk: bulk.get_query_job(INGEST),
    "create_ingest_job": lambda bulk: bulk.create_ingest_job("insert", "Account"),
    "create_query_job": lambda bulk: bulk.create_query_job("SELECT Id FROM Account"),
    "upload_complete": lambda bulk: bulk.upload_complete(INGEST),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
@pytest.mark.parametrize("call", sorted(BULK1_JSON_CALLS))
def test_bulk1_json_replies_that_are_hostile_raise_protocol_error(call: str, kind: str) -> None:
    bulk = _json_job_org(HOSTILE_JSON[kind])
    with pytest.raises(errors.SfBulkError) as caught:
        BULK1_JSON_CALLS[call](bulk)
    assert_refusal(caught.value, status=200, kind=errors.ProtocolError)


@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
@pytest.mark.parametrize("call", sorted(BULK2_CALLS))
def test_bulk2_replies_that_are_hostile_raise_protocol_error(call: str, kind: str) -> None:
    bulk = _client(lambda request: reply(200, HOSTILE_JSON[kind], "application/json"))
    with pytest.raises(errors.SfBulkError) as caught:
        BULK2_CALLS[call](bulk)
    assert_refusal(caught.value, status=200, kind=errors.ProtocolError)
    assert caught.value.excerpt is not None or not HOSTILE_JSON[kind]  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [400, 401, 404, 500])
@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
def test_rest_error_replies_that_are_hostile_raise_the_api_error_of_the_status(
    kind: str, status: int
) -> None:
    bulk = _client(lambda request: reply(status, HOSTILE_JSON[kind], "application/json"))
    with pytest.raises(errors.APIError) as caught:
        bulk.get_ingest_job(INGEST)
    assert_refusal(caught.value, status=status)
    assert isinstance(caught.value, errors.ServerError) == (status >= 500)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"[1, 2]",
        b'[{"message": "no code"}]',
        b'[{"errorCode": {"nested": 1}, "message": ["x"]}]',
        b'{"errorCode": 42}',
        b'"INVALID_SESSION_ID"',
    ],
)
def test_rest_error_arrays_of_the_wrong_shape_fall_back_to_the_status(body: bytes) -> None:
    bulk = _client(lambda request: reply(400, body, "application/json"))
    with pytest.raises(errors.APIError) as caught:
        bulk.get_ingest_job(INGEST)
    assert caught.value.code == "HTTP400" and caught.value.status_code == 400
    assert_refusal(caught.value)


def _oauth_client(status: int, body: bytes, media: str | None) -> Bulk:
    auth = ClientCredentials(
        "client-id-123", "client-secret-456789", "https://acme.my.salesforce.com"
    )
    return Bulk(
        auth=auth,
        transport=httpx.MockTransport(lambda request: reply(status, body, media)),
        **FakeTime().sync(),
    )


@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
def test_an_oauth_login_refuses_a_hostile_token_reply(kind: str) -> None:
    bulk = _oauth_client(200, HOSTILE_JSON[kind], "application/json")
    with pytest.raises(errors.SfBulkError) as caught:
        bulk.get_job(JOB)
    assert_refusal(caught.value, status=200, kind=errors.ProtocolError)


@pytest.mark.parametrize("status", [400, 401, 500])
@pytest.mark.parametrize("kind", sorted(HOSTILE_JSON))
def test_an_oauth_refusal_that_is_hostile_is_an_oauth_error_with_its_status(
    kind: str, status: int
) -> None:
    bulk = _oauth_client(status, HOSTILE_JSON[kind], "application/json")
    with pytest.raises(errors.SfBulkError) as caught:
        bulk.get_job(JOB)
    assert_refusal(caught.value, status=status, kind=errors.LoginError)
