# GENERATED from sfbulk_sdk/_async/client.py by scripts/unasync.py: do not edit.
"""``Bulk``: the asynchronous Salesforce Bulk API client.

Hand-written; its sync twin :class:`~sfbulk_sdk.Bulk` is generated from it
(``scripts/unasync.py``).
"""

from __future__ import annotations

from .ops import Ops
from .seed import SeedFacade

__all__ = ["Bulk"]


class Bulk(SeedFacade, Ops):
    """Asynchronous Salesforce Bulk API client (the same methods as :class:`~sfbulk_sdk.Bulk`).

    Three ways to authenticate:

    * ``Bulk(bulk_server, sessionid)``: a session you already have (the seed's API);
    * ``Bulk(auth=SoapLogin(...), store=...)``: log in on demand, share the
      session through a store, refresh it when it expires or is rejected;
    * ``Bulk()`` then :meth:`login`: the seed's login call.

    ``sleep`` and ``monotonic`` are the time seams: every wait of polling and
    retries goes through ``sleep``, and polling deadlines are measured with
    ``monotonic`` (pass :meth:`ManualClock.sleep
    <sfbulk_sdk.core.clock.ManualClock.sleep>` and
    :meth:`ManualClock.monotonic <sfbulk_sdk.core.clock.ManualClock.monotonic>`
    in tests). ``session_options`` are passed on to the session manager.
    """
