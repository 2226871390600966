"""Fault injection: failing requests, dropped connections, record errors, latency."""

from __future__ import annotations

import json

import httpx
import pytest
from fakeorg_support import BulkCaller

from sfbulk_sdk.models import BulkErrorInfo
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
    Fault,
)


def test_fail_next_requests_matching_a_path(org: FakeOrg) -> None:
    bulk = BulkCaller(org)
    job = bulk.create_job("insert", "Account")
    assert job.id is not None
    org.inject_fault(
        r"/batch$",
        count=2,
        status=503,
        exception_code="ServerUnavailable",
        message="try later",
        method="POST",
    )
    assert bulk.call("GET", f"/job/{job.id}/batch").status == 200  # GET does not match
    for _ in range(2):
        reply = bulk.call("POST", f"/job/{job.id}/batch", "Name\nA\n", content_type="text/csv")
        assert reply.status == 503 and reply.content_type == "application/xml"
        info = BulkErrorInfo.from_xml(reply.raw)
        assert (info.exception_code, info.exception_message) == ("ServerUnavailable", "try later")
    assert (
        bulk.call("POST", f"/job/{job.id}/batch", "Name\nA\n", content_type="text/csv").status
        == 201
    )
    stats = org.stats()
    assert stats["faults_fired"] == 2 and stats["faults_pending"] == 0
    assert org.count("Account") == 1  # the failed uploads were never queued


def test_fault_bodies_follow_the_api(org: FakeOrg) -> None:
    org.inject_fault("/services/Soap/", exception_code="PASSWORD_LOCKOUT", message="locked")
    org.inject_fault(
        "/services/async/", status=500, exception_code="InternalServerError", message="boom"
    )
    with httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url) as client:
        soap = client.post("/services/Soap/u/60.0", content="<x/>")
        assert soap.status_code == 500 and soap.headers["content-type"] == "text/xml; charset=utf-8"
        assert "<faultcode>sf:PASSWORD_LOCKOUT</faultcode>" in soap.text
        bulk = client.get(
            "/services/async/60.0/job/x", headers={"Content-Type": "application/json"}
        )
        assert bulk.status_code == 500
        assert json.loads(bulk.text) == {
            "exceptionCode": "InternalServerError",
            "exceptionMessage": "boom",
        }


def test_drop_connection(org: FakeOrg) -> None:
    org.inject_fault(r"/job$", drop_connection=True)
    bulk = BulkCaller(org)
    with pytest.raises(httpx.RemoteProtocolError):
        bulk.create_job("insert", "Account")
    assert bulk.create_job("insert", "Account").id is not None  # only once


@pytest.mark.anyio
async def test_drop_connection_async(org: FakeOrg) -> None:
    org.inject_fault("job", drop_connection=True)
    async with httpx.AsyncClient(
        transport=FakeOrgTransport(org), base_url=org.instance_url
    ) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/services/async/60.0/job/x")


def test_faults_never_hit_the_controls(org: FakeOrg) -> None:
    org.inject_fault(".*", count=5)
    with httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url) as client:
        assert client.get("/_fake/stats").status_code == 200
    assert len(org.faults.active()) == 1 and org.clear_faults() == 1


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault("x", count=0)
    with pytest.raises(ValueError):
        Fault("x", status=42)
    with pytest.raises(ValueError):
        Fault.from_dict({"path": "x", "colour": "red"})
    with pytest.raises(ValueError):
        Fault.from_dict({"count": 1})
    fault = Fault.from_dict({"path": "batch", "method": "post"})
    assert fault.matches("POST", "/services/async/60.0/job/1/batch")
    assert not fault.matches("GET", "/services/async/60.0/job/1/batch")


def test_unable_to_lock_row_on_demand(org: FakeOrg) -> None:
    bulk = BulkCaller(org)
    org.inject_record_errors("account", count=2)
    results = bulk.run_csv("insert", "Account", "Name\nA\nB\nC\n")
    assert [r.success for r in results] == [False, False, True]
    assert results[0].errors[0].to_csv_text() == (
        "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record: --"
    )
    assert org.count("Account") == 1
    org.inject_record_errors(
        "Account", status_code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="no", fields=["Name"]
    )
    assert org.stats()["record_errors_pending"] == {"account": 1}
    again = bulk.run_csv("insert", "Account", "Name\nD\n")
    assert again[0].errors[0].to_csv_text() == "FIELD_CUSTOM_VALIDATION_EXCEPTION:no:Name --"


def test_latency_goes_through_the_sleep_seams() -> None:
    org = FakeOrg(latency=0.25)
    slept: list[float] = []
    transport = FakeOrgTransport(org, sleep=slept.append)
    with httpx.Client(transport=transport, base_url=org.instance_url) as client:
        client.get("/_fake/stats")
        client.post(
            "/services/Soap/u/60.0",
            content=(
                '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
                '<login xmlns="urn:partner.soap.sforce.com">'
                f"<username>{DEFAULT_USERNAME}</username>"
                f"<password>{DEFAULT_PASSWORD}{DEFAULT_SECURITY_TOKEN}</password></login></e:Body></e:Envelope>"
            ),
        )
    assert slept == [0.25, 0.25]


@pytest.mark.anyio
async def test_latency_async_seam() -> None:
    org = FakeOrg(latency=0.5)
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    transport = FakeOrgTransport(org, async_sleep=record)
    async with httpx.AsyncClient(transport=transport, base_url=org.instance_url) as client:
        reply = await client.get("/_fake/stats")
    assert reply.status_code == 200 and slept == [0.5]
