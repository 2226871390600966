"""Bulk API 1.0 replies for ``httpx.MockTransport``, for the client tests without an org.

Imported as ``from tests.client.mock_replies import ...``.
"""

from __future__ import annotations

import httpx

from sfbulk_sdk.models.xml import NS

SECRET = "00Dx0000000TEST!SECRET.session.id"
JOB = "750x0000000001AAAA"
BATCH = "751x0000000001AAAA"
RESULT = "752x0000000001A"  # result ids are 15 characters on the wire
INSTANCE = "https://na1.example.test/"


def job_xml(operation: str = "insert", state: str = "Open", content_type: str = "CSV") -> bytes:
    """A ``jobInfo`` of job ``JOB`` on Account."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS}"><id>{JOB}</id>'
        f"<operation>{operation}</operation><object>Account</object>"
        f"<state>{state}</state><contentType>{content_type}</contentType></jobInfo>"
    ).encode()


def result_list_xml() -> bytes:
    return f'<result-list xmlns="{NS}"><result>{RESULT}</result></result-list>'.encode()


def query_org(
    body: bytes | httpx.SyncByteStream | httpx.AsyncByteStream, media: str, content_type: str
) -> httpx.MockTransport:
    """A query job with one batch and one result file whose reply is ``body``."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(f"/job/{JOB}"):
            return httpx.Response(
                200,
                headers={"content-type": "application/xml"},
                content=job_xml("query", content_type=content_type),
            )
        if path.endswith("/result"):
            return httpx.Response(
                200, headers={"content-type": "application/xml"}, content=result_list_xml()
            )
        assert path.endswith(f"/result/{RESULT}")
        if isinstance(body, bytes):
            return httpx.Response(200, headers={"content-type": media}, content=body)
        return httpx.Response(200, headers={"content-type": media}, stream=body)

    return httpx.MockTransport(handler)
