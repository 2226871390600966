"""The request loop and the polling loop, written once, as sans-IO flows.

A *flow* is a generator. It never sends, sleeps, reads a clock or touches a
session store itself: it yields an :class:`Effect` (send this request, sleep
this long, give me the session, ...) and is sent back the effect's result,
the way an httpx ``Auth`` flow yields requests and receives responses. The sync
and the async client each drive flows with a small loop (:func:`start` and
:func:`resume`), performing the effects with their own I/O; tests drive them
by hand.

The rule every request follows lives in :func:`exchange`, and only there:

1. take the current session (:class:`GetSession`);
2. build the request for it and send it (:class:`Send`);
3. a reply rejecting the session (Bulk 1.0: 400 ``InvalidSessionId``) drops
   that session (:class:`Invalidate`) and the request is sent once more with
   a fresh one, when the authenticator can log in again;
4. a retryable failure (:class:`~sfbulk_sdk.core.policy.RetryPolicy`) is
   retried after a jittered backoff (:class:`Sleep`); a request that is not
   idempotent only when it surely never reached the server, or when
   :func:`~sfbulk_sdk.core.reconcile.recover` found that it left nothing
   behind (a lost reply of a request it finds carried out ends with what it found);
5. a success records the session's use (:class:`Touch`); a store that fails
   to record it never turns the success into an error.

Streamed bodies go through the same loop: :class:`RecordStream` reads the body
chunk by chunk (:class:`ReadChunk`) and hands records to the caller
(:class:`Emit`) as they are decoded. When the connection drops mid-body the
request is repeated and the records already handed out are skipped, so none
is lost or repeated.

Flows can also run side by side: :class:`Gather` runs a list of them and
waits for all; :class:`Spawn` starts one in the background (a ticket comes
back), :class:`Wait` says which of some tickets have finished (at least one,
unless asked not to block) and :class:`Join` hands over a finished one's
result, or raises its error. With these a flow keeps a sliding window of
downloads: a new one starts as soon as any finishes.

Polling (:func:`wait_for_batch`, :func:`wait_for_job`) composes requests with
waits. Its deadline counts the time spent in requests as well as the sleeps
(:class:`Now`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, cast

import httpx

from ..errors import ProtocolError, SfBulkError
from ..models.enums import ContentType
from ..models.jobs import BatchInfo, BatchInfoList
from ..models.session import Session
from . import bulk1, reconcile, states
from .decoders import QueryRecord, record_decoder
from .policy import PollPolicy, RetryPolicy, may_have_acted
from .progress import retry_event, serialised
from .reconcile_specs import Ledger, ReconcileSpec
from .transport_errors import redirected

__all__ = [
    "CallSpec",
    "CloseResponse",
    "Done",
    "Effect",
    "Emit",
    "Flow",
    "FlowContext",
    "Gather",
    "GetSession",
    "Invalidate",
    "Join",
    "Now",
    "ParsedBody",
    "ReadBody",
    "ReadChunk",
    "ReadRaw",
    "Reader",
    "RecordStream",
    "Reply",
    "Report",
    "Send",
    "Sleep",
    "Spawn",
    "Touch",
    "Wait",
    "exchange",
    "observe",
    "perform",
    "poll",
    "request",
    "resume",
    "start",
    "wait_for_batch",
    "wait_for_job",
]

log = logging.getLogger("sfbulk_sdk")

#: Bytes of a streamed body decoded at a time (bounds the records alive at once).
DECODE_SLICE = 1 << 16

T = TypeVar("T")
R = TypeVar("R")
T_co = TypeVar("T_co", covariant=True)


# --------------------------------------------------------------------------- effects


class Effect(Generic[R]):
    """Something a flow asks its driver to do; ``R`` is what the driver sends back."""

    __slots__ = ()


#: A flow: yields effects, is sent their results, returns ``T``.
Flow = Generator[Effect[object], object, T]


class CallSpec(Protocol[T_co]):
    """A request not yet bound to a session (:class:`~sfbulk_sdk.core.bulk1.Call`,
    :class:`~sfbulk_sdk.core.rest.RestCall`)."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def idempotent(self) -> bool: ...

    @property
    def parse(self) -> Callable[[httpx.Response], T_co]: ...

    def build(self, session: Session, api_version: str) -> httpx.Request: ...


@dataclass(frozen=True, slots=True)
class GetSession(Effect[Session]):
    """The session to send the next request with (the session manager's ``get()``)."""


@dataclass(frozen=True, slots=True)
class Invalidate(Effect[None]):
    """Salesforce rejected ``session``: drop it, so that the next ``GetSession`` refreshes."""

    session: Session


@dataclass(frozen=True, slots=True)
class Touch(Effect[None]):
    """A request with ``session`` succeeded (the manager records the use)."""

    session: Session


@dataclass(frozen=True, slots=True)
class Send(Effect[httpx.Response]):
    """Send ``request``. Unless ``stream``, the body is read before the reply returns."""

    request: httpx.Request
    stream: bool = False


@dataclass(frozen=True, slots=True)
class ReadChunk(Effect[bytes]):
    """The next piece of a streamed body; ``b""`` once it is all read (and released)."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class ReadBody(Effect[None]):
    """Read the rest of a streamed body into ``response.content`` (and release it)."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class ReadRaw(Effect[tuple[str, bytes]]):
    """Read the rest of a streamed body as it came, still content-encoded (and release it).

    The reply is the body's content coding and the bytes; the coding is ``""``
    when the body was already decoded (a reply read before it was streamed).
    """

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class CloseResponse(Effect[None]):
    """Release a streamed response without reading the rest of it."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class Sleep(Effect[None]):
    """Wait ``seconds`` (through the client's sleep seam)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Now(Effect[float]):
    """The client's monotonic time, in seconds."""


@dataclass(frozen=True, slots=True)
class Emit(Effect[None], Generic[T]):
    """Hand ``items`` to the caller of a streaming run, in order."""

    items: list[T]


@dataclass(frozen=True, slots=True)
class Report(Effect[None]):
    """Tell the client's progress hook what happened (``event`` is a ProgressEvent)."""

    event: object


@dataclass(frozen=True, slots=True)
class Gather(Effect[list[object]], Generic[T]):
    """Run ``flows`` side by side, at most ``limit`` at a time; their results, in order.

    The first error any of them raises is raised here (the others are stopped).
    """

    flows: list[Flow[T]]
    limit: int


@dataclass(frozen=True, slots=True)
class Spawn(Effect[int], Generic[T]):
    """Start ``flow`` beside this one; the reply is its ticket (for :class:`Wait`, :class:`Join`).

    The driver stops every spawned flow that is still running when the flow that
    spawned it ends (or is closed).
    """

    flow: Flow[T]


@dataclass(frozen=True, slots=True)
class Wait(Effect[list[int]]):
    """Which of ``tickets`` have finished, in the order given.

    With ``block`` the reply waits until at least one has; without, it comes
    at once (possibly empty).
    """

    tickets: tuple[int, ...]
    block: bool = True


@dataclass(frozen=True, slots=True)
class Join(Effect[object]):
    """The result of the spawned flow ``ticket`` (waiting for it), or its error raised here.

    A ticket can be joined once.
    """

    ticket: int


def perform(effect: Effect[R]) -> Generator[Effect[object], object, R]:
    """Yield ``effect`` and return what the driver sends back, typed."""
    return cast(R, (yield cast(Effect[object], effect)))


# --------------------------------------------------------------------------- driving


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """A flow finished with ``value``."""

    value: T


@dataclass(frozen=True, slots=True)
class Reply:
    """What a driver got from performing an effect: a value, or an SDK error."""

    value: object = None
    error: SfBulkError | None = None


_NOTHING = Reply()


def start(flow: Flow[T]) -> Effect[object] | Done[T]:
    """Run ``flow`` to its first effect (or to its end)."""
    return resume(flow, _NOTHING, first=True)


def resume(flow: Flow[T], reply: Reply, *, first: bool = False) -> Effect[object] | Done[T]:
    """Hand ``reply`` to ``flow`` (its value, or its error raised at the ``yield``).

    Returns the next effect to perform, or :class:`Done` with the flow's result.
    Any error the flow does not handle propagates to the driver's caller.
    """
    try:
        if reply.error is not None:
            return flow.throw(reply.error)
        return flow.send(None if first else reply.value)
    except StopIteration as stop:
        return Done(cast(T, stop.value))


# --------------------------------------------------------------------------- the request loop


@dataclass(frozen=True, slots=True)
class FlowContext:
    """What every request flow needs to know about its client."""

    api_version: str
    retry: RetryPolicy
    #: Whether a rejected session can be replaced (the authenticator can log in again).
    can_refresh: bool
    #: The batches and jobs this client's replies named (reconciling lost replies).
    ledger: Ledger = field(default_factory=Ledger, compare=False)


class Reader(Protocol[T_co]):
    """How :func:`exchange` reads a reply: streamed (``Send(stream=True)``) or whole."""

    @property
    def streams(self) -> bool: ...

    def read(self, response: httpx.Response) -> Flow[T_co]: ...


class ParsedBody(Generic[T]):
    """A reply read whole, then parsed by the call's own parser."""

    streams = False

    def __init__(self, parse: Callable[[httpx.Response], T]) -> None:
        self._parse = parse

    def read(self, response: httpx.Response) -> Flow[T]:
        return self._parse(response)
        yield  # pragma: no cover - makes this a generator


class RecordStream:
    """A result file streamed record by record, resumable after a dropped connection.

    ``delivered`` counts the records already handed to the caller; a repeated
    request skips that many, so a retry never repeats or loses one. ``delimiter``
    is the CSV column separator; ``headers`` the reply headers of the last
    attempt (a Bulk 2.0 page's ``Sforce-Locator``). A 204 reply is an empty file.
    With ``sink`` the records go to it, in the flow, instead of to the caller.
    """

    streams = True

    def __init__(
        self,
        check: Callable[[httpx.Response], object],
        delimiter: str = ",",
        sink: Callable[[list[QueryRecord]], None] | None = None,
    ) -> None:
        self._check = check
        self._delimiter = delimiter
        self._sink = sink
        self.delivered = 0
        self.headers: httpx.Headers | None = None

    def read(self, response: httpx.Response) -> Flow[int]:
        self._check(response)
        self.headers = response.headers
        if response.status_code == 204:
            yield from perform(ReadBody(response))
            return self.delivered
        media = response.headers.get("content-type", "text/csv")
        decoder = record_decoder(media, delimiter=self._delimiter)
        skip = self.delivered
        while True:
            chunk = yield from perform(ReadChunk(response))
            # A large chunk (a decompressed gzip block can be megabytes) is decoded
            # a slice at a time, so at most a slice's records are alive at once.
            for start in range(0, max(len(chunk), 1), DECODE_SLICE):
                piece = chunk[start : start + DECODE_SLICE]
                try:
                    records = decoder.feed(piece) if piece else decoder.close()
                except ValueError as exc:
                    raise ProtocolError(
                        f"could not decode query results: {exc}", response=response
                    ) from exc
                if skip:
                    dropped = min(skip, len(records))
                    records = records[dropped:]
                    skip -= dropped
                if records:
                    self.delivered += len(records)
                    if self._sink is not None:
                        self._sink(records)
                    else:
                        yield from perform(Emit(records))
            if not chunk:
                return self.delivered


def exchange(call: CallSpec[object], ctx: FlowContext, reader: Reader[T]) -> Flow[T]:
    """One request, with session recovery and retries: the rule of the module docstring."""
    attempt = 0
    refreshed = False
    spec: ReconcileSpec | None = getattr(call, "reconcile", None)
    while True:
        attempt += 1
        idempotent = True  # only the login can fail here (a lost refresh is not retryable)
        sending = False
        response: httpx.Response | None = None
        try:
            session = yield from perform(GetSession())
            request = call.build(session, ctx.api_version)
            idempotent = call.idempotent
            sending = True
            response = yield from perform(Send(request, stream=reader.streams))
            if 300 <= response.status_code < 400:
                if reader.streams:
                    yield from perform(ReadBody(response))
                raise redirected(response)
            if response.status_code >= 400:
                if reader.streams:
                    yield from perform(ReadBody(response))
                if not refreshed and ctx.can_refresh and bulk1.is_invalid_session(response):
                    log.info("session rejected on %s %s; refreshing once", call.method, call.path)
                    yield from perform(Invalidate(session))
                    refreshed = True
                    attempt -= 1
                    continue
            result = yield from reader.read(response)
            if spec is not None:
                reconcile.claim(spec, result, ctx.ledger)
        except SfBulkError as exc:
            if reader.streams and response is not None:
                yield from perform(CloseResponse(response))
            if spec is not None and sending and may_have_acted(exc):
                # The reply is lost but the request may have been carried out:
                # ask what arrived (reconcile), and send again only if nothing did.
                log.warning("reconciling %s %s after: %s", call.method, call.path, exc)
                found = yield from reconcile.recover(spec, call, _asker(ctx), ctx.ledger)
                if found is not None:
                    result = cast(T, found.value)
                    break
                idempotent = True
            if not ctx.retry.should_retry(exc, attempt=attempt, idempotent=idempotent):
                raise
            delay = ctx.retry.delay(attempt, exc)
            log.warning("retrying %s %s in %.1fs: %s", call.method, call.path, delay, exc)
            yield from perform(Report(retry_event(call.method, call.path, delay, exc)))
            yield from perform(Sleep(delay))
            continue
        break
    try:
        yield from perform(Touch(session))
    except SfBulkError as exc:
        # The request succeeded: a store that fails to record the use must
        # not turn that success (a created job, an added batch) into an error.
        log.warning("could not record the session's use in the store: %s", exc)
    return result


def _asker(ctx: FlowContext) -> Callable[[CallSpec[object]], Flow[object]]:
    def ask(call: CallSpec[object]) -> Flow[object]:
        return exchange(call, ctx, ParsedBody(call.parse))

    return ask


def request(call: CallSpec[T], ctx: FlowContext) -> Flow[T]:
    """A request whose reply is read whole and parsed by ``call``."""
    return exchange(call, ctx, ParsedBody(call.parse))


# --------------------------------------------------------------------------- polling


def _next_wait(policy: PollPolicy, elapsed: float, interval: float) -> float | None:
    """How long to sleep before the next poll, or ``None`` once the deadline is reached.

    The last wait is cut to what is left of ``policy.timeout``, so the final
    poll happens at the deadline rather than up to one interval before it.
    """
    if policy.timeout is None:
        return interval
    left = policy.timeout - elapsed
    return min(interval, left) if left > 0 else None


def poll(
    probe: Callable[[], Flow[T | None]],
    policy: PollPolicy,
    *,
    job_id: str,
    batch_id: str | None = None,
) -> Flow[T]:
    """Run ``probe`` until it returns something, sleeping between tries as ``policy`` says.

    The deadline counts the time the probes take as well as the sleeps; on
    expiry :class:`~sfbulk_sdk.errors.PollTimeoutError` names the job (and batch).
    """
    started = yield from perform(Now())
    elapsed = 0.0
    for interval in policy.intervals():
        found = yield from probe()
        if found is not None:
            return found
        elapsed = (yield from perform(Now())) - started
        wait = _next_wait(policy, elapsed, interval)
        if wait is None:
            break
        yield from perform(Sleep(wait))
    raise states.poll_timeout(job_id, batch_id, elapsed)


def wait_for_batch(
    job_id: str,
    batch_id: str,
    *,
    content_type: ContentType | None,
    policy: PollPolicy,
    ctx: FlowContext,
    raise_on_failure: bool = True,
) -> Flow[BatchInfo]:
    """Poll a batch until it is done (:mod:`~sfbulk_sdk.core.states`), backing off."""
    call = bulk1.get_batch(job_id, batch_id, content_type=content_type)

    def probe() -> Flow[BatchInfo | None]:
        info = yield from request(call, ctx)
        return info if states.batch_finished(info, raise_on_failure=raise_on_failure) else None

    return (yield from poll(probe, policy, job_id=job_id, batch_id=batch_id))


def wait_for_job(
    job_id: str, *, content_type: ContentType | None, policy: PollPolicy, ctx: FlowContext
) -> Flow[BatchInfoList]:
    """Poll until every batch of a job is done; a job without batches, until it is not Open."""

    def probe() -> Flow[BatchInfoList | None]:
        batches = yield from request(bulk1.list_batches(job_id, content_type=content_type), ctx)
        if batches.batch_info:
            return batches if states.all_batches_done(batches) else None
        job = yield from request(bulk1.get_job(job_id, content_type=content_type), ctx)
        return batches if states.job_needs_no_wait(job) else None

    return (yield from poll(probe, policy, job_id=job_id))


def observe(flow: Flow[T], hook: Callable[[object], None] | None) -> Flow[T]:
    """``flow`` with its :class:`Report` effects handed to ``hook`` (dropped without one).

    The flows it spawns or gathers report to ``hook`` too; as they may run on other
    threads, ``hook`` is called by one of them at a time.
    """
    return _observe(flow, None if hook is None else serialised(hook))


def _observe(flow: Flow[T], hook: Callable[[object], None] | None) -> Flow[T]:
    value: object = None
    error: SfBulkError | None = None
    try:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return cast(T, stop.value)
            value, error = None, None
            if isinstance(effect, Report):
                if hook is not None:
                    hook(effect.event)
                continue
            if isinstance(effect, Spawn):
                effect = cast(Effect[object], Spawn(_observe(effect.flow, hook)))
            elif isinstance(effect, Gather):
                flows = [_observe(each, hook) for each in effect.flows]
                effect = cast(Effect[object], Gather(flows, effect.limit))
            try:
                value = yield effect
            except SfBulkError as exc:
                error = exc
    finally:
        flow.close()  # stopped from outside (a spawned flow outlived its parent): stop it too
