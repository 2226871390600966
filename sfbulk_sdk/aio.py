"""``AsyncBulk``: the asynchronous Salesforce Bulk API client (public home).

The client is written in :mod:`sfbulk_sdk._async.client`; its sync twin
:class:`~sfbulk_sdk.Bulk` is generated from it.
"""

from __future__ import annotations

from ._async.client import AsyncBulk

__all__ = ["AsyncBulk"]
