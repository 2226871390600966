"""2xx replies the client cannot read raise ``ProtocolError`` (with the status), never a
parser's own exception or a silently short result.

Defects found by a correctness review of the client, one test each, against
``httpx.MockTransport``.
"""

from __future__ import annotations

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.models.xml import NS
from tests.client.mock_replies import BATCH, INSTANCE, JOB, SECRET, job_xml, query_org
from tests.timing import FakeTime


@pytest.mark.review("client")
@pytest.mark.parametrize(
    ("content_type", "media", "body"),
    [
        # a result file cut short (or an HTML page sent as XML): ElementTree.ParseError
        ("XML", "application/xml", f'<queryResult xmlns="{NS}"><records><Id>1'.encode()),
        # a field the csv module refuses (longer than its 131,072-character limit): csv.Error
        ("CSV", "text/csv", b'"Id","Name"\n"001","' + b"x" * 140_000 + b'"\n'),
        # a row with more or fewer values than the header: zip() dropped the difference
        ("CSV", "text/csv", b'"Id","Name"\n"001","A","surplus"\n'),
        ("CSV", "text/csv", b'"Id","Name"\n"001","A"\n"002"\n'),
    ],
)
def test_an_unreadable_query_result_file_raises_protocol_error(
    content_type: str, media: str, body: bytes
) -> None:
    bulk = Bulk(
        INSTANCE, SECRET, transport=query_org(body, media, content_type), **FakeTime().sync()
    )
    with pytest.raises(errors.ProtocolError) as caught:
        list(bulk.iter_query_results(JOB, BATCH))
    assert caught.value.status_code == 200


@pytest.mark.review("client")
def test_a_csv_batch_result_with_a_short_row_raises_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/job/{JOB}"):
            return httpx.Response(
                200, headers={"content-type": "application/xml"}, content=job_xml("query")
            )
        body = b'"Id","Success","Created","Error"\n"001x00000000001AAA","true"\n'
        return httpx.Response(200, headers={"content-type": "text/csv"}, content=body)

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.ProtocolError, match="batch results") as caught:
        bulk.get_batch_results(JOB, BATCH)
    assert caught.value.status_code == 200


@pytest.mark.review("client")
@pytest.mark.parametrize(
    ("media", "body"),
    [
        ("application/xml", f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"/>'),
        ("application/xml", f'<jobInfo xmlns="{NS}">Service Unavailable</jobInfo>'),
        ("application/json", "{}"),
    ],
)
def test_a_job_reply_without_a_job_id_raises_protocol_error(media: str, body: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, headers={"content-type": media}, content=body.encode())

    bulk = Bulk(INSTANCE, SECRET, transport=httpx.MockTransport(handler))
    with pytest.raises(errors.ProtocolError, match="jobInfo") as caught:
        bulk.create_job("insert", "Account")
    assert caught.value.status_code == 201
