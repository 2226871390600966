"""Replies a real org sends that the recorded fixtures do not show, read as meant.

* a text element that comes empty (``<exceptionMessage/>``, ``<message></message>``)
  or a JSON ``null`` message: read as ``""``, keeping the rest of the reply (the
  error code that says the session expired, a batch's other results);
* a Bulk 2.0 job list that holds a Bulk 1.0 job (``jobType`` ``Classic``) in its
  ``Closed`` state;
* a token reply whose ``issued_at`` is no time: the SDK's own error, not a raw
  ``OSError`` / ``OverflowError``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.auth import ClientCredentials, StaticSession
from sfbulk_sdk.models import BatchResult, BulkErrorInfo
from sfbulk_sdk.models.bulk2 import Bulk2JobState, JobList
from sfbulk_sdk.models.xml import NS

NOW = datetime(2026, 12, 4, tzinfo=timezone.utc)
INSTANCE = "https://acme.my.salesforce.com"
EXPIRED = (
    f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{NS}">'
    "<exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage/></error>"
)


def test_an_error_with_an_empty_message_keeps_its_code() -> None:
    assert BulkErrorInfo.from_xml(EXPIRED).exception_code == "InvalidSessionId"

    def expired(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, headers={"content-type": "application/xml"}, text=EXPIRED)

    auth = StaticSession(INSTANCE, "00D000000000001!session")
    bulk = Bulk(auth=auth, transport=httpx.MockTransport(expired))
    with bulk, pytest.raises(errors.SfBulkError) as caught:
        bulk.get_job("750000000000001AAA")
    # the expired session is recognised (not a bare "HTTP400" APIError)
    chain = [caught.value, caught.value.__cause__, caught.value.__context__]
    assert any(isinstance(e, errors.InvalidSessionError) for e in chain), chain


def test_record_errors_with_an_empty_or_null_message_are_read() -> None:
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><results xmlns="{NS}">'
        "<result><id>001000000000001AAA</id><success>true</success><created>true</created>"
        "</result><result><errors><statusCode>UNKNOWN_EXCEPTION</statusCode><message></message>"
        "</errors><success>false</success><created>false</created></result></results>"
    )
    rows = BatchResult.from_xml(xml).result
    assert [r.success for r in rows] == [True, False]
    assert [(e.status_code, e.message) for e in rows[1].errors] == [("UNKNOWN_EXCEPTION", "")]
    document = [
        {
            "success": False,
            "created": False,
            "id": None,
            "errors": [{"statusCode": "UNKNOWN_EXCEPTION", "message": None, "fields": []}],
        }
    ]
    (row,) = BatchResult.from_json(json.dumps(document)).result
    assert [(e.status_code, e.message) for e in row.errors] == [("UNKNOWN_EXCEPTION", "")]


def _token_reply(status: int, document: dict[str, object]) -> httpx.Response:
    request = httpx.Request("POST", f"{INSTANCE}/services/oauth2/token")
    return httpx.Response(status, json=document, request=request)


def test_an_oauth_refusal_with_a_null_description_keeps_its_error() -> None:
    flow = ClientCredentials("client-id", "client-secret", INSTANCE)
    reply = _token_reply(400, {"error": "invalid_grant", "error_description": None})
    with pytest.raises(errors.InvalidGrantError):
        flow.parse_login_response(reply, now=NOW)


@pytest.mark.parametrize(
    "issued_at", ["99999999999999999999", 10**20, "9" * 400, "\uff11\uff12\uff13"]
)
def test_a_token_reply_whose_issued_at_is_no_time_is_the_sdks_error(issued_at: object) -> None:
    flow = ClientCredentials("client-id", "client-secret", INSTANCE)
    reply = _token_reply(
        200,
        {
            "access_token": "00D000000000001!token",
            "instance_url": INSTANCE,
            "id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": "c2ln",
        },
    )
    with pytest.raises(errors.MalformedReplyError, match="issued_at"):
        flow.parse_login_response(reply, now=NOW)


def test_a_job_list_holding_a_closed_bulk1_job_is_read() -> None:
    page = {
        "done": True,
        "records": [
            {
                "id": "750000000000001AAA",
                "operation": "insert",
                "object": "Account",
                "state": "JobComplete",
                "jobType": "V2Ingest",
                "apiVersion": 68.0,
            },
            {
                "id": "750000000000002AAA",
                "operation": "update",
                "object": "Contact",
                "state": "Closed",
                "jobType": "Classic",
                "apiVersion": 68.0,
            },
        ],
    }
    jobs = JobList.from_json(json.dumps(page))
    assert [job.state for job in jobs] == [Bulk2JobState.JOB_COMPLETE, Bulk2JobState.CLOSED]


def test_a_csv_batch_result_with_a_byte_order_mark_reads_as_bytes_or_text() -> None:
    body = '\ufeff"Id","Success","Created","Error"\n"001000000000001AAA","true","true",""\n'
    for data in (body, body.encode("utf-8")):
        (row,) = BatchResult.from_csv(data).result
        assert row.success and row.id == "001000000000001AAA"
