"""Test doubles shared by the store and session-manager tests (and the worker script)."""

from __future__ import annotations

import inspect
import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from sfbulk_sdk.core.session_state import credential_digest
from sfbulk_sdk.models.session import Session
from sfbulk_sdk.stores import (
    GrantRecord,
    GrantStore,
    LoginFailure,
    LoginFailureStore,
    SessionStore,
    grant_key,
)

LOGIN_URL = "https://login.example.invalid/services/Soap/u/64.0"
INSTANCE_URL = "https://fake-org.my.salesforce.com"
SECRET_MARK = "00Dfake!SECRET"
REFRESH_MARK = "5Aep861fake.REFRESH"


def make_session(
    now: datetime,
    *,
    session_id: str | None = None,
    seconds_valid: int = 7200,
    fingerprint: str = "fp-test",
) -> Session:
    """A session as a login at ``now`` would open it."""
    return Session(
        instance_url=INSTANCE_URL,
        session_id=SecretStr(session_id or f"{SECRET_MARK}-{uuid.uuid4().hex}"),
        user_id="005000000000001AAA",
        org_id="00D000000000001AAA",
        user_name="worker@example.com",
        auth_fingerprint=fingerprint,
        issued_at=now,
        last_used_at=now,
        seconds_valid=seconds_valid,
    )


class FakeClock:
    """Real UTC time plus an offset (``advance``), or a frozen instant."""

    def __init__(self, *, frozen: bool = False) -> None:
        self._start = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        self._frozen = frozen
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        base = self._start if self._frozen else datetime.now(timezone.utc)
        return base + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class FakeAuth:
    """An authenticator whose 'login' is a JSON reply carrying a new session id."""

    def __init__(self, fingerprint: str = "fp-test", *, seconds_valid: int = 7200) -> None:
        self._fingerprint = fingerprint
        self.seconds_valid = seconds_valid

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def can_refresh(self) -> bool:
        return True

    def login_request(self, *, now: datetime | None = None) -> httpx.Request | None:
        return httpx.Request("POST", LOGIN_URL, content=b"<login/>")

    def parse_login_response(self, response: httpx.Response | None, *, now: datetime) -> Session:
        assert response is not None
        assert response.status_code == 200
        return make_session(
            now,
            session_id=response.json()["session_id"],
            seconds_valid=self.seconds_valid,
            fingerprint=self._fingerprint,
        )


class FakeSend:
    """Counts logins; each answers a fresh session id after ``delay`` seconds."""

    def __init__(self, *, delay: float = 0.0, block: threading.Event | None = None) -> None:
        self.delay = delay
        self.block = block
        self.calls = 0
        self.ids: list[str] = []
        self._mutex = threading.Lock()

    def _answer(self, request: httpx.Request) -> httpx.Response:
        with self._mutex:
            self.calls += 1
            session_id = f"{SECRET_MARK}-{self.calls}-{uuid.uuid4().hex}"
            self.ids.append(session_id)
        return httpx.Response(200, json={"session_id": session_id}, request=request)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.block is not None:
            self.block.wait()
        if self.delay:
            time.sleep(self.delay)
        return self._answer(request)


class AsyncFakeSend(FakeSend):
    """The async twin of :class:`FakeSend`."""

    async def __call__(self, request: httpx.Request) -> httpx.Response:  # type: ignore[override]
        import anyio

        if self.delay:
            await anyio.sleep(self.delay)
        return self._answer(request)


class _AsAsyncLock(AbstractAsyncContextManager[None]):
    def __init__(self, lock: AbstractContextManager[None]) -> None:
        self._lock = lock

    async def __aenter__(self) -> None:
        self._lock.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.__exit__(exc_type, exc, tb)


class AsAsync:
    """A sync store seen through the async protocol (direct calls, no threads)."""

    def __init__(self, store: SessionStore) -> None:
        self.sync = store

    def __repr__(self) -> str:
        return repr(self.sync)

    async def get(self, key: str) -> Session | None:
        return self.sync.get(key)

    async def set(self, key: str, session: Session, ttl: float) -> None:
        self.sync.set(key, session, ttl)

    async def renew(self, key: str, session: Session, ttl: float) -> bool:
        return self.sync.renew(key, session, ttl)

    async def compare_and_delete(self, key: str, session_id: str) -> bool:
        return self.sync.compare_and_delete(key, session_id)

    def lock(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        return _AsAsyncLock(self.sync.lock(key, ttl=ttl, wait=wait))

    # The optional login-failure methods: every built-in sync store has them.

    def _failures(self) -> LoginFailureStore:
        assert isinstance(self.sync, LoginFailureStore)
        return self.sync

    async def get_failure(self, key: str) -> LoginFailure | None:
        return self._failures().get_failure(key)

    async def set_failure(self, key: str, failure: LoginFailure, ttl: float) -> None:
        self._failures().set_failure(key, failure, ttl)

    async def clear_failure(self, key: str) -> None:
        self._failures().clear_failure(key)

    # The optional grant methods: every built-in sync store has them too.

    def _grants(self) -> GrantStore:
        assert isinstance(self.sync, GrantStore)
        return self.sync

    async def get_grant(self, key: str) -> GrantRecord | None:
        return self._grants().get_grant(key)

    async def set_grant(self, key: str, grant: GrantRecord) -> None:
        self._grants().set_grant(key, grant)

    async def aclose(self) -> None:
        self.sync.close()


@dataclass
class StoreCase:
    """One backend in one mode, with raw access to what it stored."""

    backend: str
    mode: str
    store: Any  # the async-shaped interface (AsAsync for sync stores)
    inner: Any  # the store object itself
    clock: FakeClock
    raw_doc: Callable[[str], dict[str, Any] | None]
    raw_text: Callable[[str], str | None]
    put_session_dict: Callable[[str, dict[str, Any]], None]

    @property
    def name(self) -> str:
        return f"{self.backend}-{self.mode}"


# -- refresh-token grants ----------------------------------------------------------------


def new_refresh_token() -> str:
    return f"{REFRESH_MARK}-{uuid.uuid4().hex}"


def make_grant(now: datetime, *, token: str | None = None, full: bool = False) -> GrantRecord:
    """A grant as the session manager writes it; ``full`` sets every optional field."""
    secret = SecretStr(token or new_refresh_token())
    if not full:
        return GrantRecord(refresh_token=secret, updated_at=now)
    return GrantRecord(
        refresh_token=secret,
        updated_at=now,
        history=tuple(credential_digest(new_refresh_token()) for _ in range(3)),
        rotations=3,
        revoked_at=now - timedelta(seconds=1),
        revoked_reason="invalid_grant: expired access/refresh token",
        pending_since=now - timedelta(seconds=5),
    )


async def settle(value: Any) -> Any:
    """The value of a client call, sync or async."""
    return await value if inspect.isawaitable(value) else value


def grant_path(case: StoreCase, key: str) -> Path:
    """The file store's grant file for ``key``."""
    sync = case.inner if case.mode == "sync" else case.inner._sync
    path: Path = sync._grant_path(key)
    return path


def stored_grant(case: StoreCase, key: str) -> dict[str, Any] | None:
    """The grant document as the backend holds it (the MongoDB one with its ``_id``)."""
    if case.backend == "file":
        path = grant_path(case, key)
        return json.loads(path.read_text()) if path.exists() else None
    return case.raw_doc(grant_key(key))


async def put_raw_grant(case: StoreCase, key: str, doc: Any, text: str | None = None) -> None:
    """Write a grant document behind the store's back (``text`` instead of ``doc``'s JSON)."""
    name = grant_key(key)
    raw = json.dumps(doc) if text is None else text
    if case.backend == "memory":
        case.inner._grants[name] = (math.inf, raw)
    elif case.backend == "file":
        grant_path(case, key).write_text(raw)
    elif case.backend == "redis":
        await settle(case.inner._client.set(name, raw))
    else:
        replacement = {"_id": name, **doc}
        await settle(case.inner._collection.replace_one({"_id": name}, replacement, upsert=True))
