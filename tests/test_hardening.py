"""Small hardening points found in review: login timeouts, key sharing, temp files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from sfbulk_sdk import Bulk
from sfbulk_sdk._base import LOGIN_TIMEOUT
from sfbulk_sdk.auth import SoapLogin
from sfbulk_sdk.stores.file import FileStore
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)


def test_login_requests_time_out_inside_the_refresh_lock_ttl() -> None:
    org = FakeOrg()
    seen: dict[str, object] = {}
    transport = FakeOrgTransport(org)

    def handler(request: httpx.Request) -> httpx.Response:
        if "/Soap/" in request.url.path:
            seen.update(request.extensions.get("timeout", {}))
        return transport.handle_request(request)

    auth = SoapLogin(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, login_url="https://x.example"
    )
    with Bulk(auth=auth, transport=httpx.MockTransport(handler)) as bulk:
        bulk.create_job("query", "Account")
    assert seen == LOGIN_TIMEOUT.as_dict()
    total = sum(v for v in LOGIN_TIMEOUT.as_dict().values() if v is not None)
    assert total < 30.0  # the session manager's default lock TTL


def test_usernames_differing_only_in_case_share_one_session_key() -> None:
    a = SoapLogin("Admin@Example.com", "pw", login_url="https://Login.Example")
    b = SoapLogin("admin@example.com ", "other-pw", login_url="https://login.example")
    c = SoapLogin("someone@example.com", "pw", login_url="https://login.example")
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_file_store_removes_temp_files_a_crashed_writer_left(tmp_path: Path) -> None:
    directory = tmp_path / "sessions"
    FileStore(directory)
    stale = directory / ".tmp-crashed.part"
    fresh = directory / ".tmp-live.part"
    for leftover in (stale, fresh):
        leftover.write_text('{"session_id": "00D!leftover"}')
    old = time.time() - 3600
    os.utime(stale, (old, old))
    FileStore(directory)
    assert not stale.exists()
    assert fresh.exists()  # may belong to a writer that is still running
