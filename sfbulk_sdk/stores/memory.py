"""In-process session stores: :class:`MemoryStore` and :class:`AsyncMemoryStore`.

They share a session between the threads (or tasks) of one process only, and
are the session manager's default. Entries are kept as the same JSON text the
other backends write, so a stored session is never shared as a live object.
Both also keep failed logins (:class:`~sfbulk_sdk.stores.LoginFailureStore`)
under ``<key>:failed``, expiring by the store's clock.

Refresh-token grants (:class:`~sfbulk_sdk.stores.GrantStore`) are kept under
``<key>:grant`` in a dict of their own, with **no expiry**: a grant outlives
the session and is only dropped when the store is closed (the refresh token in
it is a secret, never shown in a ``repr`` or a log line).
"""

from __future__ import annotations

from ._async.memory import AsyncMemoryStore
from ._sync.memory import MemoryStore

__all__ = ["AsyncMemoryStore", "MemoryStore"]
