"""``AsyncDriver``: performs the effects of the core's flows with httpx and a session manager.

The driver is the only place where the async client does I/O: it sends the
requests a flow asks for (wrapping every httpx error), streams bodies, sleeps
through the client's sleep seam, reads its monotonic clock and asks the session
manager for sessions. What to do with the results is the flow's business
(:mod:`sfbulk_sdk.core.flow`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar, cast

import httpx

from .._background import AsyncTaskSet
from .._parallel import gather_async
from ..core import flow as f
from ..core.clock import AsyncSleep, Monotonic
from ..core.inflate import INFLATED_CODINGS, Inflater
from ..core.transport_errors import HTTPX_ERRORS, wrap_transport_error
from ..errors import InvalidInputError, SfBulkError
from .sessions import AsyncSessionManager

__all__ = ["AsyncDriver", "flatten"]

T = TypeVar("T")


class _Streams:
    """What one run holds: its open streamed responses (and their byte iterators)
    and the flows it spawned (:class:`~sfbulk_sdk.core.flow.Spawn`)."""

    def __init__(self, tasks: AsyncTaskSet[f.Flow[object], object]) -> None:
        self.open: dict[int, tuple[httpx.Response, AsyncIterator[bytes]]] = {}
        self.tasks = tasks

    def add(self, response: httpx.Response) -> None:
        coding = response.headers.get("content-encoding", "").strip().lower()
        chunks = (
            _inflating(response.aiter_raw(), Inflater(coding))
            if coding in INFLATED_CODINGS and not response.is_stream_consumed
            else response.aiter_bytes()  # (an in-memory reply is decoded already)
        )
        self.open[id(response)] = (response, chunks)

    def chunks(self, response: httpx.Response) -> AsyncIterator[bytes]:
        return self.open[id(response)][1]

    def forget(self, response: httpx.Response) -> None:
        self.open.pop(id(response), None)


class AsyncDriver:
    """Runs flows for one client: its HTTP client, session manager and time seams."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        sleep: AsyncSleep,
        monotonic: Monotonic,
        login_timeout: httpx.Timeout,
    ) -> None:
        self.http = http
        self.sessions: AsyncSessionManager | None = None
        #: Set when the client is closed: nothing more is sent.
        self.closed = False
        self._sleep = sleep
        self._monotonic = monotonic
        self._login_timeout = login_timeout

    def _manager(self) -> AsyncSessionManager:
        if self.sessions is None:
            raise InvalidInputError(
                "not authenticated: pass auth=, bulk_server/sessionid, or call login()"
            )
        return self.sessions

    @property
    def login_seconds(self) -> float:
        """The longest a login request can take: its timeouts added up."""
        return sum(value for value in self._login_timeout.as_dict().values() if value is not None)

    async def send_login(self, request: httpx.Request) -> httpx.Response:
        """Send a login request through the client's HTTP client (the manager's ``send``).

        A login must end well within the refresh lock's TTL, or another worker
        would take the lock and log in too: its timeouts are shorter.
        """
        request.extensions["timeout"] = self._login_timeout.as_dict()
        self.check_open()
        try:
            return await self.http.send(request)
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, request) from exc

    async def run(self, flow: f.Flow[T]) -> T:
        """Drive ``flow`` to its end and return its result."""
        self.check_open()
        streams = _Streams(AsyncTaskSet(self.run))
        try:
            step = f.start(flow)
            while not isinstance(step, f.Done):
                step = f.resume(flow, await self._perform(step, streams))
            return step.value
        finally:
            flow.close()
            await self._release(streams)

    async def batches(self, flow: f.Flow[object]) -> AsyncIterator[list[T]]:
        """Drive ``flow``, yielding the items of each :class:`~sfbulk_sdk.core.flow.Emit`
        as one list (a decoded chunk's records); closing this releases its responses."""
        self.check_open()
        streams = _Streams(AsyncTaskSet(self.run))
        try:
            step = f.start(flow)
            while not isinstance(step, f.Done):
                if isinstance(step, f.Emit):
                    yield step.items
                    step = f.resume(flow, f.Reply())
                else:
                    step = f.resume(flow, await self._perform(step, streams))
        finally:
            flow.close()
            await self._release(streams)

    async def stream(self, flow: f.Flow[object]) -> AsyncIterator[T]:
        """Drive ``flow``, yielding every item it emits; closing this releases its responses."""
        items = cast("AsyncGenerator[T, None]", flatten(self.batches(flow)))
        try:
            async for item in items:
                yield item
        finally:
            await items.aclose()

    async def _release(self, streams: _Streams) -> None:
        await streams.tasks.aclose()
        for response, _ in list(streams.open.values()):
            await response.aclose()
        streams.open.clear()

    async def _perform(self, effect: f.Effect[object], streams: _Streams) -> f.Reply:
        try:
            return f.Reply(await self._do(effect, streams))
        except SfBulkError as exc:
            return f.Reply(error=exc)

    async def _do(self, effect: f.Effect[object], streams: _Streams) -> object:
        if isinstance(effect, f.ReadChunk):
            return await self._chunk(effect.response, streams)
        if isinstance(effect, f.Send):
            return await self._send(effect.request, effect.stream, streams)
        if isinstance(effect, f.Gather):
            return await gather_async(self.run, effect.flows, effect.limit)
        if isinstance(effect, f.Spawn):
            return streams.tasks.spawn(effect.flow)
        if isinstance(effect, f.Wait):
            return await streams.tasks.wait(effect.tickets, effect.block)
        if isinstance(effect, f.Join):
            return await streams.tasks.join(effect.ticket)
        if isinstance(effect, f.GetSession):
            return await self._manager().get()
        if isinstance(effect, f.Touch):
            await self._manager().touch(effect.session)
        elif isinstance(effect, f.Invalidate):
            await self._manager().invalidate(effect.session)
        elif isinstance(effect, f.Sleep):
            await self._sleep(effect.seconds)
        elif isinstance(effect, f.Now):
            return self._monotonic()
        elif isinstance(effect, f.Report):
            pass  # progress no one observes (see core.flow.observe)
        elif isinstance(effect, f.ReadBody):
            await self._read_body(effect.response, streams)
        elif isinstance(effect, f.ReadRaw):
            return await self._read_raw(effect.response, streams)
        elif isinstance(effect, f.CloseResponse):
            streams.forget(effect.response)
            await effect.response.aclose()
        else:  # pragma: no cover - every effect is handled above
            raise TypeError(f"unknown effect {effect!r}")
        return None

    def check_open(self) -> None:
        """Refuse to send once the client (or the HTTP client it was given) is closed."""
        if self.closed:
            raise InvalidInputError("this client is closed: make a new one to send more")
        if self.http.is_closed:
            raise InvalidInputError("the HTTP client this client sends through is closed")

    async def _send(
        self, request: httpx.Request, stream: bool, streams: _Streams
    ) -> httpx.Response:
        self.check_open()
        try:
            response = await self.http.send(request, stream=stream)
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, request) from exc
        if stream:
            streams.add(response)
        return response

    async def _chunk(self, response: httpx.Response, streams: _Streams) -> bytes:
        try:
            return await anext_or_empty(streams.chunks(response))
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, response.request) from exc

    async def _read_body(self, response: httpx.Response, streams: _Streams) -> None:
        streams.forget(response)
        try:
            await response.aread()
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, response.request) from exc

    async def _read_raw(self, response: httpx.Response, streams: _Streams) -> tuple[str, bytes]:
        streams.forget(response)
        try:
            if response.is_stream_consumed:  # an in-memory reply, decoded already
                return "", response.content
            coding = response.headers.get("content-encoding", "").strip().lower()
            return coding, b"".join([chunk async for chunk in response.aiter_raw()])
        except HTTPX_ERRORS as exc:
            raise wrap_transport_error(exc, response.request) from exc
        finally:
            await response.aclose()


async def _inflating(raw: AsyncIterator[bytes], inflater: Inflater) -> AsyncIterator[bytes]:
    """A compressed reply's bytes, inflated here (not by httpx, which takes a body that
    ends before its compressed stream does as whole)."""
    async for chunk in raw:
        data = inflater.feed(chunk)
        if data:
            yield data
    inflater.end()


async def flatten(batches: AsyncIterator[list[T]]) -> AsyncIterator[T]:
    """The items of ``batches``, one at a time; closing this closes ``batches``."""
    lists = cast("AsyncGenerator[list[T], None]", batches)
    try:
        async for batch in lists:
            for item in batch:
                yield item
    finally:
        await lists.aclose()


async def anext_or_empty(chunks: AsyncIterator[bytes]) -> bytes:
    """The next non-empty chunk, or ``b""`` at the end."""
    async for chunk in chunks:
        if chunk:
            return chunk
    return b""
