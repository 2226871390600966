"""Fault injection: make the next N matching requests fail, or drop their connection.

A :class:`Fault` matches a request when its ``path`` regular expression is
found in the request path (``re.search``) and, if given, the method matches.
Each match uses up one of ``count``; spent faults are forgotten. The reply is
shaped like the API the path belongs to (see :mod:`sfbulk_sdk.testing.router`): a
Bulk ``<error>`` (XML or JSON) under ``/services/async``, a SOAP fault under
``/services/Soap``, an OAuth error under ``/services/oauth2``, a REST error array
elsewhere.

A fault strikes *before* the org acts (``after=False``, the default: nothing
happened, the request may be sent again) or *after* it (``after=True``: the
batch is created, the job opened, the data stored, and only then is the reply
replaced by the error or the connection cut), the case a client must
reconcile rather than blindly repeat. ``retry_after`` adds a ``Retry-After``
header (seconds, or an HTTP date, sent with a ``Date`` header).

A :class:`Chaos` plan fails a share of every matching request at random, seeded
and reproducible: each request's fate is drawn from the seed, the request's
method and route (ids masked) and how many requests of that route came before,
so the same seed fails the same requests however threads interleave them. It
can also expire every session at given request numbers.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypedDict

__all__ = ["Chaos", "Fault", "FaultOptions", "FaultSet", "FaultValue"]

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
    #: Strike after the org acted on the request (its reply is lost), not before.
    after: bool = False
    #: A ``Retry-After`` value to send with the error reply (seconds or an HTTP date).
    retry_after: str | None = None
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
            "after": self.after,
            "retry_after": self.retry_after,
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
            "after",
            "retry_after",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if not isinstance(data.get("path"), str):
            raise ValueError("a fault needs a 'path' regular expression")
        settings: dict[str, Any] = dict(data)  # __post_init__ checks count, status, path
        return cls(**settings)


#: Ids (15 or 18 characters, a key prefix and digits) and numbers, masked out of a
#: path so that requests to the same route share one counter in a chaos plan.
_IDS = re.compile(r"/[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?(?=/|$)|/\d[\d.]*(?=/|$)")


class FaultOptions(TypedDict, total=False):
    """The optional settings of a :class:`Fault` (``FakeOrg.inject_fault(path, **options)``);
    each one left out takes the :class:`Fault` default."""

    count: int
    status: int
    exception_code: str
    message: str
    method: str | None
    drop_connection: bool
    after: bool
    retry_after: str | None


@dataclass
class Chaos:
    """Fail ``rate`` of the requests matching ``path`` at random, reproducibly from ``seed``.

    A failing request fails before the org acts or after it (``after_share``
    of them after), as a dropped connection (``reset_share``) or as an error
    reply with one of ``statuses``. Every session expires when the org has
    answered the request numbers in ``expire_sessions_at`` (counting the
    requests the plan sees). ``struck`` counts the failures by kind.
    """

    seed: int
    rate: float = 0.05
    path: str = r"^/services/(?:async|data)/"
    after_share: float = 0.5
    reset_share: float = 0.5
    statuses: tuple[int, ...] = (500, 503)
    expire_sessions_at: tuple[int, ...] = ()
    struck: Counter[str] = field(default_factory=Counter, compare=False)
    seen: int = field(default=0, compare=False)
    _routes: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if not self.statuses or not all(500 <= s <= 599 for s in self.statuses):
            raise ValueError("statuses must be HTTP 5xx codes")
        self._pattern = re.compile(self.path)

    def draw(self, method: str, path: str) -> tuple[Fault | None, bool]:
        """The fault for this request (or ``None``), and whether sessions expire first."""
        if self._pattern.search(path) is None:
            return None, False
        self.seen += 1
        expire = self.seen in self.expire_sessions_at
        route = f"{method.upper()} {_IDS.sub('/*', path)}"
        self._routes[route] += 1
        key = f"{self.seed}:{route}:{self._routes[route]}".encode()
        rng = random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
        if rng.random() >= self.rate:
            return None, expire
        after = rng.random() < self.after_share
        reset = rng.random() < self.reset_share
        status = rng.choice(self.statuses)
        kind = f"{'after' if after else 'before'}-{'reset' if reset else status}"
        self.struck[kind] += 1
        code = "InternalServerError" if status == 500 else "SERVER_UNAVAILABLE"
        fault = Fault(
            re.escape(path), status=status, exception_code=code, drop_connection=reset, after=after
        )
        return fault, expire

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (for ``GET /_fake/chaos``)."""
        return {
            "seed": self.seed,
            "rate": self.rate,
            "path": self.path,
            "after_share": self.after_share,
            "reset_share": self.reset_share,
            "statuses": list(self.statuses),
            "expire_sessions_at": list(self.expire_sessions_at),
            "seen": self.seen,
            "struck": dict(self.struck),
        }


class FaultSet:
    """The org's active faults, consumed in the order they were added, and a chaos plan."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self.fired = 0
        #: The random failures, if any (see :class:`Chaos`).
        self.chaos: Chaos | None = None

    def add(self, fault: Fault) -> Fault:
        """Activate ``fault``."""
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first active fault matching the request, using up one of its count."""
        return self.strike(method, path)[0]

    def strike(self, method: str, path: str) -> tuple[Fault | None, bool]:
        """What befalls a request: the fault (an injected one first, else the chaos
        plan's draw) and whether every session expires before it is answered."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    self.fired += 1
                    return fault, False
            if self.chaos is None:
                return None, False
            drawn, expire = self.chaos.draw(method, path)
            if drawn is not None:
                self.fired += 1
            return drawn, expire

    def active(self) -> list[Fault]:
        """Faults that have not fired out yet."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> int:
        """Remove every fault and the chaos plan; returns how many faults were active."""
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
            self.chaos = None
            return count
