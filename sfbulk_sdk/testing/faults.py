"""Fault injection: make the next N matching requests fail, or drop their connection.

A :class:`Fault` matches a request when its ``path`` regular expression is
found in the request path (``re.search``) and, if given, the method matches.
Each match uses up one of ``count``; spent faults are forgotten. The reply is
shaped like the API the path belongs to (see :mod:`sfbulk_sdk.testing.router`): a
Bulk ``<error>`` (XML or JSON) under ``/services/async``, a SOAP fault under
``/services/Soap``, an OAuth error under ``/services/oauth2``, a REST error array
elsewhere.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = ["Fault", "FaultSet", "FaultValue"]

#: A value in the JSON description of a fault.
FaultValue: TypeAlias = str | int | bool | None


@dataclass
class Fault:
    """One injected failure rule."""

    path: str
    count: int = 1
    status: int = 500
    exception_code: str = "InternalServerError"
    message: str = "An unexpected error occurred. Please retry the request."
    method: str | None = None
    drop_connection: bool = False
    id: int = field(default=0, compare=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a fault must fire at least once")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        self._pattern = re.compile(self.path)
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to ``method path``."""
        if self.method is not None and self.method != method.upper():
            return False
        return self._pattern.search(path) is not None

    def to_dict(self) -> dict[str, FaultValue]:
        """A JSON-ready description (for ``GET /_fake/faults``)."""
        return {
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "count": self.count,
            "status": self.status,
            "exception_code": self.exception_code,
            "message": self.message,
            "drop_connection": self.drop_connection,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Fault:
        """Build a fault from the JSON body of ``POST /_fake/faults``."""
        known = {
            "path",
            "count",
            "status",
            "exception_code",
            "message",
            "method",
            "drop_connection",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if not isinstance(data.get("path"), str):
            raise ValueError("a fault needs a 'path' regular expression")
        settings: dict[str, Any] = dict(data)  # __post_init__ checks count, status, path
        return cls(**settings)


class FaultSet:
    """The org's active faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self.fired = 0

    def add(self, fault: Fault) -> Fault:
        """Activate ``fault``."""
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first active fault matching the request, using up one of its count."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    self.fired += 1
                    return fault
        return None

    def active(self) -> list[Fault]:
        """Faults that have not fired out yet."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> int:
        """Remove every fault; returns how many were active."""
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
            return count
