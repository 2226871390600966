"""A Bulk API 1.0 load's job: its batches uploaded, watched and read back as one pipeline.

Every batch of a load costs two round trips that carry data: its upload
(``POST .../batch``) and the read of its results (``GET .../batch/{id}/result``).
With ``concurrency`` of them in flight, ``n`` batches cannot take less than
``n / concurrency x 2`` round trips. :func:`run_job` comes close to that
bound by never leaving a slot idle while there is work for it:

* at most ``concurrency`` batch requests (uploads and result reads) are in
  flight at once; a slot that frees up takes the next piece of work at once:
  the results of a batch known to be done first, else the next upload, so
  results are read while later batches still upload;
* whether batches are done comes from one job-level ``list batches`` request
  beside the slots, for all the batches being processed (not one request per
  batch). While batches still upload it is sent ``PollPolicy.initial`` after
  new uploads have landed; once the last upload is in, it backs off as the
  policy says, under the policy's deadline;
* the job is closed beside the last result reads, as soon as the last upload
  has landed (no batch can be added after it).

The deadline (``PollPolicy.timeout``) counts from the moment the last upload
has landed, the time of the requests included; on expiry
:class:`~sfbulk_sdk.errors.PollTimeoutError` names the job, which keeps
running on the server (the close is sent first).

Rows are numbered in upload order, whatever order the uploads finish in.
"""

from __future__ import annotations

import dataclasses
import gzip
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..models.enums import BatchState, ConcurrencyMode, ContentType
from ..models.jobs import BatchInfo, BatchInfoList
from . import bulk1, states
from .encode import EncodedBody
from .flow import Flow, FlowContext, Join, Now, Report, Sleep, Spawn, Wait, perform, request
from .outcomes import LoadResult
from .progress import ProgressEvent

if TYPE_CHECKING:
    from .loads import LoadOptions

__all__ = ["GZIP_LEVEL", "Sent", "report", "run_job"]

#: CSV compresses well even at the fastest level; CPU is what loads spend.
GZIP_LEVEL = 1


@dataclass
class Sent:
    """A batch of the load: its id (once its upload has landed) and the input rows it holds."""

    batch_id: str
    first_row: int
    rows: int


def report(kind: str, records: int = 0, **detail: str | None) -> Flow[None]:
    """Tell the progress hook about a step of the load."""
    yield from perform(Report(ProgressEvent(kind, records, **detail)))  # type: ignore[arg-type]


def _batch_call(job_id: str, body: EncodedBody, compress: bool) -> bulk1.Call[BatchInfo]:
    call = bulk1.add_batch(job_id, body.payload, content_type=ContentType.CSV)
    if not compress:
        return call
    headers = {**call.headers, "Content-Encoding": "gzip"}
    packed = gzip.compress(body.data, compresslevel=GZIP_LEVEL, mtime=0)
    return dataclasses.replace(call, body=packed, headers=headers)


def _after(wait: float, call: bulk1.Call[BatchInfoList], ctx: FlowContext) -> Flow[BatchInfoList]:
    yield from perform(Sleep(wait))
    return (yield from request(call, ctx))


@dataclass
class _Work:
    kind: str  # "upload", "results", "poll" or "close"
    batch: Sent | None = None


class _Pipeline:
    """The state of one job's pipeline (see the module docstring)."""

    def __init__(
        self,
        options: LoadOptions,
        job_id: str,
        bodies: Iterator[EncodedBody],
        result: LoadResult,
        ctx: FlowContext,
    ) -> None:
        self.options = options
        self.job_id = job_id
        self.bodies = bodies
        self.result = result
        self.ctx = ctx
        self.sent: list[Sent] = []
        self.running: dict[int, _Work] = {}
        #: Uploaded batches not yet seen done, by id.
        self.pending: dict[str, Sent] = {}
        #: Completed batches whose results are still to be read, in the order seen done.
        self.ready: deque[Sent] = deque()
        self.uploading = 0
        self.reading = 0
        self.exhausted = False
        #: Uploads landed since the last poll was started.
        self.fresh = 0
        self.backoff = options.poll.intervals()
        self.poll_ticket: int | None = None
        self.close_ticket: int | None = None
        #: When the last upload landed (the deadline counts from there).
        self.all_sent_at: float | None = None
        #: Polls started since then (the first one is always sent).
        self.late_polls = 0

    def run(self) -> Flow[None]:
        while True:
            yield from self._start_work()
            if not self.running:
                return
            finished = yield from perform(Wait(tuple(self.running)))
            for ticket in finished:
                work = self.running.pop(ticket)
                value = yield from perform(Join(ticket))
                yield from self._finish(work, value)

    def _spawn(self, work: _Work, flow: Flow[object]) -> Flow[int]:
        ticket = yield from perform(Spawn(flow))
        self.running[ticket] = work
        return ticket

    def _start_work(self) -> Flow[None]:
        while self.uploading + self.reading < self.options.concurrency:
            body = None if self.exhausted else next(self.bodies, None)
            if body is None:
                self.exhausted = True
                if not self.ready:
                    break
                batch = self.ready.popleft()
                call = bulk1.get_batch_results_body(self.job_id, batch.batch_id)
                yield from self._spawn(_Work("results", batch), request(call, self.ctx))
                self.reading += 1
                continue
            result = self.result
            first = result.grow(body.rows) if body.first_row >= result.size else body.first_row
            batch = Sent("", first, body.rows)
            self.sent.append(batch)
            upload = request(_batch_call(self.job_id, body, self.options.gzip), self.ctx)
            yield from self._spawn(_Work("upload", batch), upload)
            self.uploading += 1
        if self.exhausted and not self.uploading and self.close_ticket is None:
            close = request(bulk1.close_job(self.job_id, content_type=ContentType.CSV), self.ctx)
            self.close_ticket = yield from self._spawn(_Work("close"), close)
            self.all_sent_at = yield from perform(Now())
        if self.pending and self.poll_ticket is None and self._poll_worth_it():
            yield from self._start_poll()

    def _poll_worth_it(self) -> bool:
        """Whether to ask about the batches being processed now.

        While bodies remain, the slots upload them; results only need to be known
        by the time the last body is out, enough of them to fill every slot: so
        polls then stop once that many are known, and start again at the end.
        """
        if self.exhausted:
            return True
        return bool(self.fresh) and len(self.ready) < self.options.concurrency

    def _start_poll(self) -> Flow[None]:
        policy = self.options.poll
        if self.fresh:  # new batches to ask about: soon, and back off afresh from there
            self.backoff = policy.intervals()
        wait = next(self.backoff)
        if self.all_sent_at is not None and policy.timeout is not None:
            elapsed = (yield from perform(Now())) - self.all_sent_at
            left = policy.timeout - elapsed
            if left <= 0 and self.late_polls:
                yield from self._give_up(elapsed)
            wait = max(0.0, min(wait, left))  # the last poll at the deadline, not before it
            self.late_polls += 1
        self.fresh = 0
        call = bulk1.list_batches(self.job_id, content_type=ContentType.CSV)
        self.poll_ticket = yield from self._spawn(_Work("poll"), _after(wait, call, self.ctx))

    def _give_up(self, elapsed: float) -> Flow[None]:
        if self.close_ticket is not None and self.close_ticket in self.running:
            del self.running[self.close_ticket]
            yield from perform(Join(self.close_ticket))  # leave the job closed, running
        raise states.poll_timeout(self.job_id, None, elapsed)

    def _finish(self, work: _Work, value: object) -> Flow[None]:
        batch = work.batch
        if work.kind == "upload":
            assert isinstance(value, BatchInfo)
            assert batch is not None
            self.uploading -= 1
            batch.batch_id = value.id
            yield from report("batch_queued", batch.rows, job_id=self.job_id, batch_id=value.id)
            if states.batch_is_done(value):
                yield from self._settle(batch, value)
            else:
                self.pending[value.id] = batch
                self.fresh += 1
        elif work.kind == "poll":
            assert isinstance(value, BatchInfoList)
            self.poll_ticket = None
            for info in value.batch_info:
                found = self.pending.get(info.id)
                if found is not None and states.batch_is_done(info):
                    del self.pending[info.id]
                    yield from self._settle(found, info)
        elif work.kind == "results":
            assert isinstance(value, bytes)
            assert batch is not None
            self.reading -= 1
            self.result.add_bulk1_results(batch.first_row, batch.rows, value)
            yield from report(
                "batch_completed", batch.rows, job_id=self.job_id, batch_id=batch.batch_id
            )

    def _settle(self, batch: Sent, info: BatchInfo) -> Flow[None]:
        """A batch is done: queue its results, or record why its rows were not processed."""
        if info.state is BatchState.COMPLETED:
            self.ready.append(batch)
            return
        message = info.state_message or ""
        if info.state is BatchState.FAILED and "TooManyLockFailure" in message:
            reason = f"UNABLE_TO_LOCK_ROW:{message}:"  # worth sending again
            self.result.not_processed(batch.first_row, batch.rows, reason)
            return
        reason = f"BATCH_{info.state.value.upper()}:{message or 'no reason given'}:"
        self.result.not_processed(batch.first_row, batch.rows, reason)
        yield from report("batch_failed", batch.rows, job_id=self.job_id, batch_id=batch.batch_id)


def run_job(
    options: LoadOptions,
    bodies: Iterator[EncodedBody],
    result: LoadResult,
    ctx: FlowContext,
    *,
    serial: bool,
) -> Flow[tuple[str, list[Sent]]]:
    """Open a job, load every body as one of its batches and read every outcome into
    ``result``; the job's id and its batches, in upload order."""
    mode = ConcurrencyMode.SERIAL if serial else ConcurrencyMode.PARALLEL
    job = yield from request(
        bulk1.create_job(
            options.operation,
            options.sobject,
            external_id_field=options.external_id_field,
            content_type=ContentType.CSV,
            concurrency_mode=mode,
        ),
        ctx,
    )
    assert job.id is not None
    result.jobs.append(job.id)
    yield from report("job_created", job_id=job.id)
    pipeline = _Pipeline(options, job.id, bodies, result, ctx)
    yield from pipeline.run()
    return job.id, pipeline.sent
