"""The session stores, written once, async: memory, Redis, MongoDB and their lock.

The sync package beside it (``stores/_sync``) is generated from these modules
by ``scripts/unasync.py`` (``make unasync``), and ``make test`` checks that the
two agree. Users import the stores from their public modules
(:mod:`sfbulk_sdk.stores.memory`, :mod:`~sfbulk_sdk.stores.redis`,
:mod:`~sfbulk_sdk.stores.mongodb`) or lazily from :mod:`sfbulk_sdk.stores`.
"""
