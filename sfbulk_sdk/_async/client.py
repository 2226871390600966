"""``AsyncBulk``: the asynchronous Salesforce Bulk API client.

Hand-written; its sync twin :class:`~sfbulk_sdk.Bulk` is generated from it
(``scripts/unasync.py``).
"""

from __future__ import annotations

from .ops import AsyncOps
from .seed import AsyncSeedFacade

__all__ = ["AsyncBulk"]


class AsyncBulk(AsyncSeedFacade, AsyncOps):
    """Asynchronous Salesforce Bulk API client (the same methods as :class:`~sfbulk_sdk.Bulk`).

    Three ways to authenticate:

    * ``AsyncBulk(bulk_server, sessionid)``: a session you already have (the seed's API);
    * ``AsyncBulk(auth=SoapLogin(...), store=...)``: log in on demand, share the
      session through a store, refresh it when it expires or is rejected;
    * ``AsyncBulk()`` then :meth:`login`: the seed's login call.

    ``sleep`` and ``monotonic`` are the time seams: every wait of polling and
    retries goes through ``sleep``, and polling deadlines are measured with
    ``monotonic`` (pass :meth:`ManualClock.asleep
    <sfbulk_sdk.core.clock.ManualClock.asleep>` and
    :meth:`ManualClock.monotonic <sfbulk_sdk.core.clock.ManualClock.monotonic>`
    in tests). ``session_options`` are passed on to the session manager.
    """
