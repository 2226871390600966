"""The core's flows, driven by hand: no transport, no store, no clock, no sleeping.

Each test plays the driver: it asserts the effect a flow asks for and sends
back a reply, exactly as :class:`~sfbulk_sdk._async.driver.AsyncDriver` would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from sfbulk_sdk import errors
from sfbulk_sdk.core import bulk1
from sfbulk_sdk.core import flow as f
from sfbulk_sdk.core.policy import PollPolicy, RetryPolicy
from sfbulk_sdk.models import BatchState, Session

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
OLD = Session.static("https://na1.example.test", "00Dx!OLD-SESSION", now=NOW)
NEW = Session.static("https://na1.example.test", "00Dx!NEW-SESSION", now=NOW)
JOB = "750x0000000001AAAA"
BATCH = "751x0000000001AAAA"
RESULT = "752x00000000001"
NS = "http://www.force.com/2009/06/asyncapi/dataload"

CTX = f.FlowContext("64.0", RetryPolicy(max_attempts=3, jitter=0), can_refresh=True)


def _xml(status: int, body: str) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "application/xml"}, text=body)


def _job(state: str = "Open") -> httpx.Response:
    return _xml(
        200,
        f'<?xml version="1.0"?><jobInfo xmlns="{NS}"><id>{JOB}</id>'
        f"<operation>insert</operation><object>Contact</object><state>{state}</state>"
        "<contentType>CSV</contentType></jobInfo>",
    )


def _batch(state: str) -> httpx.Response:
    return _xml(
        200,
        f'<batchInfo xmlns="{NS}"><id>{BATCH}</id><jobId>{JOB}</jobId>'
        f"<state>{state}</state></batchInfo>",
    )


def _error(code: str, status: int = 400) -> httpx.Response:
    return _xml(
        status,
        f'<error xmlns="{NS}"><exceptionCode>{code}</exceptionCode>'
        f"<exceptionMessage>{code} happened</exceptionMessage></error>",
    )


class Driver:
    """Steps a flow by hand: ``expect(EffectType)`` returns the effect the flow asked for."""

    def __init__(self, flow: f.Flow[object]) -> None:
        self.flow = flow
        self.step = f.start(flow)
        self.seen: list[type[object]] = []

    def expect(self, kind: type[f.Effect[object]]) -> f.Effect[object]:
        step = self.step
        assert isinstance(step, kind), f"expected {kind.__name__}, the flow asked for {step!r}"
        self.seen.append(kind)
        return step

    def reply(self, value: object = None) -> None:
        self.step = f.resume(self.flow, f.Reply(value))

    def fail(self, error: errors.SfBulkError) -> None:
        self.step = f.resume(self.flow, f.Reply(error=error))

    def answer(self, kind: type[f.Effect[object]], value: object = None) -> f.Effect[object]:
        effect = self.expect(kind)
        self.reply(value)
        return effect

    @property
    def result(self) -> object:
        assert isinstance(self.step, f.Done), f"the flow is not done: it asks for {self.step!r}"
        return self.step.value


def _sent(driver: Driver, response: httpx.Response, session: Session = OLD) -> httpx.Request:
    driver.answer(f.GetSession, session)
    send = driver.expect(f.Send)
    assert isinstance(send, f.Send)
    driver.reply(response)
    return send.request


def _backoff(driver: Driver) -> f.Effect[object]:
    """A retry: reported to the progress hook (a ``retry`` event), then the wait."""
    report = driver.answer(f.Report)
    assert isinstance(report, f.Report) and report.event.kind == "retry"  # type: ignore[attr-defined]
    return driver.answer(f.Sleep)


def test_a_request_takes_the_session_sends_parses_and_records_the_use() -> None:
    driver = Driver(f.request(bulk1.get_job(JOB), CTX))
    request = _sent(driver, _job())
    assert request.headers["X-SFDC-Session"] == "00Dx!OLD-SESSION"
    touch = driver.answer(f.Touch)
    assert isinstance(touch, f.Touch) and touch.session is OLD
    assert driver.result.id == JOB  # type: ignore[attr-defined]
    assert driver.seen == [f.GetSession, f.Send, f.Touch]


def test_a_rejected_session_is_invalidated_and_the_request_sent_once_more() -> None:
    driver = Driver(f.request(bulk1.get_job(JOB), CTX))
    _sent(driver, _error("InvalidSessionId"))
    invalidate = driver.answer(f.Invalidate)
    assert isinstance(invalidate, f.Invalidate) and invalidate.session is OLD
    request = _sent(driver, _job(), session=NEW)
    assert request.headers["X-SFDC-Session"] == "00Dx!NEW-SESSION"
    driver.answer(f.Touch)
    assert driver.result.id == JOB  # type: ignore[attr-defined]


def test_the_session_is_refreshed_only_once_per_request() -> None:
    driver = Driver(f.request(bulk1.get_job(JOB), CTX))
    _sent(driver, _error("InvalidSessionId"))
    driver.answer(f.Invalidate)
    with pytest.raises(errors.InvalidSessionError):
        _sent(driver, _error("InvalidSessionId"), session=NEW)


def test_without_a_way_to_log_in_again_the_rejection_is_final() -> None:
    static = f.FlowContext("64.0", RetryPolicy(), can_refresh=False)
    driver = Driver(f.request(bulk1.get_job(JOB), static))
    with pytest.raises(errors.InvalidSessionError):
        _sent(driver, _error("InvalidSessionId"))


def test_a_server_error_on_an_idempotent_request_is_retried_after_a_backoff() -> None:
    driver = Driver(f.request(bulk1.get_job(JOB), CTX))
    _sent(driver, _error("InternalServerError", 500))
    first = _backoff(driver)
    _sent(driver, _error("InternalServerError", 503))
    second = _backoff(driver)
    assert isinstance(first, f.Sleep) and isinstance(second, f.Sleep)
    assert (first.seconds, second.seconds) == (0.5, 1.0)  # jitter 0: the bare backoff
    _sent(driver, _job())
    driver.answer(f.Touch)
    assert driver.result.id == JOB  # type: ignore[attr-defined]


def test_retries_end_at_max_attempts() -> None:
    driver = Driver(f.request(bulk1.get_job(JOB), CTX))
    for _ in range(2):
        _sent(driver, _error("InternalServerError", 500))
        _backoff(driver)
    with pytest.raises(errors.ServerError):
        _sent(driver, _error("InternalServerError", 500))


def _lost(sent: bool) -> errors.TransportError:
    return errors.TransportError("lost", sent=sent)


def test_a_non_idempotent_request_is_sent_again_only_when_it_surely_never_left() -> None:
    driver = Driver(f.request(bulk1.add_batch(JOB, "LastName\nA\n"), CTX))
    driver.answer(f.GetSession, OLD)
    driver.expect(f.Send)
    driver.fail(_lost(sent=False))  # the connect failed: safe to send again
    _backoff(driver)
    driver.answer(f.GetSession, OLD)
    driver.expect(f.Send)
    driver.fail(_lost(sent=True))  # it may have arrived: never blindly re-sent ...
    driver.answer(f.GetSession, OLD)
    asked = driver.expect(f.Send)
    assert isinstance(asked, f.Send)  # ... the job's batches are listed instead (reconcile)
    assert (asked.request.method, asked.request.url.path.rsplit("/", 1)[-1]) == ("GET", "batch")


def test_a_login_lost_on_the_network_is_retried() -> None:
    driver = Driver(f.request(bulk1.create_job("insert", "Contact"), CTX))
    driver.expect(f.GetSession)
    driver.fail(_lost(sent=True))
    _backoff(driver)
    _sent(driver, _job())
    driver.answer(f.Touch)
    assert driver.result.id == JOB  # type: ignore[attr-defined]


def test_a_store_failing_to_record_the_use_does_not_fail_the_request() -> None:
    driver = Driver(f.request(bulk1.get_job(JOB), CTX))
    _sent(driver, _job())
    driver.expect(f.Touch)
    driver.fail(errors.SessionStoreError("store unreachable"))
    assert driver.result.id == JOB  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- streaming


def _csv_stream() -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/csv"}, content=b"")


def _stream_flow() -> tuple[f.Flow[object], f.RecordStream]:
    call = bulk1.query_result(JOB, BATCH, RESULT, content_type=bulk1.ContentType.CSV)
    reader = f.RecordStream(call.parse)
    return f.exchange(call, CTX, reader), reader


def _emitted(driver: Driver) -> list[object]:
    emit = driver.answer(f.Emit)
    assert isinstance(emit, f.Emit)
    return list(emit.items)


def test_a_streamed_file_is_read_chunk_by_chunk_and_emitted_as_records_arrive() -> None:
    flow, reader = _stream_flow()
    driver = Driver(flow)
    response = _csv_stream()
    driver.answer(f.GetSession, OLD)
    send = driver.answer(f.Send, response)
    assert isinstance(send, f.Send) and send.stream is True
    driver.answer(f.ReadChunk, b'"Id","Name"\n"001","A"\n"00')
    assert _emitted(driver) == [{"Id": "001", "Name": "A"}]
    driver.answer(f.ReadChunk, b'2","B, with a comma"\n')
    assert _emitted(driver) == [{"Id": "002", "Name": "B, with a comma"}]
    driver.answer(f.ReadChunk, b"")
    driver.answer(f.Touch)
    assert driver.result == 2 and reader.delivered == 2


def test_a_connection_dropped_mid_file_resumes_without_losing_or_repeating_a_record() -> None:
    flow, reader = _stream_flow()
    driver = Driver(flow)
    first = _csv_stream()
    driver.answer(f.GetSession, OLD)
    driver.answer(f.Send, first)
    driver.answer(f.ReadChunk, b'"Id"\n"001"\n"002"\n')
    assert _emitted(driver) == [{"Id": "001"}, {"Id": "002"}]
    driver.expect(f.ReadChunk)
    driver.fail(_lost(sent=True))
    close = driver.answer(f.CloseResponse)
    assert isinstance(close, f.CloseResponse) and close.response is first
    _backoff(driver)
    driver.answer(f.GetSession, OLD)
    driver.answer(f.Send, _csv_stream())
    driver.answer(f.ReadChunk, b'"Id"\n"001"\n"002"\n"003"\n')  # the file again, from the top
    assert _emitted(driver) == [{"Id": "003"}]
    driver.answer(f.ReadChunk, b"")
    driver.answer(f.Touch)
    assert reader.delivered == 3


def test_a_rejected_session_before_a_streamed_file_reads_the_error_body_then_refreshes() -> None:
    flow, _ = _stream_flow()
    driver = Driver(flow)
    rejected = _error("InvalidSessionId")
    driver.answer(f.GetSession, OLD)
    driver.answer(f.Send, rejected)
    read = driver.answer(f.ReadBody)
    assert isinstance(read, f.ReadBody) and read.response is rejected
    driver.answer(f.Invalidate)
    driver.answer(f.GetSession, NEW)
    driver.answer(f.Send, _csv_stream())
    driver.answer(f.ReadChunk, b'"Id"\n"001"\n')
    assert _emitted(driver) == [{"Id": "001"}]


def test_an_undecodable_stream_raises_a_protocol_error() -> None:
    flow, _ = _stream_flow()
    driver = Driver(flow)
    driver.answer(f.GetSession, OLD)
    driver.answer(f.Send, _csv_stream())
    driver.answer(f.ReadChunk, b'"Id","Name"\n"001"\n')
    driver.expect(f.CloseResponse)  # the response is released before the error surfaces
    with pytest.raises(errors.ProtocolError, match="could not decode query results"):
        driver.reply()


# --------------------------------------------------------------------------- polling


def _poll_batch(policy: PollPolicy) -> Driver:
    return Driver(f.wait_for_batch(JOB, BATCH, content_type=None, policy=policy, ctx=CTX))


def _poll_once(driver: Driver, state: str) -> None:
    _sent(driver, _batch(state))
    driver.answer(f.Touch)


def test_polling_backs_off_until_the_batch_is_done() -> None:
    driver = _poll_batch(PollPolicy(initial=1, factor=2, max_interval=4, timeout=None))
    driver.answer(f.Now, 0.0)
    waits: list[float] = []
    for state in ("Queued", "InProgress", "InProgress", "InProgress"):
        _poll_once(driver, state)
        driver.answer(f.Now, 0.0)
        sleep = driver.answer(f.Sleep)
        assert isinstance(sleep, f.Sleep)
        waits.append(sleep.seconds)
    _poll_once(driver, "Completed")
    assert waits == [1, 2, 4, 4]
    assert driver.result.state is BatchState.COMPLETED  # type: ignore[attr-defined]


def test_the_poll_deadline_counts_request_time_too() -> None:
    """10 s deadline: a poll that itself took 7 s leaves only 3 s to wait, then it ends."""
    driver = _poll_batch(PollPolicy(initial=5, factor=1, timeout=10))
    driver.answer(f.Now, 100.0)
    _poll_once(driver, "InProgress")
    driver.answer(f.Now, 107.0)  # the request took 7 s
    sleep = driver.answer(f.Sleep)
    assert isinstance(sleep, f.Sleep) and sleep.seconds == 3.0
    _poll_once(driver, "InProgress")
    driver.expect(f.Now)
    with pytest.raises(errors.PollTimeoutError, match="not finished after 11s") as caught:
        driver.reply(111.0)
    assert caught.value.job_id == JOB and caught.value.batch_id == BATCH


def test_a_failed_batch_raises_with_its_state_message() -> None:
    driver = _poll_batch(PollPolicy())
    driver.answer(f.Now, 0.0)
    _sent(driver, _batch("Failed"))
    driver.expect(f.Touch)
    with pytest.raises(errors.BatchFailedError):
        driver.reply()


def test_waiting_for_a_job_without_batches_ends_once_it_is_no_longer_open() -> None:
    empty = _xml(200, f'<batchInfoList xmlns="{NS}"/>')
    driver = Driver(f.wait_for_job(JOB, content_type=None, policy=PollPolicy(initial=2), ctx=CTX))
    driver.answer(f.Now, 0.0)
    for job_state, done in (("Open", False), ("Closed", True)):
        _sent(driver, empty)
        driver.answer(f.Touch)
        _sent(driver, _job(job_state))
        driver.answer(f.Touch)
        if not done:
            driver.answer(f.Now, 1.0)
            driver.answer(f.Sleep)
    assert len(driver.result) == 0  # type: ignore[arg-type]


CaseMaker = Callable[[], f.Flow[object]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: f.request(bulk1.get_job(JOB), CTX),
        lambda: f.wait_for_batch(JOB, BATCH, content_type=None, policy=PollPolicy(), ctx=CTX),
        lambda: f.wait_for_job(JOB, content_type=None, policy=PollPolicy(), ctx=CTX),
    ],
)
def test_a_flow_does_nothing_before_it_is_driven(make: CaseMaker) -> None:
    """Building a flow has no effect: every I/O waits for the driver."""
    flow = make()
    assert isinstance(f.start(flow), (f.GetSession, f.Now))
    flow.close()
