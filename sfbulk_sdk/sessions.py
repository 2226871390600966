"""Keeping a session: freshness policy and single-flight refresh (public home).

* :class:`SessionPolicy` (pure, :mod:`sfbulk_sdk.core.session_rules`) says
  whether a session is fresh, how long a store may keep it and whether its
  ``last_used_at`` is worth writing back.
* :class:`AsyncSessionManager` (:mod:`sfbulk_sdk._async.sessions`, where the
  whole algorithm is described) and its generated sync twin
  :class:`SessionManager` give every request a valid session, sharing one
  login between every worker of a store.
"""

from __future__ import annotations

from ._async.sessions import AsyncSendLogin, AsyncSessionManager
from ._sync.sessions import SendLogin, SessionManager
from .core.session_rules import LoginFailure, SessionPolicy
from .core.session_state import SessionOptions

__all__ = [
    "AsyncSendLogin",
    "AsyncSessionManager",
    "LoginFailure",
    "SendLogin",
    "SessionManager",
    "SessionOptions",
    "SessionPolicy",
]
