"""A driver of :mod:`sfbulk_sdk.core.flow` flows on a virtual clock, for round-trip counting.

:class:`VirtualDriver` runs a flow and every flow it spawns side by side, the
way the real drivers do, but time is virtual: a request takes ``latency()``
seconds and is answered by an in-process fake org at its end (as the fake org
server answers after its delay), a sleep takes its seconds, and CPU takes no
time at all. So the time a flow takes is exactly its critical path in round
trips and waits, free of the machine's noise; the driver also counts the
requests by kind and how many were in flight at once.

Imported as ``from tests.loads.virtual_driver import VirtualDriver``.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from sfbulk_sdk import errors
from sfbulk_sdk.core import flow as f
from sfbulk_sdk.core.clock import ManualClock
from sfbulk_sdk.models import Session
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport

#: The Bulk 1.0 requests of a load, by method and path.
_KINDS = (
    ("upload", "POST", re.compile(r"/job/[^/]+/batch$")),
    ("result", "GET", re.compile(r"/batch/[^/]+/result$")),
    ("list", "GET", re.compile(r"/job/[^/]+/batch$")),
    ("create", "POST", re.compile(r"/job$")),
    ("close", "POST", re.compile(r"/job/[^/]+$")),
)
#: The requests that carry a batch's data (what ``concurrency`` bounds).
DATA_KINDS = frozenset({"upload", "result"})


def kind_of(request: httpx.Request) -> str:
    for kind, method, pattern in _KINDS:
        if request.method == method and pattern.search(request.url.path):
            return kind
    return f"{request.method} {request.url.path}"


@dataclass
class _Task:
    flow: f.Flow[object]
    reply: f.Reply = field(default_factory=f.Reply)
    started: bool = False
    outcome: f.Reply | None = None
    joined: bool = False


@dataclass
class VirtualDriver:
    """Runs flows against ``org`` on a virtual clock (see the module docstring)."""

    org: FakeOrg
    clock: ManualClock
    latency: Callable[[], float] = lambda: 1.0
    now: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_data_in_flight: int = 0
    #: (virtual time, kind) of every request's end, in order.
    ended: list[tuple[float, str]] = field(default_factory=list)
    reports: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._transport = FakeOrgTransport(self.org)
        self._session = Session.static(self.org.instance_url, self.org.issue_session())
        self._tasks: dict[int, _Task] = {}
        self._runnable: deque[int] = deque()
        self._events: list[tuple[float, int, int, Callable[[], f.Reply]]] = []
        self._sequence = 0
        self._waiting: dict[int, tuple[int, ...]] = {}  # task: tickets it waits for
        self._joining: dict[int, int] = {}  # task: the ticket it joins

    def run(self, flow: f.Flow[object]) -> object:
        """Drive ``flow`` (ticket 0) and what it spawns to its end; its result."""
        self._tasks[0] = _Task(flow)
        self._runnable.append(0)
        main = self._tasks[0]
        while main.outcome is None:
            while self._runnable:
                self._step(self._runnable.popleft())
            if main.outcome is not None:
                break
            if not self._events:
                raise AssertionError("every flow is blocked and nothing is in flight")
            at, _, task, answer = heapq.heappop(self._events)
            self.clock.advance(at - self.now)
            self.now = at
            self._tasks[task].reply = answer()
            self._runnable.append(task)
        if main.outcome.error is not None:
            raise main.outcome.error
        return main.outcome.value

    def _later(self, delay: float, task: int, answer: Callable[[], f.Reply]) -> None:
        self._sequence += 1
        heapq.heappush(self._events, (self.now + delay, self._sequence, task, answer))

    def _step(self, ticket: int) -> None:
        """Run one task until it blocks (a request, a sleep, a wait) or ends."""
        task = self._tasks[ticket]
        while True:
            try:
                step = f.resume(task.flow, task.reply, first=not task.started)
            except errors.SfBulkError as exc:
                step = None
                task.outcome = f.Reply(error=exc)
            task.started = True
            if step is None or isinstance(step, f.Done):
                if task.outcome is None:
                    task.outcome = f.Reply(step.value if step is not None else None)
                self._wake(ticket)
                return
            reply = self._instant(ticket, step)
            if reply is None:
                return  # blocked
            task.reply = reply

    def _instant(self, ticket: int, effect: f.Effect[object]) -> f.Reply | None:
        """The reply of an effect that takes no time, or ``None`` once the task is blocked."""
        if isinstance(effect, f.GetSession):
            return f.Reply(self._session)
        if isinstance(effect, (f.Touch, f.Invalidate)):
            return f.Reply()
        if isinstance(effect, f.Report):
            self.reports.append(effect.event)
            return f.Reply()
        if isinstance(effect, f.Now):
            return f.Reply(self.now)
        if isinstance(effect, f.Spawn):
            new = len(self._tasks)
            self._tasks[new] = _Task(effect.flow)
            self._runnable.append(new)
            return f.Reply(new)
        if isinstance(effect, f.Wait):
            done = [t for t in effect.tickets if self._tasks[t].outcome is not None]
            if done or not effect.block:
                return f.Reply(done)
            self._waiting[ticket] = effect.tickets
            return None
        if isinstance(effect, f.Join):
            joined = self._tasks[effect.ticket]
            assert not joined.joined, "a ticket is joined once"
            if joined.outcome is not None:
                joined.joined = True
                return joined.outcome
            self._joining[ticket] = effect.ticket
            return None
        if isinstance(effect, f.Gather):
            spawned = self._instant(ticket, f.Spawn(_gather(effect.flows, effect.limit)))
            assert spawned is not None and isinstance(spawned.value, int)
            return self._instant(ticket, f.Join(spawned.value))
        if isinstance(effect, f.Sleep):
            self._later(effect.seconds, ticket, f.Reply)
            return None
        if isinstance(effect, f.Send):
            self._send(ticket, effect.request)
            return None
        raise AssertionError(f"unexpected effect {effect!r}")

    def _send(self, ticket: int, request: httpx.Request) -> None:
        kind = kind_of(request)
        self.kinds[kind] += 1
        self.in_flight[kind] += 1
        data = sum(self.in_flight[k] for k in DATA_KINDS)
        self.max_data_in_flight = max(self.max_data_in_flight, data)

        def answer() -> f.Reply:
            self.in_flight[kind] -= 1
            self.ended.append((self.now, kind))
            return f.Reply(self._transport.handle_request(request))

        self._later(self.latency(), ticket, answer)

    def _wake(self, finished: int) -> None:
        for task, tickets in list(self._waiting.items()):
            if finished in tickets:
                del self._waiting[task]
                done = [t for t in tickets if self._tasks[t].outcome is not None]
                self._tasks[task].reply = f.Reply(done)
                self._runnable.append(task)
        for task, ticket in list(self._joining.items()):
            if ticket == finished:
                del self._joining[task]
                joined = self._tasks[ticket]
                joined.joined = True
                assert joined.outcome is not None
                self._tasks[task].reply = joined.outcome
                self._runnable.append(task)


def _gather(flows: list[f.Flow[object]], limit: int) -> f.Flow[list[object]]:
    """:class:`~sfbulk_sdk.core.flow.Gather` as spawned flows, at most ``limit`` at a time."""
    results: list[object] = [None] * len(flows)
    running: dict[int, int] = {}  # ticket: position
    waiting = deque(enumerate(flows))
    while waiting or running:
        while waiting and len(running) < limit:
            position, flow = waiting.popleft()
            running[(yield from f.perform(f.Spawn(flow)))] = position
        for ticket in (yield from f.perform(f.Wait(tuple(running)))):
            results[running.pop(ticket)] = yield from f.perform(f.Join(ticket))
    return results
