"""``Bulk``: the synchronous Bulk API 1.0 client (an I/O shell over the sans-IO core).

Every request reads the session from its session source at send time, so a
session refreshed by another worker is picked up, and a rejected session
(``InvalidSessionId``) is invalidated, refreshed once and the request retried
once. httpx errors never escape: they become :class:`~sfbulk_sdk.errors.TransportError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator
from os import PathLike
from types import TracebackType
from typing import Any, TypeVar

import httpx

from . import _base
from ._base import DEFAULT_TIMEOUT, ClientConfig, FacadeState
from ._source import FixedSessionSource, SessionSource
from .auth.base import Authenticator
from .core import bulk1
from .core.bulk1 import Call, PkChunking, QueryRecord
from .core.policy import PollPolicy, RetryPolicy
from .errors import InvalidInputError, PollTimeoutError, ProtocolError, SfBulkError
from .models.enums import ConcurrencyMode, ContentType, Operation
from .models.jobs import BatchInfo, BatchInfoList, JobInfo
from .models.query import QueryBatchResult
from .models.results import BatchResult
from .models.session import Session
from .stores.base import SessionStore

__all__ = ["Bulk"]

log = logging.getLogger("sfbulk_sdk")
T = TypeVar("T")


class Bulk:
    """Synchronous Salesforce Bulk API 1.0 client.

    Three ways to authenticate:

    * ``Bulk(bulk_server, sessionid)``: a session you already have (the seed's API);
    * ``Bulk(auth=SoapLogin(...), store=...)``: log in on demand, share the
      session through a store, refresh it when it expires or is rejected;
    * ``Bulk()`` then :meth:`login`: the seed's login call.
    """

    def __init__(
        self,
        bulk_server: str | None = None,
        sessionid: str | None = None,
        *,
        auth: Authenticator | None = None,
        store: SessionStore | None = None,
        api_version: str = bulk1.DEFAULT_API_VERSION,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        session_options: dict[str, Any] | None = None,
    ) -> None:
        if (bulk_server is None) != (sessionid is None):
            raise InvalidInputError("give both bulk_server and sessionid, or neither")
        if auth is not None and sessionid is not None:
            raise InvalidInputError("give either auth= or bulk_server/sessionid, not both")
        if http_client is not None and transport is not None:
            raise InvalidInputError("give either transport= or http_client=, not both")
        self.config = ClientConfig(
            api_version=bulk1.validate_api_version(api_version),
            retry=retry or RetryPolicy(),
            poll=poll or PollPolicy(),
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self._store = store
        self._session_options = dict(session_options or {})
        self._source: SessionSource | None = None
        self._can_refresh = False
        self._job_types: dict[str, ContentType] = {}
        self._facade = FacadeState()
        self._last_session: Session | None = None
        #: The one sleep seam: tests patch it; polling and retries go through it.
        self._sleep: Callable[[float], None] = time.sleep
        if auth is not None:
            self._use_auth(auth)
        elif bulk_server is not None and sessionid is not None:
            instance = _base.instance_from_bulk_server(bulk_server)
            self._last_session = Session.static(instance, sessionid)
            self._source = FixedSessionSource(self._last_session)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Bulk:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client (if this client created it) and the session source."""
        if self._source is not None:
            self._source.close()
        if self._owns_http:
            self._http.close()

    def __repr__(self) -> str:
        state = "authenticated" if self._source is not None else "not logged in"
        return f"Bulk(api_version={self.config.api_version!r}, {state})"

    @property
    def api_version(self) -> str:
        """The API version every request uses."""
        return self.config.api_version

    # ------------------------------------------------------------------ sessions

    def _use_auth(self, auth: Authenticator) -> None:
        from .sessions import SessionManager

        self._source = SessionManager(
            auth, store=self._store, send=self._send_login, **self._session_options
        )
        self._can_refresh = auth.login_request() is not None

    def _send_login(self, request: httpx.Request) -> httpx.Response:
        # A login must end well within the refresh lock's TTL, or another worker
        # would take the lock and log in too: its timeouts are shorter.
        request.extensions["timeout"] = _base.LOGIN_TIMEOUT.as_dict()
        try:
            return self._http.send(request)
        except _base.HTTPX_ERRORS as exc:
            raise _base.wrap_transport_error(exc, request) from exc

    def _require_source(self) -> SessionSource:
        if self._source is None:
            raise InvalidInputError(
                "not authenticated: pass auth=, bulk_server/sessionid, or call login()"
            )
        return self._source

    # ------------------------------------------------------------------ the send loop

    def _execute(self, call: Call[T]) -> T:
        source = self._require_source()
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            idempotent = True  # a login lost on the network is safe to repeat
            try:
                session = self._last_session = source.get()
                request = call.build(session, self.config.api_version)
                idempotent = call.idempotent
                response = self._send(request)
                if not refreshed and self._can_refresh and bulk1.is_invalid_session(response):
                    log.info("session rejected on %s %s; refreshing once", call.method, call.path)
                    source.invalidate(session)
                    refreshed = True
                    attempt -= 1
                    continue
                result = call.parse(response)
            except SfBulkError as exc:
                if self.config.retry.should_retry(exc, attempt=attempt, idempotent=idempotent):
                    delay = self.config.retry.delay(attempt, exc)
                    log.warning("retrying %s %s in %.1fs: %s", call.method, call.path, delay, exc)
                    self._sleep(delay)
                    continue
                raise
            self._touch(source, session)
            return result

    def _touch(self, source: SessionSource, session: Session) -> None:
        # The request succeeded: a store that fails to record the use must not
        # turn that success (a created job, an added batch) into an error.
        try:
            source.touch(session)
        except SfBulkError as exc:
            log.warning("could not record the session's use in the store: %s", exc)

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        try:
            return self._http.send(request, stream=stream)
        except _base.HTTPX_ERRORS as exc:
            raise _base.wrap_transport_error(exc, request) from exc

    def _content_type(self, job_id: str) -> ContentType:
        known = self._job_types.get(job_id)
        if known is None:
            known = self.get_job(job_id).content_type or ContentType.XML
        return known

    def _remember(self, job: JobInfo) -> JobInfo:
        if job.id is not None and job.content_type is not None:
            self._job_types[job.id] = job.content_type
        return job

    # ------------------------------------------------------------------ jobs

    def create_job(
        self,
        operation: Operation | str,
        sobject: str,
        *,
        external_id_field: str | None = None,
        content_type: ContentType | str = ContentType.CSV,
        concurrency_mode: ConcurrencyMode | str = ConcurrencyMode.PARALLEL,
        assignment_rule_id: str | None = None,
        pk_chunking: PkChunking | bool | None = None,
    ) -> JobInfo:
        """Open a job (``POST job``)."""
        call = bulk1.create_job(
            operation,
            sobject,
            external_id_field=external_id_field,
            content_type=content_type,
            concurrency_mode=concurrency_mode,
            assignment_rule_id=assignment_rule_id,
            pk_chunking=pk_chunking,
        )
        return self._remember(self._execute(call))

    def get_job(self, job_id: str) -> JobInfo:
        """A job's current state (``GET job/{id}``)."""
        return self._remember(
            self._execute(bulk1.get_job(job_id, content_type=self._job_types.get(job_id)))
        )

    def close_job(self, job_id: str) -> JobInfo:
        """Close a job: no more batches; queued ones still run."""
        return self._remember(
            self._execute(bulk1.close_job(job_id, content_type=self._job_types.get(job_id)))
        )

    def abort_job(self, job_id: str) -> JobInfo:
        """Abort a job: queued batches become ``NotProcessed``."""
        return self._remember(
            self._execute(bulk1.abort_job(job_id, content_type=self._job_types.get(job_id)))
        )

    # ------------------------------------------------------------------ batches

    def add_batch(self, job_id: str, data: bytes | str) -> BatchInfo:
        """Upload one batch (records in the job's format, or SOQL for a query job)."""
        return self._execute(bulk1.add_batch(job_id, data, content_type=self._content_type(job_id)))

    def get_batch(self, job_id: str, batch_id: str) -> BatchInfo:
        """One batch's state."""
        return self._execute(
            bulk1.get_batch(job_id, batch_id, content_type=self._job_types.get(job_id))
        )

    def list_batches(self, job_id: str) -> BatchInfoList:
        """Every batch of a job."""
        return self._execute(bulk1.list_batches(job_id, content_type=self._job_types.get(job_id)))

    def get_batch_request(self, job_id: str, batch_id: str) -> bytes:
        """The data uploaded for a batch."""
        call = bulk1.get_batch_request(job_id, batch_id, content_type=self._content_type(job_id))
        return self._execute(call)

    def get_batch_results(self, job_id: str, batch_id: str) -> BatchResult:
        """Per-record results of an ingest batch, in upload order."""
        call = bulk1.get_batch_results(job_id, batch_id, content_type=self._content_type(job_id))
        return self._execute(call)

    def get_query_result_ids(self, job_id: str, batch_id: str) -> list[str]:
        """The result-file ids of a finished query batch."""
        call = bulk1.get_query_result_ids(job_id, batch_id, content_type=self._content_type(job_id))
        return self._execute(call).result

    def iter_query_results(
        self, job_id: str, batch_id: str, *, result_ids: list[str] | None = None
    ) -> Iterator[QueryRecord]:
        """Stream every record of a query batch, across all its result files.

        Records come straight from the socket; nothing holds a whole file. A
        session rejected between files is refreshed, and a connection lost
        mid-file is resumed by re-reading that file and skipping the records
        already yielded, so no record is lost or repeated. To stop early,
        close the generator (``contextlib.closing``): that releases the open response at once.
        """
        content_type = self._content_type(job_id)
        if result_ids is None:
            result_ids = self.get_query_result_ids(job_id, batch_id)
        for result_id in result_ids:
            call = bulk1.query_result(job_id, batch_id, result_id, content_type=content_type)
            records = self._stream_records(call)
            try:
                yield from records
            finally:
                records.close()

    def _stream_records(self, call: Call[httpx.Response]) -> Generator[QueryRecord]:
        source = self._require_source()
        done = 0
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            try:
                session = self._last_session = source.get()
                request = call.build(session, self.config.api_version)
                response = self._send(request, stream=True)
                try:
                    if response.status_code >= 400:
                        response.read()
                        if (
                            not refreshed
                            and self._can_refresh
                            and bulk1.is_invalid_session(response)
                        ):
                            source.invalidate(session)
                            refreshed = True
                            attempt -= 1
                            continue
                    call.parse(response)
                    decoder = bulk1.record_decoder(response.headers.get("content-type", ""))
                    skip = done
                    try:
                        for chunk in response.iter_bytes():
                            for record in decoder.feed(chunk):
                                if skip:
                                    skip -= 1
                                    continue
                                done += 1
                                yield record
                        for record in decoder.close():
                            if skip:
                                skip -= 1
                                continue
                            done += 1
                            yield record
                    except _base.HTTPX_ERRORS as exc:
                        raise _base.wrap_transport_error(exc, request) from exc
                    except ValueError as exc:
                        raise ProtocolError(
                            f"could not decode query results: {exc}", response=response
                        ) from exc
                finally:
                    response.close()
            except SfBulkError as exc:
                if self.config.retry.should_retry(exc, attempt=attempt, idempotent=True):
                    self._sleep(self.config.retry.delay(attempt, exc))
                    continue
                raise
            self._touch(source, session)
            return

    # ------------------------------------------------------------------ waiting

    def wait_for_batch(
        self,
        job_id: str,
        batch_id: str,
        *,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = True,
    ) -> BatchInfo:
        """Poll a batch until it is terminal (backoff, deadline: :class:`PollTimeoutError`)."""
        policy = poll or self.config.poll
        waited = 0.0
        for interval in policy.intervals():
            info = self.get_batch(job_id, batch_id)
            if _base.check_batch(info, raise_on_failure=raise_on_failure):
                return info
            wait = _base.poll_wait(policy, waited, interval)
            if wait is None:
                break
            self._sleep(wait)
            waited += wait
        raise PollTimeoutError(
            f"batch {batch_id} not finished after {waited:.0f}s", job_id=job_id, batch_id=batch_id
        )

    def wait_for_job(self, job_id: str, *, poll: PollPolicy | None = None) -> BatchInfoList:
        """Poll until every batch of the job is terminal; return them.

        A job with no batches is done once it is no longer ``Open``.
        """
        policy = poll or self.config.poll
        waited = 0.0
        for interval in policy.intervals():
            batches = self.list_batches(job_id)
            if batches.batch_info:
                if _base.all_batches_done(batches):
                    return batches
            elif _base.job_not_open(self.get_job(job_id)):
                return batches
            wait = _base.poll_wait(policy, waited, interval)
            if wait is None:
                break
            self._sleep(wait)
            waited += wait
        raise PollTimeoutError(f"job {job_id} not finished after {waited:.0f}s", job_id=job_id)

    # ------------------------------------------------------------------ the seed's API

    @property
    def bulk_server(self) -> str | None:
        """The instance URL (seed API), e.g. ``https://na15.salesforce.com/``."""
        if self._last_session is None:
            return None
        return self._last_session.instance_url + "/"

    @property
    def sessionid(self) -> str | None:
        """The current session id (seed API). Never printed by ``repr``."""
        if self._last_session is None:
            return None
        return self._last_session.session_id.get_secret_value()

    @property
    def job(self) -> JobInfo | None:
        """The facade's current job."""
        return self._facade.job

    def login(
        self,
        username: str,
        password: str,
        security_token: str = "",
        sandbox: bool = False,
        *,
        login_url: str | None = None,
    ) -> Session:
        """Log in with SOAP ``login()`` (seed API).

        Fills :attr:`bulk_server` and :attr:`sessionid`. The seed's fourth
        argument was the API version; here it is ``sandbox``, so anything but
        a bool there is refused rather than read as ``sandbox=True``."""
        from .auth.soap import SoapLogin

        _base.check_sandbox_flag(sandbox)
        auth = SoapLogin(
            username,
            password,
            security_token,
            sandbox=sandbox,
            login_url=login_url,
            api_version=self.config.api_version,
        )
        if self._source is not None:
            self._source.close()
        self._use_auth(auth)
        self._last_session = self._require_source().get()
        return self._last_session

    def job_create(
        self,
        operation: Operation | str,
        sobject: str,
        external_id_field: str | None = None,
        *,
        content_type: ContentType | str = ContentType.CSV,
        concurrency_mode: ConcurrencyMode | str = ConcurrencyMode.PARALLEL,
        pk_chunking: PkChunking | bool | None = None,
    ) -> JobInfo:
        """Create the facade's current job (seed API).

        ``pk_chunking`` splits a query job by Id ranges; :meth:`job_is_completed`
        and :meth:`batch_result` count the original ``NotProcessed`` batch as done."""
        job = self.create_job(
            operation,
            sobject,
            external_id_field=external_id_field,
            content_type=content_type,
            concurrency_mode=concurrency_mode,
            pk_chunking=pk_chunking,
        )
        self._facade = FacadeState(job=job)
        return job

    def batch_create(self, data: bytes | str) -> BatchInfo:
        """Add one batch to the current job (seed API)."""
        job = self._facade.require_job()
        assert job.id is not None
        info = self.add_batch(job.id, data)
        self._facade.batch_ids.append(info.id)
        return info

    def batch_create_from_csv(
        self, path: str | PathLike[str], max_records: int = 10_000
    ) -> list[BatchInfo]:
        """Split a CSV file into batches (quoted multi-line fields kept whole) and add them."""
        from .csvfiles import iter_csv_file_batches

        max_records = _base.check_seed_max_records(max_records)
        return [
            self.batch_create(batch)
            for batch in iter_csv_file_batches(path, max_records=max_records)
        ]

    def job_is_completed(self) -> bool:
        """True once every batch of the current job is finished (seed API).

        A job without batches has nothing to wait for: True, as in the seed,
        so that its ``while not job_is_completed()`` loop ends."""
        job = self._facade.require_job()
        assert job.id is not None
        batches = self.list_batches(job.id)
        return _base.all_batches_done(batches)

    def batch_status(self) -> dict[str, BatchInfo]:
        """Every batch of the current job by id (seed API)."""
        job = self._facade.require_job()
        assert job.id is not None
        return {b.id: b for b in self.list_batches(job.id)}

    def batch_result(self, only_invalid: bool = False) -> dict[str, BatchResult | QueryBatchResult]:
        """Results by batch id (seed API): :class:`BatchResult` for ingest jobs,
        :class:`QueryBatchResult` (all records) for query jobs."""
        job = self._facade.require_job()
        assert job.id is not None
        out: dict[str, BatchResult | QueryBatchResult] = {}
        for batch in self.list_batches(job.id):
            if batch.state.value == "NotProcessed":
                continue  # a PK-chunked original holds no results
            if job.operation is not None and job.operation.is_query:
                ids = self.get_query_result_ids(job.id, batch.id)
                records = list(self.iter_query_results(job.id, batch.id, result_ids=ids))
                out[batch.id] = QueryBatchResult(batch_id=batch.id, result_ids=ids, records=records)
            else:
                result = self.get_batch_results(job.id, batch.id)
                out[batch.id] = _base.filter_invalid(result) if only_invalid else result
        return out

    def job_close(self) -> JobInfo:
        """Close the current job (seed API)."""
        job = self._facade.require_job()
        assert job.id is not None
        closed = self.close_job(job.id)
        self._facade.job = closed
        return closed
