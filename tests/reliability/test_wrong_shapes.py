"""Well-formed success replies of the wrong shape are refused, on every reply parser.

A 200 holding a JSON object that is not a batch list once became an empty
``BatchInfoList``, and one that is not a result a fake failed ``RecordResult``.
Each reply parser now checks that the body is the document it reads (Bulk 1.0
XML and JSON, Bulk 2.0 JSON, OAuth token replies, SOAP login replies) and
raises a ``MalformedReplyError`` / ``ProtocolError`` with the status otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth.soap import SoapLogin
from sfbulk_sdk.core import bulk2
from sfbulk_sdk.core.oauth import parse_token_response
from sfbulk_sdk.models.xml import NS
from tests.reliability.hostile import (
    ACCESS_TOKEN,
    BATCH,
    INSTANCE,
    JOB,
    SESSION_ID,
    STATIC_SESSION,
    assert_refusal,
    job_xml,
    reply,
)
from tests.timing import FakeTime

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

V2_JOB = "7505j000000ZZZZAAA"
_X = '<?xml version="1.0" encoding="UTF-8"?>'
_BATCH = f"<id>{BATCH}</id><jobId>{JOB}</jobId><state>Completed</state>"

#: (client call, job content type, reply media type, body) that must be refused.
BULK1_SHAPES: dict[str, tuple[str, str, str, str]] = {
    "job: a batchInfo": (
        "get_job",
        "XML",
        "xml",
        f'{_X}<batchInfo xmlns="{NS}">{_BATCH}</batchInfo>',
    ),
    "job: no id": ("get_job", "XML", "xml", f'<jobInfo xmlns="{NS}"><state>Open</state></jobInfo>'),
    "job: text only": ("get_job", "XML", "xml", f'<jobInfo xmlns="{NS}">Unavailable</jobInfo>'),
    "job: bad state": (
        "get_job",
        "XML",
        "xml",
        f'<jobInfo xmlns="{NS}"><id>{JOB}</id><state>Exploded</state></jobInfo>',
    ),
    "job json: array": ("get_job", "JSON", "json", "[]"),
    "job json: not a job": ("get_job", "JSON", "json", '{"foo": 1}'),
    "batches: a jobInfo": (
        "list_batches",
        "XML",
        "xml",
        f'<jobInfo xmlns="{NS}"><id>{JOB}</id></jobInfo>',
    ),
    "batches: a batch lacking fields": (
        "list_batches",
        "XML",
        "xml",
        f'<batchInfoList xmlns="{NS}"><batchInfo><id>{BATCH}</id></batchInfo></batchInfoList>',
    ),
    "batches json: not a batch list": ("list_batches", "JSON", "json", '{"foo": 1}'),
    "batches json: an array": ("list_batches", "JSON", "json", f'[{{"id": "{BATCH}"}}]'),
    "batches json: items not batches": ("list_batches", "JSON", "json", '{"batchInfo": [1, 2]}'),
    "batch: state unknown": (
        "get_batch",
        "XML",
        "xml",
        f'<batchInfo xmlns="{NS}"><id>{BATCH}</id><jobId>{JOB}</jobId>'
        "<state>Sideways</state></batchInfo>",
    ),
    "results: a result without success": (
        "get_batch_results",
        "XML",
        "xml",
        f'<results xmlns="{NS}"><result><id>001x00000000001AAA</id></result></results>',
    ),
    "results json: not a result": ("get_batch_results", "JSON", "json", '[{"foo": 1}]'),
    "results json: an object": ("get_batch_results", "JSON", "json", '{"foo": 1}'),
    "results json: success not a flag": (
        "get_batch_results",
        "JSON",
        "json",
        '[{"success": "perhaps", "created": false, "id": null, "errors": []}]',
    ),
    "result ids: not ids": (
        "get_query_result_ids",
        "XML",
        "xml",
        f'<result-list xmlns="{NS}"><result>not an id</result></result-list>',
    ),
    "result ids json: an object": ("get_query_result_ids", "JSON", "json", "{}"),
    "result ids json: numbers": ("get_query_result_ids", "JSON", "json", "[1, 2]"),
}

_CALLS: dict[str, Callable[[Bulk], object]] = {
    "get_job": lambda bulk: bulk.get_job(JOB),
    "list_batches": lambda bulk: bulk.list_batches(JOB),
    "get_batch": lambda bulk: bulk.get_batch(JOB, BATCH),
    "get_batch_results": lambda bulk: bulk.get_batch_results(JOB, BATCH),
    "get_query_result_ids": lambda bulk: bulk.get_query_result_ids(JOB, BATCH),
}


@pytest.mark.parametrize("case", sorted(BULK1_SHAPES))
def test_a_bulk1_reply_of_the_wrong_shape_is_refused(case: str) -> None:
    call, content_type, media, body = BULK1_SHAPES[case]
    learnt = call != "get_job"

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal learnt
        if learnt and request.url.path.endswith(f"/job/{JOB}"):
            learnt = False
            return reply(200, job_xml("insert", content_type), "application/xml")
        return reply(200, body.encode(), f"application/{media}")

    bulk = Bulk(INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(handler))
    if call != "get_job":
        bulk.get_job(JOB)
    with pytest.raises(errors.ProtocolError) as caught:
        _CALLS[call](bulk)
    assert_refusal(caught.value, status=200)
    assert caught.value.excerpt


BULK2_SHAPES: dict[str, tuple[Callable[[], object], str]] = {
    "ingest job: array": (lambda: bulk2.get_ingest_job(V2_JOB), "[]"),
    "ingest job: no id": (lambda: bulk2.get_ingest_job(V2_JOB), '{"state": "Open"}'),
    "ingest job: id not text": (lambda: bulk2.get_ingest_job(V2_JOB), '{"id": 5}'),
    "ingest job: bad state": (
        lambda: bulk2.get_ingest_job(V2_JOB),
        f'{{"id": "{V2_JOB}", "state": "Exploded"}}',
    ),
    "query job: a list": (lambda: bulk2.get_query_job(V2_JOB), f'[{{"id": "{V2_JOB}"}}]'),
    "result pages: not pages": (lambda: bulk2.result_pages(V2_JOB), '{"foo": 1}'),
    "result pages: pages without urls": (
        lambda: bulk2.result_pages(V2_JOB),
        '{"resultPages": [{"nope": 1}], "done": true}',
    ),
    "job list: not a list": (lambda: bulk2.list_jobs(), '{"foo": 1}'),
    "job list: records not jobs": (lambda: bulk2.list_jobs(), '{"records": [1], "done": true}'),
}


@pytest.mark.parametrize("case", sorted(BULK2_SHAPES))
def test_a_bulk2_reply_of_the_wrong_shape_is_refused(case: str) -> None:
    build, body = BULK2_SHAPES[case]
    call = build()
    with pytest.raises(errors.ProtocolError) as caught:
        call.parse(reply(200, body.encode(), "application/json"))  # type: ignore[attr-defined]
    assert_refusal(caught.value, status=200)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"a string"',
        '{"instance_url": "https://na1.example.test"}',
        f'{{"access_token": "{ACCESS_TOKEN}"}}',
        '{"access_token": "", "instance_url": "https://na1.example.test"}',
        '{"access_token": 42, "instance_url": "https://na1.example.test"}',
        f'{{"access_token": "{ACCESS_TOKEN}", "instance_url": "ftp://na1.example.test"}}',
        f'{{"access_token": "{ACCESS_TOKEN}", "instance_url": "https://"}}',
        f'{{"access_token": ["{ACCESS_TOKEN}"], "instance_url": "https://na1.example.test"}}',
    ],
)
def test_a_token_reply_of_the_wrong_shape_is_refused_without_the_token(body: str) -> None:
    with pytest.raises(errors.MalformedReplyError) as caught:
        parse_token_response(reply(200, body.encode(), "application/json"))
    assert_refusal(caught.value, status=200)
    assert caught.value.response is None  # the reply's body is the token itself


_ENV = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>'
)


@pytest.mark.parametrize(
    "body",
    [
        _ENV.format("<loginResponse><result><serverUrl>https://na1.example.test/s</serverUrl>"),
        _ENV.format(
            "<loginResponse><result><serverUrl>https://na1.example.test/s</serverUrl>"
            "</result></loginResponse>"
        ),
        _ENV.format(
            "<loginResponse><result><serverUrl>https://na1.example.test/s</serverUrl>"
            "<sessionId></sessionId></result></loginResponse>"
        ),
        _ENV.format(
            f"<loginResponse><result><serverUrl>/relative</serverUrl><sessionId>{SESSION_ID}"
            "</sessionId></result></loginResponse>"
        ),
        _ENV.format(
            f"<loginResponse><result><serverUrl>https://na1.example.test/s</serverUrl>"
            f"<sessionId>{SESSION_ID}</sessionId><userInfo><sessionSecondsValid>-5"
            "</sessionSecondsValid></userInfo></result></loginResponse>"
        ),
        _ENV.format("<somethingElse/>"),
        _ENV.format(f"<loginResponse>{SESSION_ID}</loginResponse>"),
        f"<Envelope><Body><loginResponse><result><sessionId>{SESSION_ID}</sessionId>"
        "</result></loginResponse></Body></Envelope>",
        f"<result><sessionId>{SESSION_ID}</sessionId></result>",
    ],
)
def test_a_soap_login_reply_of_the_wrong_shape_is_refused_without_the_session(body: str) -> None:
    auth = SoapLogin("user@example.com", "password-123", "token-456", login_url=INSTANCE)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(errors.ProtocolError) as caught:
        auth.parse_login_response(reply(200, body.encode(), "text/xml"), now=now)
    assert_refusal(caught.value, status=200)
    assert caught.value.__cause__ is None


def test_the_reported_json_cases_are_refused_through_the_client() -> None:
    """The two defects as found: a foreign object as a batch list, and as results."""
    answers = iter(
        [
            reply(200, job_xml("insert", "JSON"), "application/xml"),
            reply(200, b'{"unexpected": "object"}', "application/json"),
            reply(200, b'[{"unexpected": "object"}]', "application/json"),
        ]
    )
    bulk = Bulk(
        INSTANCE,
        STATIC_SESSION,
        transport=httpx.MockTransport(lambda request: next(answers)),
        **FakeTime().sync(),
    )
    bulk.get_job(JOB)
    with pytest.raises(errors.MalformedReplyError, match="batchInfo"):
        bulk.list_batches(JOB)
    with pytest.raises(errors.MalformedReplyError, match="success"):
        bulk.get_batch_results(JOB, BATCH)
