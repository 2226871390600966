"""Warnings about what Salesforce is retiring, each shown once per process.

* SOAP ``login()`` is gone from API 65.0 and retires for every version in
  Summer '27;
* the OAuth username-password flow is being deprecated (Help 000886201).

Both still work; the SDK warns with :class:`LoginDeprecationWarning` (a
:class:`FutureWarning`, shown by default) the first time one is used.
"""

from __future__ import annotations

import threading
import warnings

__all__ = ["LoginDeprecationWarning", "warn_once"]


class LoginDeprecationWarning(FutureWarning):
    """A login method Salesforce is retiring."""


_shown: set[str] = set()
_lock = threading.Lock()


def warn_once(key: str, message: str, *, stacklevel: int = 3) -> None:
    """Warn with ``message`` the first time ``key`` is seen in this process."""
    with _lock:
        if key in _shown:
            return
        _shown.add(key)
    warnings.warn(message, LoginDeprecationWarning, stacklevel=stacklevel)
