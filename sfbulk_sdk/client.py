"""``Bulk``: the synchronous Salesforce Bulk API client.

It is generated from the async client (:mod:`sfbulk_sdk._async.client`) into
:mod:`sfbulk_sdk._sync.client` by ``scripts/unasync.py``; this module is its
public home.
"""

from __future__ import annotations

from ._sync.client import Bulk

__all__ = ["Bulk"]
