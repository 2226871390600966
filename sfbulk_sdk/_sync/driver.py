# GENERATED from sfbulk_sdk/_async/driver.py by scripts/unasync.py: do not edit.
"""``Driver``: performs the effects of the core's flows with httpx and a session manager.

The driver is the only place where the async client does I/O: it sends the
requests a flow asks for (wrapping every httpx error), streams bodies, sleeps
through the client's sleep seam, reads its monotonic clock and asks the session
manager for sessions. What to do with the results is the flow's business
(:mod:`sfbulk_sdk.core.flow`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TypeVar, cast

import httpx

from .._background import TaskSet
from .._parallel import gather_sync
from ..core import flow as f
from ..core.clock import Monotonic, Sleep
from ..core.inflate import INFLATED_CODINGS, Inflater
from ..core.transport_errors import HTTPX_ERRORS, wrap_transport_error
from ..errors import InvalidInputError, SfBulkError
from .sessions import SessionManager

__all__ = ["Driver", "flatten"]

T = TypeVar("T")


class _Streams:
    """What one run holds: its open streamed responses (and their byte iterators)
    and the flows it spawned (:class:`~sfbulk_sdk.core.flow.Spawn`)."""

    def __init__(self, tasks: TaskSet[f.Flow[object], object]) -> None:
        self.open: dict[int, tuple[httpx.Response, Iterator[bytes]]] = {}
        self.tasks = tasks

    def add(self, response: httpx.Response) -> None:
        coding = response.headers.get("content-encoding", "").strip().lower()
        chunks = (
            _inflating(response.iter_raw(), Inflater(coding))
            if coding in INFLATED_CODINGS and not response.is_stream_consumed
            else response.iter_bytes()  # (an in-memory reply is decoded already)
        )
        self.open[id(response)] = (response, chunks)

    def chunks(self, response: httpx.Response) -> Iterator[bytes]:
        return self.open[id(response)][1]

    def forget(self, response: httpx.Response) -> None:
        self.open.pop(id(response), None)


class Driver:
    """Runs flows for one client: its HTTP client, session manager and time seams."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        sleep: Sleep,
        monotonic: Monotonic,
        login_timeout: httpx.Timeout,
    ) -> None:
        self.http = http
        self.sessions: SessionManager | None = None
        #: Set when the client is closed: nothing more is sent.
        self.closed = False
        self._sleep = sleep
        self._monotonic = monotonic
        self._login_timeout = login_timeout

    def _manager(self) -> SessionManager:
        if self.sessions is None:
            raise InvalidInputError(
                "not authenticated: pass auth=, bulk_server/sessionid, or call login()"
            )
        return self.sessions

    @property
    def login_seconds(self) -> float:
        """The longest a login request can take: its timeouts added up."""
        return sum(value for value in self._login_timeout.as_dict().values() if value is not None)

    def send_login(self, request: httpx.Request) -> httpx.Response:
        """Send a login request through the client's HTTP client (the manager's ``send``).

        A login must end well within the refresh lock's TTL, or another worker
        would take the lock and log in too: its timeouts are shorter.
        """
        request.extensions["timeout"] = self._login_timeout.as_dict()
        self.check_open()
        try:
            return self.http.send(request)
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, request) from exc

    def run(self, flow: f.Flow[T]) -> T:
        """Drive ``flow`` to its end and return its result."""
        self.check_open()
        streams = _Streams(TaskSet(self.run))
        try:
            step = f.start(flow)
            while not isinstance(step, f.Done):
                step = f.resume(flow, self._perform(step, streams))
            return step.value
        finally:
            flow.close()
            self._release(streams)

    def batches(self, flow: f.Flow[object]) -> Iterator[list[T]]:
        """Drive ``flow``, yielding the items of each :class:`~sfbulk_sdk.core.flow.Emit`
        as one list (a decoded chunk's records); closing this releases its responses."""
        self.check_open()
        streams = _Streams(TaskSet(self.run))
        try:
            step = f.start(flow)
            while not isinstance(step, f.Done):
                if isinstance(step, f.Emit):
                    yield step.items
                    step = f.resume(flow, f.Reply())
                else:
                    step = f.resume(flow, self._perform(step, streams))
        finally:
            flow.close()
            self._release(streams)

    def stream(self, flow: f.Flow[object]) -> Iterator[T]:
        """Drive ``flow``, yielding every item it emits; closing this releases its responses."""
        items = cast("Generator[T, None]", flatten(self.batches(flow)))
        try:
            for item in items:
                yield item
        finally:
            items.close()

    def _release(self, streams: _Streams) -> None:
        streams.tasks.close()
        for response, _ in list(streams.open.values()):
            response.close()
        streams.open.clear()

    def _perform(self, effect: f.Effect[object], streams: _Streams) -> f.Reply:
        try:
            return f.Reply(self._do(effect, streams))
        except SfBulkError as exc:
            return f.Reply(error=exc)

    def _do(self, effect: f.Effect[object], streams: _Streams) -> object:
        if isinstance(effect, f.ReadChunk):
            return self._chunk(effect.response, streams)
        if isinstance(effect, f.Send):
            return self._send(effect.request, effect.stream, streams)
        if isinstance(effect, f.Gather):
            return gather_sync(self.run, effect.flows, effect.limit)
        if isinstance(effect, f.Spawn):
            return streams.tasks.spawn(effect.flow)
        if isinstance(effect, f.Wait):
            return streams.tasks.wait(effect.tickets, effect.block)
        if isinstance(effect, f.Join):
            return streams.tasks.join(effect.ticket)
        if isinstance(effect, f.GetSession):
            return self._manager().get()
        if isinstance(effect, f.Touch):
            self._manager().touch(effect.session)
        elif isinstance(effect, f.Invalidate):
            self._manager().invalidate(effect.session)
        elif isinstance(effect, f.Sleep):
            self._sleep(effect.seconds)
        elif isinstance(effect, f.Now):
            return self._monotonic()
        elif isinstance(effect, f.Report):
            pass  # progress no one observes (see core.flow.observe)
        elif isinstance(effect, f.ReadBody):
            self._read_body(effect.response, streams)
        elif isinstance(effect, f.ReadRaw):
            return self._read_raw(effect.response, streams)
        elif isinstance(effect, f.CloseResponse):
            streams.forget(effect.response)
            effect.response.close()
        else:  # pragma: no cover - every effect is handled above
            raise TypeError(f"unknown effect {effect!r}")
        return None

    def check_open(self) -> None:
        """Refuse to send once the client (or the HTTP client it was given) is closed."""
        if self.closed:
            raise InvalidInputError("this client is closed: make a new one to send more")
        if self.http.is_closed:
            raise InvalidInputError("the HTTP client this client sends through is closed")

    def _send(self, request: httpx.Request, stream: bool, streams: _Streams) -> httpx.Response:
        self.check_open()
        try:
            response = self.http.send(request, stream=stream)
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, request) from exc
        if stream:
            streams.add(response)
        return response

    def _chunk(self, response: httpx.Response, streams: _Streams) -> bytes:
        try:
            return anext_or_empty(streams.chunks(response))
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, response.request) from exc

    def _read_body(self, response: httpx.Response, streams: _Streams) -> None:
        streams.forget(response)
        try:
            response.read()
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, response.request) from exc

    def _read_raw(self, response: httpx.Response, streams: _Streams) -> tuple[str, bytes]:
        streams.forget(response)
        try:
            if response.is_stream_consumed:  # an in-memory reply, decoded already
                return "", response.content
            coding = response.headers.get("content-encoding", "").strip().lower()
            return coding, b"".join([chunk for chunk in response.iter_raw()])
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, response.request) from exc
        finally:
            response.close()


def _inflating(raw: Iterator[bytes], inflater: Inflater) -> Iterator[bytes]:
    """A compressed reply's bytes, inflated here (not by httpx, which takes a body that
    ends before its compressed stream does as whole)."""
    for chunk in raw:
        data = inflater.feed(chunk)
        if data:
            yield data
    inflater.end()


def flatten(batches: Iterator[list[T]]) -> Iterator[T]:
    """The items of ``batches``, one at a time; closing this closes ``batches``."""
    lists = cast("Generator[list[T], None]", batches)
    try:
        for batch in lists:
            for item in batch:
                yield item
    finally:
        lists.close()


def anext_or_empty(chunks: Iterator[bytes]) -> bytes:
    """The next non-empty chunk, or ``b""`` at the end."""
    for chunk in chunks:
        if chunk:
            return chunk
    return b""
