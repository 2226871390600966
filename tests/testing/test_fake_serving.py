"""The three ways to run the fake org: httpx transport, ASGI app, real server (+ CLI)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from fakeorg_support import DATALOAD, Tls

from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
    ManualClock,
)
from sfbulk_sdk.testing.server import serve_in_thread

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")


def login_body(
    username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN
) -> str:
    return (
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        f'<login xmlns="urn:partner.soap.sforce.com"><username>{username}</username>'
        f"<password>{password}</password></login></env:Body></env:Envelope>"
    )


def session_of(reply: httpx.Response) -> tuple[str, str]:
    text = reply.text
    server_url = text.split("<serverUrl>")[1].split("<")[0]
    return text.split("<sessionId>")[1].split("<")[0], server_url


JOB = (
    f'<jobInfo xmlns="{DATALOAD}"><operation>insert</operation><object>Account</object>'
    "<contentType>CSV</contentType></jobInfo>"
)


def insert_flow(client: httpx.Client, base: str, session: str) -> str:
    headers = {"X-SFDC-Session": session, "Content-Type": "application/xml"}
    job = client.post(f"{base}/services/async/62.0/job", content=JOB, headers=headers)
    assert job.status_code == 201, job.text
    job_id = job.text.split("<id>")[1].split("<")[0]
    batch = client.post(
        f"{base}/services/async/62.0/job/{job_id}/batch",
        content="Name\nServed\n",
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert batch.status_code == 201
    return job_id


@pytest.fixture
def served_http(clock: ManualClock) -> Iterator[tuple[FakeOrg, str]]:
    org = FakeOrg(clock=clock)
    with serve_in_thread(org) as url:
        yield org, url


def test_real_server_and_http_controls(served_http: tuple[FakeOrg, str]) -> None:
    org, url = served_http
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=url) as client:
        login = client.post("/services/Soap/u/60.0", content=login_body())
        session, server_url = session_of(login)
        assert server_url.startswith(f"{url}/services/Soap/u/60.0/")  # points back at the server
        insert_flow(client, url, session)
        stats = client.get("/_fake/stats").json()
        assert stats["logins"] == 1 and stats["requests"]["job_create"] == 1
        assert stats["records"]["Account"] == 1  # reading stats lets the batch finish
        rows = client.get("/_fake/records/Account").json()
        assert [r["Name"] for r in rows] == ["Served"]
        assert rows[0]["CreatedDate"] == "2024-05-06T07:08:09.000Z"
        seeded = client.post("/_fake/records/Contact", json=[{"LastName": "Seed"}])
        assert seeded.status_code == 201 and len(seeded.json()["ids"]) == 1
        bad_seed = client.post("/_fake/records/Contact", json=[{"FirstName": "NoLast"}])
        assert bad_seed.status_code == 400 and "REQUIRED_FIELD_MISSING" in bad_seed.json()["error"]
        assert client.get("/_fake/records/Nope__c").status_code == 404

        fault = client.post(
            "/_fake/faults",
            json={
                "path": "/job$",
                "status": 503,
                "exception_code": "ServerUnavailable",
                "count": 1,
            },
        )
        assert fault.status_code == 201 and fault.json()["count"] == 1
        assert [f["path"] for f in client.get("/_fake/faults").json()] == ["/job$"]
        failed = client.post(
            "/services/async/62.0/job", content=JOB, headers={"X-SFDC-Session": session}
        )
        assert failed.status_code == 503 and "ServerUnavailable" in failed.text
        client.post("/_fake/faults", json={"path": "x", "count": 3})
        assert client.delete("/_fake/faults").json() == {"cleared": 1}
        assert client.post("/_fake/faults", json={"colour": "red"}).status_code == 400

        client.post("/_fake/record-errors", json={"sobject": "Account", "count": 1})
        assert org.stats()["record_errors_pending"] == {"account": 1}

        assert client.post("/_fake/clock/advance", json={"seconds": 60}).json() == {
            "now": "2024-05-06T07:09:09+00:00"
        }
        jobs = client.get("/_fake/jobs").json()
        assert [j["state"] for j in jobs] == ["Open"]
        issued = client.post("/_fake/sessions", json={}).json()
        assert (
            issued["instance_url"] == url
            and org.state.accounts.authenticate(issued["session_id"]) is not None
        )

        assert client.post("/_fake/expire-sessions").json() == {"expired": 2}
        expired = client.get(
            f"/services/async/62.0/job/{jobs[0]['id']}", headers={"X-SFDC-Session": session}
        )
        assert expired.status_code == 400 and "InvalidSessionId" in expired.text
        assert client.get("/_fake/nothing").status_code == 404
        assert client.post("/_fake/faults", content=b"{not json").status_code == 400


def test_real_server_drops_connections(served_http: tuple[FakeOrg, str]) -> None:
    org, url = served_http
    org.inject_fault("/services/async/", drop_connection=True)
    with httpx.Client(base_url=url) as client:
        with pytest.raises(httpx.TransportError):
            client.get("/services/async/62.0/job/x")
        assert client.get("/_fake/stats").status_code == 200


def test_real_server_keeps_an_idle_connection_open_past_uvicorns_five_seconds(
    served_http: tuple[FakeOrg, str],
) -> None:
    """A connection idle for 6 s is still served (uvicorn's default keep-alive closes it at 5 s).

    The fake works on its event loop, so one client's big upload can hold it for
    seconds; with a 5 s keep-alive another client's pooled connection was closed
    just as it was reused, and requests raised ``RemoteDisconnected`` (seen with
    simple-salesforce's Bulk 2.0 insert of a million rows).
    """
    _, url = served_http
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/_fake/stats")
        first = conn.getresponse()
        assert first.status == 200 and json.loads(first.read())["logins"] == 0
        sock = conn.sock
        time.sleep(6)
        conn.request("GET", "/_fake/stats")  # the same socket, not a new one
        assert conn.sock is sock
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["logins"] == 0
    finally:
        conn.close()


def test_system_clock_cannot_be_advanced_over_http() -> None:
    org = FakeOrg()
    with httpx.Client(transport=FakeOrgTransport(org), base_url=org.instance_url) as client:
        assert client.post("/_fake/clock/advance", json={"seconds": 1}).status_code == 409


def test_https_server(tls: Tls) -> None:
    org = FakeOrg()
    with serve_in_thread(org, certfile=tls.cert_file, keyfile=tls.key_file) as url:
        assert url.startswith("https://127.0.0.1:")
        with httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=str(tls.ca_file))
        ) as client:
            session, server_url = session_of(
                client.post("/services/Soap/u/60.0", content=login_body())
            )
            assert server_url.startswith(url)
            insert_flow(client, url, session)
    assert [r["Name"] for r in org.records("Account")] == ["Served"]


@pytest.mark.anyio
async def test_asgi_app_in_process() -> None:
    from sfbulk_sdk.testing import create_app  # imported on first use (needs Starlette)

    org = FakeOrg()
    transport = httpx.ASGITransport(app=create_app(org))
    async with httpx.AsyncClient(transport=transport, base_url="https://asgi.example") as client:
        login = await client.post("/services/Soap/u/60.0", content=login_body())
        session, server_url = session_of(login)
        assert server_url.startswith("https://asgi.example/services/Soap/u/60.0/")
        headers = {"X-SFDC-Session": session, "Content-Type": "application/xml; charset=UTF-8"}
        job = await client.post("/services/async/62.0/job", content=JOB, headers=headers)
        assert job.status_code == 201 and job.headers["content-type"] == "application/xml"
        job_id = job.text.split("<id>")[1].split("<")[0]
        batch = await client.post(
            f"/services/async/62.0/job/{job_id}/batch",
            content="Name\nASGI\n",
            headers={**headers, "Content-Type": "text/csv; charset=UTF-8"},
        )
        batch_id = batch.text.split("<id>")[1].split("<")[0]
        result = await client.get(
            f"/services/async/62.0/job/{job_id}/batch/{batch_id}/result", headers=headers
        )
        assert result.headers["content-type"] == "text/csv"
        assert result.text.startswith('"Id","Success","Created","Error"\n"001')
    assert [r["Name"] for r in org.records("Account")] == ["ASGI"]


@pytest.mark.anyio
async def test_async_transport() -> None:
    org = FakeOrg()
    async with httpx.AsyncClient(
        transport=FakeOrgTransport(org), base_url=org.instance_url
    ) as client:
        session, _ = session_of(await client.post("/services/Soap/u/60.0", content=login_body()))
        reply = await client.post(
            "/services/async/62.0/job",
            content=json.dumps({"operation": "query", "object": "Account", "contentType": "JSON"}),
            headers={"X-SFDC-Session": session, "Content-Type": "application/json"},
        )
        assert reply.status_code == 201 and reply.json()["operation"] == "query"
    assert org.login_count == 1


def test_cli_help() -> None:
    typer_testing = pytest.importorskip("typer.testing")
    from sfbulk_sdk.cli import app

    runner = typer_testing.CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "fake-org" in result.output
    result = runner.invoke(app, ["fake-org", "--certfile", "cert.pem"])
    assert result.exit_code == 2 and "--keyfile" in result.output


def test_cli_serves_until_interrupted(tls: Tls) -> None:
    command = [
        sys.executable,
        "-c",
        "from sfbulk_sdk.cli import main; main()",
        "fake-org",
        "--port",
        "0",
        "--certfile",
        str(tls.cert_file),
        "--keyfile",
        str(tls.key_file),
        "--username",
        "cli@example.com",
        "--password",
        "pw",
        "--security-token",
        "TOK",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None
            banner = [process.stdout.readline() for _ in range(8)]
            assert banner[0].startswith("Fake Salesforce org listening on https://127.0.0.1:")
            url = banner[0].split()[-1]
            assert any("cli@example.com" in line for line in banner)
            trust = ssl.create_default_context(cafile=str(tls.ca_file))
            with httpx.Client(base_url=url, verify=trust) as client:
                login = client.post(
                    "/services/Soap/u/64.0", content=login_body("cli@example.com", "pwTOK")
                )
                assert login.status_code == 200
                assert client.get("/_fake/stats").json()["logins"] == 1
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode in (0, -signal.SIGINT, 130)
