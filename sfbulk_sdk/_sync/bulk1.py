# GENERATED from sfbulk_sdk/_async/bulk1.py by scripts/unasync.py: do not edit.
"""The async client's Bulk API 1.0 half: jobs, batches, results and waiting.

Every method builds a request with the sans-IO core (:mod:`sfbulk_sdk.core.bulk1`)
and hands it, wrapped in the core's request flow, to the driver. The session
is read from the session manager at send time, so a session refreshed by
another worker is picked up, and a rejected one is refreshed once and the
request retried (:func:`sfbulk_sdk.core.flow.exchange`).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Generator, Iterator
from time import sleep as default_sleep
from typing import TypeVar, cast

import httpx
from typing_extensions import Self, Unpack

from .._base import (
    DEFAULT_TIMEOUT,
    LOGIN_TIMEOUT,
    ClientConfig,
    FacadeState,
    choose_api_version,
    instance_from_bulk_server,
)
from ..auth.base import Authenticator, StaticSession
from ..core import bulk1, flow
from ..core.bulk1 import JobOptions
from ..core.clock import Monotonic, Sleep
from ..core.decoders import QueryRecord
from ..core.policy import PollPolicy, RetryPolicy
from ..core.session_state import SessionOptions
from ..core.transport_errors import check_verify
from ..errors import InvalidInputError
from ..models.enums import ContentType, Operation
from ..models.jobs import BatchInfo, BatchInfoList, JobInfo
from ..models.results import BatchResult
from ..models.session import Session
from ..stores.base import SessionStore
from .driver import Driver, flatten
from .sessions import SessionManager

__all__ = ["Bulk1Client"]

T = TypeVar("T")


class Bulk1Client:
    """The explicit Bulk API 1.0 calls of :class:`~sfbulk_sdk.Bulk`."""

    def __init__(
        self,
        bulk_server: str | None = None,
        sessionid: str | None = None,
        *,
        auth: Authenticator | None = None,
        store: SessionStore | None = None,
        api_version: str | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        session_options: SessionOptions | None = None,
        sleep: Sleep | None = None,
        monotonic: Monotonic | None = None,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        check_verify(verify, http_client)
        if (bulk_server is None) != (sessionid is None):
            raise InvalidInputError("give both bulk_server and sessionid, or neither")
        if auth is not None and sessionid is not None:
            raise InvalidInputError("give either auth= or bulk_server/sessionid, not both")
        if http_client is not None and transport is not None:
            raise InvalidInputError("give either transport= or http_client=, not both")
        self.config = ClientConfig(
            api_version=choose_api_version(api_version, auth),
            retry=retry or RetryPolicy(),
            poll=poll or PollPolicy(),
        )
        self._owns_http = http_client is None
        self._driver = Driver(
            http_client or httpx.Client(transport=transport, timeout=timeout, verify=verify),
            sleep=sleep or default_sleep,
            monotonic=monotonic or time.monotonic,
            login_timeout=LOGIN_TIMEOUT,
        )
        self._store = store
        self._session_options: SessionOptions = session_options or SessionOptions()
        self._ctx = flow.FlowContext(self.config.api_version, self.config.retry, False)
        self._job_types: dict[str, ContentType] = {}
        #: The seed facade's current job (see :mod:`sfbulk_sdk._sync.seed`).
        self._facade = FacadeState()
        #: Bulk 2.0 jobs' API version and column delimiter, as their replies said.
        self._bulk2_jobs: dict[str, tuple[str | None, str | None]] = {}
        if auth is not None:
            self._use_auth(auth)
        elif bulk_server is not None and sessionid is not None:
            self._use_auth(StaticSession(instance_from_bulk_server(bulk_server), sessionid))

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session manager and the HTTP client (if this client created it)."""
        sessions = self._driver.sessions
        if sessions is not None:
            sessions.close()
        self._driver.closed = True
        if self._owns_http:
            self._driver.http.close()

    def __repr__(self) -> str:
        driver = getattr(self, "_driver", None)  # (None in a constructor that raised)
        state = "authenticated" if driver and driver.sessions is not None else "not logged in"
        return f"{type(self).__name__}(api_version={self.config.api_version!r}, {state})"

    @property
    def api_version(self) -> str:
        """The API version every request uses."""
        return self.config.api_version

    @property
    def session(self) -> Session | None:
        """The session this client holds now (``None`` before the first request)."""
        sessions = self._driver.sessions
        return sessions.current if sessions is not None else None

    # ------------------------------------------------------------------ sessions

    def _use_auth(self, auth: Authenticator) -> SessionManager:
        manager = SessionManager(
            auth,
            store=self._store,
            send=self._driver.send_login,
            login_timeout=self._driver.login_seconds,
            **self._session_options,
        )
        self._driver.sessions = manager
        self._ctx = flow.FlowContext(self.config.api_version, self.config.retry, auth.can_refresh)
        return manager

    def _call(self, call: flow.CallSpec[T]) -> T:
        return self._driver.run(flow.request(call, self._ctx))

    def _content_type(self, job_id: str) -> ContentType:
        known = self._job_types.get(job_id)
        if known is None:
            known = (self.get_job(job_id)).content_type or ContentType.XML
        return known

    def _remember(self, job: JobInfo) -> JobInfo:
        if job.id is not None and job.content_type is not None:
            self._job_types[job.id] = job.content_type
        return job

    # ------------------------------------------------------------------ jobs

    def create_job(
        self, operation: Operation | str, sobject: str, **options: Unpack[JobOptions]
    ) -> JobInfo:
        """Open a job (``POST job``); ``options`` as :func:`sfbulk_sdk.core.bulk1.create_job`
        takes them (``external_id_field``, ``content_type``, ``concurrency_mode``,
        ``assignment_rule_id``, ``pk_chunking``)."""
        call = bulk1.create_job(operation, sobject, **options)
        return self._remember(self._call(call))

    def get_job(self, job_id: str) -> JobInfo:
        """A job's current state (``GET job/{id}``)."""
        call = bulk1.get_job(job_id, content_type=self._job_types.get(job_id))
        return self._remember(self._call(call))

    def close_job(self, job_id: str) -> JobInfo:
        """Close a job: no more batches; queued ones still run."""
        call = bulk1.close_job(job_id, content_type=self._job_types.get(job_id))
        return self._remember(self._call(call))

    def abort_job(self, job_id: str) -> JobInfo:
        """Abort a job: queued batches become ``NotProcessed``."""
        call = bulk1.abort_job(job_id, content_type=self._job_types.get(job_id))
        return self._remember(self._call(call))

    # ------------------------------------------------------------------ batches

    def add_batch(self, job_id: str, data: bytes | str) -> BatchInfo:
        """Upload one batch (records in the job's format, or SOQL for a query job)."""
        content_type = self._content_type(job_id)
        return self._call(bulk1.add_batch(job_id, data, content_type=content_type))

    def get_batch(self, job_id: str, batch_id: str) -> BatchInfo:
        """One batch's state."""
        content_type = self._job_types.get(job_id)
        return self._call(bulk1.get_batch(job_id, batch_id, content_type=content_type))

    def list_batches(self, job_id: str) -> BatchInfoList:
        """Every batch of a job."""
        content_type = self._job_types.get(job_id)
        return self._call(bulk1.list_batches(job_id, content_type=content_type))

    def get_batch_request(self, job_id: str, batch_id: str) -> bytes:
        """The data uploaded for a batch."""
        content_type = self._content_type(job_id)
        call = bulk1.get_batch_request(job_id, batch_id, content_type=content_type)
        return self._call(call)

    def get_batch_results(self, job_id: str, batch_id: str) -> BatchResult:
        """Per-record results of an ingest batch, in upload order."""
        content_type = self._content_type(job_id)
        call = bulk1.get_batch_results(job_id, batch_id, content_type=content_type)
        return self._call(call)

    def get_query_result_ids(self, job_id: str, batch_id: str) -> list[str]:
        """The result-file ids of a finished query batch."""
        content_type = self._content_type(job_id)
        call = bulk1.get_query_result_ids(job_id, batch_id, content_type=content_type)
        return (self._call(call)).result

    def iter_query_results(
        self, job_id: str, batch_id: str, *, result_ids: list[str] | None = None
    ) -> Iterator[QueryRecord]:
        """Stream every record of a query batch, across all its result files.

        Records come straight from the socket; nothing holds a whole file. A
        session rejected between files is refreshed, and a connection lost
        mid-file is resumed by re-reading that file and skipping the records
        already yielded, so no record is lost or repeated. To stop early,
        close the generator (``contextlib.closing``): that releases the open
        response at once.
        """
        records = cast(
            "Generator[QueryRecord, None]",
            flatten(self._result_batches(job_id, batch_id, result_ids=result_ids)),
        )
        try:
            for record in records:
                yield record
        finally:
            # Closing this generator does not close the inner one: close it
            # here, so that the response is released when the caller stops
            # early, not when the garbage collector finds the generator.
            records.close()

    def _result_batches(
        self, job_id: str, batch_id: str, *, result_ids: list[str] | None = None
    ) -> Iterator[list[QueryRecord]]:
        """:meth:`iter_query_results` a decoded chunk (a list of records) at a time."""
        content_type = self._content_type(job_id)
        if result_ids is None:
            # each result file once, however often the list names it
            result_ids = list(dict.fromkeys(self.get_query_result_ids(job_id, batch_id)))
        for result_id in result_ids:
            call = bulk1.query_result(job_id, batch_id, result_id, content_type=content_type)
            batches = cast(
                "Generator[list[QueryRecord], None]",
                self._driver.batches(flow.exchange(call, self._ctx, flow.RecordStream(call.parse))),
            )
            try:
                for batch in batches:
                    yield batch
            finally:
                batches.close()

    # ------------------------------------------------------------------ waiting

    def wait_for_batch(
        self,
        job_id: str,
        batch_id: str,
        *,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = True,
    ) -> BatchInfo:
        """Poll a batch until it is done (backoff; a deadline raises :class:`PollTimeoutError`).

        The deadline counts the time spent in requests as well as the waits.
        """
        return self._driver.run(
            flow.wait_for_batch(
                job_id,
                batch_id,
                content_type=self._job_types.get(job_id),
                policy=poll or self.config.poll,
                ctx=self._ctx,
                raise_on_failure=raise_on_failure,
            )
        )

    def wait_for_job(self, job_id: str, *, poll: PollPolicy | None = None) -> BatchInfoList:
        """Poll until every batch of the job is done; return them.

        A job with no batches is done once it is no longer ``Open``.
        """
        return self._driver.run(
            flow.wait_for_job(
                job_id,
                content_type=self._job_types.get(job_id),
                policy=poll or self.config.poll,
                ctx=self._ctx,
            )
        )
