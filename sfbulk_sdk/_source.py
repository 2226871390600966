"""Where a client gets the session for each request.

Clients call ``get()`` before every request (never caching a session per job),
``invalidate(rejected)`` when Salesforce rejects it and ``touch(session)`` after
a success. :class:`sfbulk_sdk.sessions.SessionManager` implements this with
stores and single-flight refresh; :class:`FixedSessionSource` serves a session
id given by the caller, which cannot be refreshed.
"""

from __future__ import annotations

from typing import Protocol

from .models.session import Session

__all__ = ["AsyncSessionSource", "FixedSessionSource", "SessionSource"]


class SessionSource(Protocol):
    """What a sync client needs to obtain and keep a session."""

    def get(self) -> Session: ...

    def invalidate(self, rejected: Session) -> None: ...

    def touch(self, session: Session) -> None: ...

    def close(self) -> None: ...


class AsyncSessionSource(Protocol):
    """What an async client needs to obtain and keep a session."""

    async def get(self) -> Session: ...

    async def invalidate(self, rejected: Session) -> None: ...

    async def touch(self, session: Session) -> None: ...

    async def close(self) -> None: ...


class FixedSessionSource:
    """A caller-supplied session id: used as is, never refreshed."""

    can_refresh = False

    def __init__(self, session: Session) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"FixedSessionSource(instance_url={self._session.instance_url!r})"

    def get(self) -> Session:
        return self._session

    def invalidate(self, rejected: Session) -> None:
        return None

    def touch(self, session: Session) -> None:
        return None

    def close(self) -> None:
        return None


class AsyncFixedSessionSource:
    """The async twin of :class:`FixedSessionSource`."""

    can_refresh = False

    def __init__(self, session: Session) -> None:
        self._inner = FixedSessionSource(session)

    def __repr__(self) -> str:
        return repr(self._inner).replace("Fixed", "AsyncFixed", 1)

    async def get(self) -> Session:
        return self._inner.get()

    async def invalidate(self, rejected: Session) -> None:
        return None

    async def touch(self, session: Session) -> None:
        return None

    async def close(self) -> None:
        return None
