"""Session stores: where processes share one Salesforce session.

The protocols, the key helper and the in-process stores import eagerly. The
backends that need an optional dependency are exposed lazily, so importing
this package never requires them::

    from sfbulk_sdk.stores import RedisStore      # needs sfbulk-sdk[redis]
    from sfbulk_sdk.stores import MongoStore      # needs sfbulk-sdk[mongodb]
    from sfbulk_sdk.stores import FileStore       # needs sfbulk-sdk[file]

A missing dependency raises :class:`ImportError` naming the extra to install.

Layout: the memory, Redis and MongoDB stores and their refresh lock are
written once, async, in ``stores/_async/``; their sync twins in
``stores/_sync/`` are generated from them by ``scripts/unasync.py``. The public
modules (:mod:`.memory`, :mod:`.redis`, :mod:`.mongodb`) re-export both. The
file store (:mod:`.file`) is written by hand: its async face runs the sync
store in worker threads. ``_common`` holds what every backend shares (the JSON
records, argument checks, error wrapping, the async/sync seams).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import base
from .base import *  # noqa: F403 - every name of base.__all__, re-exported below
from .memory import AsyncMemoryStore, MemoryStore

if TYPE_CHECKING:
    from .file import AsyncFileStore as AsyncFileStore
    from .file import FileStore as FileStore
    from .mongodb import AsyncMongoStore as AsyncMongoStore
    from .mongodb import MongoStore as MongoStore
    from .redis import AsyncRedisStore as AsyncRedisStore
    from .redis import RedisStore as RedisStore

__all__ = ["AsyncMemoryStore", "MemoryStore"]
# The protocols, key helpers and records, as sfbulk_sdk.stores.base lists them.
__all__ += base.__all__

#: Names importable from this package on first use, and the module of each.
LAZY_EXPORTS: dict[str, str] = {
    "FileStore": "file",
    "AsyncFileStore": "file",
    "RedisStore": "redis",
    "AsyncRedisStore": "redis",
    "MongoStore": "mongodb",
    "AsyncMongoStore": "mongodb",
}


def __getattr__(name: str) -> Any:
    module = LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *LAZY_EXPORTS})
