"""Transient faults are retried on every endpoint; refusals are not, and raise typed errors.

Every Bulk API 1.0 and 2.0 endpoint the client calls is failed once, before the
org acts, in each transient way: HTTP 500, HTTP 503, a dropped connection
(reset), a read timeout and ``TooManyLockFailure``. The call still succeeds,
and the waits between attempts are the policy's capped, jittered backoff, or
what ``Retry-After`` asked for (in seconds or as an HTTP date). Quota
(``ExceededQuota``, ``REQUEST_LIMIT_EXCEEDED``), state (``InvalidJobState``) and
authentication refusals are sent once and raise their typed error. The waits
are recorded, never slept.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from sfbulk_sdk import Bulk, RetryPolicy, errors
from sfbulk_sdk.auth import StaticSession
from sfbulk_sdk.core.policy import retry_after_seconds
from sfbulk_sdk.deprecations import LoginDeprecationWarning
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.org_clients import soap_auth
from tests.timing import FakeTime

RETRY = RetryPolicy(max_attempts=4, backoff=0.5, max_backoff=20.0, jitter=0.25)


class _Timeouts(FakeOrgTransport):
    """The fake org, with a read timeout (before the org sees it) on matching requests."""

    def __init__(self, org: FakeOrg) -> None:
        super().__init__(org)
        self.pending: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for rule in self.pending:
            method, fragment = rule
            if request.method == method and request.url.path.endswith(fragment):
                self.pending.remove(rule)
                raise httpx.ReadTimeout("the read timed out", request=request)
        return super().handle_request(request)


def _client(org: FakeOrg, time: FakeTime, transport: httpx.BaseTransport | None = None) -> Bulk:
    auth = StaticSession(org.instance_url, org.issue_session())
    return Bulk(auth=auth, transport=transport or FakeOrgTransport(org), retry=RETRY, **time.sync())


#: name → (method, path regex, how to reach the endpoint given a client and a prepared job).
Step = Callable[[Bulk, dict[str, str]], object]


def _bulk1_job(bulk: Bulk, ids: dict[str, str]) -> None:
    job = bulk.create_job("insert", "Contact", content_type="CSV")
    assert job.id is not None
    ids["job"] = job.id


def _bulk1_batch(bulk: Bulk, ids: dict[str, str]) -> None:
    _bulk1_job(bulk, ids)
    ids["batch"] = bulk.add_batch(ids["job"], b"LastName\nA\nB\n").id
    bulk.close_job(ids["job"])
    bulk.wait_for_batch(ids["job"], ids["batch"])


def _bulk2_job(bulk: Bulk, ids: dict[str, str]) -> None:
    job = bulk.create_ingest_job("insert", "Contact")
    assert job.id is not None
    ids["job2"] = job.id


def _bulk2_done(bulk: Bulk, ids: dict[str, str]) -> None:
    _bulk2_job(bulk, ids)
    bulk.upload_job_data(ids["job2"], b"LastName\nA\nB\n")
    bulk.upload_complete(ids["job2"])
    bulk.wait_for_ingest_job(ids["job2"])


ENDPOINTS: dict[str, tuple[str, str, Callable[[Bulk, dict[str, str]], object], Step]] = {
    "bulk1 create job": (
        "POST",
        "/job",
        lambda b, i: None,
        lambda b, i: b.create_job("insert", "Contact", content_type="CSV"),
    ),
    "bulk1 get job": ("GET", "/job/{job}", _bulk1_job, lambda b, i: b.get_job(i["job"])),
    "bulk1 add batch": (
        "POST",
        "/job/{job}/batch",
        _bulk1_job,
        lambda b, i: b.add_batch(i["job"], b"LastName\nA\n"),
    ),
    "bulk1 close job": ("POST", "/job/{job}", _bulk1_job, lambda b, i: b.close_job(i["job"])),
    "bulk1 list batches": (
        "GET",
        "/job/{job}/batch",
        _bulk1_batch,
        lambda b, i: b.list_batches(i["job"]),
    ),
    "bulk1 get batch": (
        "GET",
        "/batch/{batch}",
        _bulk1_batch,
        lambda b, i: b.get_batch(i["job"], i["batch"]),
    ),
    "bulk1 batch request": (
        "GET",
        "/batch/{batch}/request",
        _bulk1_batch,
        lambda b, i: b.get_batch_request(i["job"], i["batch"]),
    ),
    "bulk1 batch results": (
        "GET",
        "/batch/{batch}/result",
        _bulk1_batch,
        lambda b, i: list(b.get_batch_results(i["job"], i["batch"])),
    ),
    "bulk2 create job": (
        "POST",
        "/jobs/ingest",
        lambda b, i: None,
        lambda b, i: b.create_ingest_job("insert", "Contact"),
    ),
    "bulk2 upload": (
        "PUT",
        "/jobs/ingest/{job2}/batches",
        _bulk2_job,
        lambda b, i: b.upload_job_data(i["job2"], b"LastName\nA\n"),
    ),
    "bulk2 upload complete": (
        "PATCH",
        "/jobs/ingest/{job2}",
        lambda b, i: (_bulk2_job(b, i), b.upload_job_data(i["job2"], b"LastName\nA\n")),
        lambda b, i: b.upload_complete(i["job2"]),
    ),
    "bulk2 get job": (
        "GET",
        "/jobs/ingest/{job2}",
        _bulk2_job,
        lambda b, i: b.get_ingest_job(i["job2"]),
    ),
    "bulk2 results": (
        "GET",
        "/jobs/ingest/{job2}/successfulResults/",
        _bulk2_done,
        lambda b, i: list(b.iter_ingest_results(i["job2"], "successful")),
    ),
    "bulk2 query": (
        "POST",
        "/jobs/query",
        lambda b, i: None,
        lambda b, i: b.create_query_job("SELECT Id FROM Contact"),
    ),
}
KINDS = ("500", "503", "reset", "read timeout", "TooManyLockFailure")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_transient_fault_on_every_endpoint_is_retried_with_backoff(
    endpoint: str, kind: str
) -> None:
    method, template, prepare, step = ENDPOINTS[endpoint]
    org = FakeOrg()
    time = FakeTime()
    transport = _Timeouts(org)
    with _client(org, time, transport) as bulk:
        ids: dict[str, str] = {}
        prepare(bulk, ids)
        path = template.format(**ids)
        time.slept.clear()
        if kind == "read timeout":
            transport.pending.append((method, path))
        else:
            org.inject_fault(
                f"{path}$" if not path.endswith("/") else path,
                method=method,
                status=503 if kind == "503" else (400 if kind == "TooManyLockFailure" else 500),
                exception_code="TooManyLockFailure"
                if kind == "TooManyLockFailure"
                else "InternalServerError",
                drop_connection=kind == "reset",
            )
        step(bulk, ids)  # succeeds all the same
    assert org.faults.active() == [] and transport.pending == []  # the fault did strike
    # One failure, one wait, one more attempt; an upload is reconciled instead: the
    # job is read and the data sent again at once (see test_reconcile.py).
    assert len(time.slept) == (0 if endpoint == "bulk2 upload" else 1), time.slept
    assert all(0.5 * 0.75 <= wait <= 0.5 * 1.25 for wait in time.slept)  # jittered backoff


def test_the_backoff_doubles_is_jittered_and_capped() -> None:
    policy = RetryPolicy(max_attempts=10, backoff=0.5, max_backoff=4.0, jitter=0.25)
    rng = random.Random(7)
    waits = [[policy.delay(attempt, rng=rng) for attempt in range(1, 9)] for _ in range(50)]
    for attempt in range(1, 9):
        base = min(4.0, 0.5 * 2 ** (attempt - 1))
        seen = [run[attempt - 1] for run in waits]
        assert all(base * 0.75 <= w <= base * 1.25 for w in seen)
        assert len(set(seen)) > 40  # jittered: the waits differ
    assert max(max(run) for run in waits) <= 4.0 * 1.25  # capped


def _after(org: FakeOrg, seconds: float) -> str:
    return format_datetime(org.state.now() + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured_in_seconds_and_as_an_http_date(form: str) -> None:
    org = FakeOrg()
    time = FakeTime()
    with _client(org, time) as bulk:
        job = bulk.create_ingest_job("insert", "Contact")
        assert job.id is not None
        value = "7" if form == "seconds" else _after(org, 7)
        org.inject_fault(f"/jobs/ingest/{job.id}$", method="GET", status=503, retry_after=value)
        assert bulk.get_ingest_job(job.id).id == job.id
    assert time.slept == [pytest.approx(7.0, abs=1.0)]


def test_a_retry_after_longer_than_the_cap_is_not_waited_for() -> None:
    org = FakeOrg()
    time = FakeTime()
    with _client(org, time) as bulk:
        job = bulk.create_ingest_job("insert", "Contact")
        assert job.id is not None
        org.inject_fault(f"/jobs/ingest/{job.id}$", method="GET", status=503, retry_after="3600")
        with pytest.raises(errors.ServerError) as caught:
            bulk.get_ingest_job(job.id)
    assert time.slept == [] and caught.value.status_code == 503
    assert caught.value.response is not None
    assert caught.value.response.headers["retry-after"] == "3600"


def test_retry_after_parsing() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

    def reply(headers: dict[str, str]) -> httpx.Response:
        return httpx.Response(503, headers=headers)

    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(reply({"Retry-After": "12"})) == 12.0
    assert retry_after_seconds(reply({"Retry-After": "-3"})) == 0.0
    assert retry_after_seconds(reply({"Retry-After": date}), now=now) == 30.0
    server_date = format_datetime(now, usegmt=True)
    assert retry_after_seconds(reply({"Retry-After": date, "Date": server_date})) == 30.0
    past = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(reply({"Retry-After": past}), now=now) == 0.0
    assert retry_after_seconds(reply({"Retry-After": date})) is None  # no clock to measure by
    for junk in ("soon", "nan", "inf", ""):
        assert retry_after_seconds(reply({"Retry-After": junk}), now=now) is None


#: What Salesforce refuses for good: (status, code, path, the typed error).
REFUSALS = {
    "ExceededQuota": (400, "ExceededQuota", "/batch$", errors.ExceededQuotaError),
    "REQUEST_LIMIT_EXCEEDED": (
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "/jobs/ingest$",
        errors.ExceededQuotaError,
    ),
    "InvalidJobState": (400, "InvalidJobState", "/batch$", errors.InvalidJobStateError),
    "InvalidSessionId": (400, "InvalidSessionId", "/batch$", errors.InvalidSessionError),
    "INVALID_SESSION_ID": (401, "INVALID_SESSION_ID", "/jobs/ingest$", errors.InvalidSessionError),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_quota_state_and_session_refusals_are_sent_once_and_typed(name: str) -> None:
    status, code, path, error = REFUSALS[name]
    org = FakeOrg()
    time = FakeTime()
    with _client(org, time) as bulk:  # a static session: it cannot be refreshed
        job = bulk.create_job("insert", "Contact", content_type="CSV")
        assert job.id is not None
        org.inject_fault(path, status=status, exception_code=code, message="refused")
        before = sum(org.requests.values())
        send: Callable[[], object] = (
            (lambda: bulk.add_batch(job.id or "", b"LastName\nA\n"))
            if path == "/batch$"
            else (lambda: bulk.create_ingest_job("insert", "Contact"))
        )
        with pytest.raises(error) as caught:
            send()
    assert sum(org.requests.values()) - before == 1  # sent once, never again
    assert time.slept == []
    assert caught.value.code == code and caught.value.status_code == status
    assert not caught.value.retryable
    assert org.batches(job.id) == []


def test_an_authentication_failure_is_not_retried() -> None:
    org = FakeOrg()
    time = FakeTime()
    with warnings.catch_warnings():  # SOAP login() is retiring: warned once per process
        warnings.simplefilter("ignore", LoginDeprecationWarning)
        auth = soap_auth(password="wrong")
    bulk = Bulk(auth=auth, transport=FakeOrgTransport(org), retry=RETRY, **time.sync())
    with bulk, pytest.raises(errors.LoginError) as caught:
        bulk.create_job("insert", "Contact")
    assert caught.value.code == "INVALID_LOGIN" and not caught.value.retryable
    assert org.failed_logins == 1 and time.slept == []
    assert org.jobs() == []


#: The org refusing for now, without processing the request: (status, code, message).
THROTTLES = {
    "ConcurrentRequests": (
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
    ),
    "HTTP 429": (429, "TooManyRequests", "Too Many Requests"),
    "HTTP 420": (420, "EnhanceYourCalm", "Enhance Your Calm"),
}


@pytest.mark.parametrize("throttle", sorted(THROTTLES))
def test_a_throttled_create_is_sent_again_after_a_backoff_without_reconciling(
    throttle: str,
) -> None:
    # Other workers' long requests hold the org's 25 concurrent slots: the refusal
    # processed nothing, so even a create (not idempotent) is simply sent again.
    status, code, message = THROTTLES[throttle]
    org = FakeOrg()
    time = FakeTime()
    with _client(org, time) as bulk:
        job = bulk.create_job("insert", "Contact", content_type="CSV")
        assert job.id is not None
        for path in (r"/batch$", r"/jobs/ingest$"):
            org.inject_fault(
                path, method="POST", status=status, exception_code=code, message=message
            )
        batch = bulk.add_batch(job.id, b"LastName\nA\n")
        ingest = bulk.create_ingest_job("insert", "Contact")
    assert org.faults.active() == []  # both struck
    assert [b.id for b in org.batches(job.id)] == [batch.id]
    assert [j.id for j in org.state.bulk2.ingest_jobs()] == [ingest.id]
    assert org.requests["fault"] == 2
    assert org.requests["batch_create"] == 1 and org.requests["batch_list"] == 0  # no reconcile
    # the throttle's own, longer first wait (RetryPolicy.throttle_backoff), jittered
    assert len(time.slept) == 2 and all(5.0 * 0.75 <= w <= 5.0 * 1.25 for w in time.slept)


def test_a_throttle_that_lasts_raises_a_typed_retryable_error_after_the_policy() -> None:
    status, code, message = THROTTLES["ConcurrentRequests"]
    org = FakeOrg()
    time = FakeTime()
    with _client(org, time) as bulk:
        job = bulk.create_job("insert", "Contact", content_type="CSV")
        assert job.id is not None
        org.inject_fault(
            r"/batch$", method="POST", count=10, status=status, exception_code=code, message=message
        )
        with pytest.raises(errors.ThrottledError) as caught:
            bulk.add_batch(job.id, b"LastName\nA\n")
    assert org.requests["fault"] == RETRY.max_attempts and len(time.slept) == 3
    for wait, base in zip(time.slept, (5.0, 10.0, 20.0), strict=True):  # doubling to the cap
        assert base * 0.75 <= wait <= base * 1.25
    assert isinstance(caught.value, errors.ExceededQuotaError) and caught.value.retryable
    assert caught.value.code == code and caught.value.status_code == status
    assert org.batches(job.id) == []


def test_only_the_concurrent_request_limit_is_a_throttle() -> None:
    classify = errors.error_class_for_code
    assert classify("REQUEST_LIMIT_EXCEEDED", 403, "TotalRequests Limit exceeded.") is (
        errors.ExceededQuotaError
    )
    assert classify("REQUEST_LIMIT_EXCEEDED", 403, THROTTLES["ConcurrentRequests"][2]) is (
        errors.ThrottledError
    )
    assert classify("ExceededQuota", 400, "") is errors.ExceededQuotaError
    assert classify("ExceededQuota", 400, "concurrent batches") is errors.ExceededQuotaError
    assert classify("request_limit_exceeded", 403, "CONCURRENTREQUESTS") is errors.ThrottledError
    assert classify("HTTP429", 429) is errors.ThrottledError
    assert classify("HTTP420", 420) is errors.ThrottledError
    assert classify("InvalidJob", 429) is errors.InvalidJobError  # Salesforce's code first
    assert classify("HTTP418", 418) is errors.APIError
