"""HTTP timeouts: finite by default, a silent server or a stalled download ends in a
typed error (or a resumed download), and logins time out inside the refresh lock's TTL.

Peer complaint 10 (no HTTP timeouts, so requests hang forever) of
spec/peers.md §3, against sockets on 127.0.0.1 that never answer or stall.
"""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, ContentType, RetryPolicy, errors
from sfbulk_sdk._base import LOGIN_TIMEOUT
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.org_clients import soap_auth
from tests.timing import FakeTime


@pytest.mark.peer(complaint=10)
def test_default_http_timeouts_are_finite() -> None:
    """Complaint 10 (spec/peers.md §3: no HTTP timeouts): every default timeout of
    the client's HTTP client is finite."""
    bulk = Bulk()
    timeout = bulk._driver.http.timeout
    assert None not in (timeout.connect, timeout.read, timeout.write, timeout.pool)
    bulk.close()


class _SilentServer:
    """A TCP server that reads requests and never answers (the accept backlog is enough)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


@pytest.mark.peer("heroku#107", "simple-salesforce#148", complaint=10)
def test_c10_requests_to_a_server_that_never_answers_time_out_instead_of_hanging() -> None:
    """Complaint 10 (heroku #107: "a very small percent of requests are never
    completing"; simple-salesforce #148: silent for days).

    Both clients have finite default timeouts (the login request uses the
    client's own HTTP client, hence the same ones). Against a server that
    accepts and never answers, a Bulk call and a SOAP login each raise
    ``RequestTimeoutError`` after the configured attempts."""
    for client in (Bulk(), AsyncBulk()):
        timeout = client._driver.http.timeout
        assert None not in (timeout.connect, timeout.read, timeout.write, timeout.pool)
    server = _SilentServer()
    try:
        quick = httpx.Timeout(0.2)
        with (
            Bulk(
                server.url,
                "00Dx!fake",
                timeout=quick,
                retry=RetryPolicy(max_attempts=2),
                **FakeTime().sync(),
            ) as b,
            pytest.raises(errors.RequestTimeoutError),
        ):
            b.get_job("750x0000000001AAAA")
        with Bulk(
            auth=soap_auth(server.url), timeout=quick, retry=RetryPolicy(max_attempts=1)
        ) as b:
            with pytest.raises(errors.RequestTimeoutError) as info:
                b.create_job("insert", "Contact")
            assert "/services/Soap/u/" in str(info.value)
    finally:
        server.close()


class _StallingResultServer:
    """Serves one CSV result file: the first connection stalls halfway through the
    body (headers sent, socket kept open); later connections get the whole file."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            conn.settimeout(1.0)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                request += chunk
            self.connections += 1
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n"
                f"Content-Length: {len(self.body)}\r\n\r\n"
            ).encode()
            if self.connections == 1:
                conn.sendall(head + self.body[: len(self.body) // 2])  # then silence
            else:
                conn.sendall(head + self.body)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(5)
        for conn in self._open:
            conn.close()


@pytest.mark.peer("heroku#107", complaint=10)
def test_c10_a_download_that_stalls_mid_body_times_out_and_resumes_without_loss() -> None:
    """Complaint 10 (heroku #107): the read timeout also guards a result download
    whose body stops arriving halfway; the file is fetched again and the
    records already yielded are not repeated."""
    job_id, batch_id, result_id = "750x0000000001AAAA", "751x0000000001AAAA", "752x00000000001"
    rows = "".join(f'"001x{i:014d}","Name {i:04d}"\n' for i in range(2_000))
    server = _StallingResultServer(('"Id","Name"\n' + rows).encode())
    try:
        with Bulk(server.url, "00Dx!fake", timeout=httpx.Timeout(0.3), **FakeTime().sync()) as bulk:
            bulk._job_types[job_id] = ContentType.CSV
            names = [
                r["Name"] for r in bulk.iter_query_results(job_id, batch_id, result_ids=[result_id])
            ]
    finally:
        server.close()
    assert server.connections == 2
    assert names == [f"Name {i:04d}" for i in range(2_000)]


@pytest.mark.review("hardening")
def test_login_requests_time_out_inside_the_refresh_lock_ttl() -> None:
    """Found in review (hardening): a login request's timeouts add up to less than
    the session manager's default refresh-lock TTL."""
    org = FakeOrg()
    seen: dict[str, object] = {}
    transport = FakeOrgTransport(org)

    def handler(request: httpx.Request) -> httpx.Response:
        if "/Soap/" in request.url.path:
            seen.update(request.extensions.get("timeout", {}))
        return transport.handle_request(request)

    auth = soap_auth("https://x.example")
    with Bulk(auth=auth, transport=httpx.MockTransport(handler)) as bulk:
        bulk.create_job("query", "Account")
    assert seen == LOGIN_TIMEOUT.as_dict()
    total = sum(v for v in LOGIN_TIMEOUT.as_dict().values() if v is not None)
    assert total < 30.0  # the session manager's default lock TTL
