"""The fake org as tests use it: :class:`FakeOrg`, a small facade over the org's state.

Everything the org knows is an :class:`~sfbulk_sdk.testing.state.OrgState`
(``org.state``); the HTTP APIs are handler modules in
:mod:`sfbulk_sdk.testing.api`, reached through :meth:`FakeOrg.handle`. The ways
of serving the org take it as an argument and are not imported here:
``FakeOrgTransport(org)`` (:mod:`~sfbulk_sdk.testing.transport`),
``create_app(org)`` (:mod:`~sfbulk_sdk.testing.asgi`) and
``serve(org)`` / ``serve_in_thread(org)`` (:mod:`~sfbulk_sdk.testing.server`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from typing_extensions import Unpack

from ..core.clock import Clock, ManualClock, utc_now
from ..models import BatchInfo, JobInfo
from ..models.session import DEFAULT_SESSION_SECONDS
from .accounts import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeUser,
    UserDetails,
)
from .describe import DescribeDocument
from .faults import Fault, FaultOptions, FaultSet
from .http import FakeRequest, FakeResponse
from .oauth import OAuthRegistry
from .router import dispatch
from .schema import FieldSpec, FieldValue, FieldValueError, SObjectSpec
from .settings import DEFAULT_INSTANCE_URL, OrgSettings
from .state import OrgState, OrgStats, WriteError

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_USERNAME",
    "FakeOrg",
    "WriteError",
]


def _clock_name(clock: Clock) -> str:
    if isinstance(clock, ManualClock):
        return repr(clock)
    return getattr(clock, "__qualname__", None) or repr(clock)


class FakeOrg:
    """An in-memory Salesforce org speaking SOAP ``login()``, OAuth 2.0, Bulk API 1.0 and 2.0.

    Parameters (all keyword-only):

    ``users``
        :class:`FakeUser` accounts; default one user, :data:`DEFAULT_USERNAME`
        with :data:`DEFAULT_PASSWORD` and :data:`DEFAULT_SECURITY_TOKEN`.
    ``clock``
        Where time comes from: a :data:`~sfbulk_sdk.core.clock.Clock` callable
        (default :func:`~sfbulk_sdk.core.clock.utc_now`); pass a
        :class:`~sfbulk_sdk.core.clock.ManualClock` to move time by hand.
    ``session_timeout``
        Seconds of inactivity after which a session expires (reported as
        ``sessionSecondsValid``); every use renews it.
    ``queue_time`` / ``processing_time``
        Simulated seconds a batch stays ``Queued`` and then ``InProgress`` (a
        Bulk 2.0 job: ``UploadComplete``, then ``InProgress``).
    ``query_result_file_rows``
        Split query results into files of at most this many rows (several
        result ids per batch); ``None`` keeps one file.
    ``latency``
        Seconds the transports and the ASGI app wait before answering.
    ``instance_url``
        Base URL the in-process transport reports in ``serverUrl``.
    ``oldest_api_version`` / ``latest_api_version``
        Versions outside this range are refused; SOAP ``login()`` is also
        refused from 65.0 on, as Salesforce does.
    ``max_batch_records`` / ``max_batch_bytes`` / ``max_batch_chars``
        Bulk 1.0 batch limits (10,000 records, 10 MB, 10,000,000 characters).
    ``max_logins_per_hour``
        SOAP logins a user may make in a rolling hour (``LOGIN_RATE_EXCEEDED`` beyond).
    ``max_batches_per_day``
        Batches the org may create in a rolling 24 hours, PK-chunk batches included
        (15,000; adding one more fails with ``ExceededQuota``).
    ``soap_login_enabled``
        ``False`` refuses SOAP ``login()`` at every version, as orgs created from
        Winter '26 on do until an admin enables it.
    ``gzip_responses``
        Compress responses of 1 KB or more when the client sends ``Accept-Encoding: gzip``.
    ``organization_name`` / ``sandbox``
        What ``login()`` reports about the org.
    ``sobject_describes``
        REST describe documents (JSON text or parsed) of the org's own objects
        and fields, loaded in order (parents first); later ones with
        ``org.state.load_describe(document)``.
    ``bulk2_max_upload_bytes``
        The most raw CSV bytes one Bulk 2.0 upload may carry (100,000,000: the
        documented 150 MB of base64).
    ``bulk2_jobs_page_size``
        Jobs per page of ``GET jobs/ingest`` / ``jobs/query`` (1,000).
    ``bulk2_query_page_records`` / ``bulk2_query_max_page_records``
        Rows of a query results page without ``maxRecords`` (50,000), and the
        most a page holds whatever ``maxRecords`` asks (1,000,000; Salesforce's
        size limits in rows).
    ``bulk2_empty_failed_results_status``
        ``200`` (the header alone) or ``204`` (no content) for an empty
        ``failedResults``; both are seen from Salesforce.
    ``bulk2_result_seed``
        The seed ordering ingest result rows; ``None`` draws one per job
        (deterministic for the org), so that no client depends on the order.
    ``bulk2_max_query_jobs_per_day``
        Bulk 2.0 query jobs in a rolling 24 hours (10,000).
    ``max_api_requests_per_day``
        REST requests (``/services/data``) in a rolling 24 hours (100,000);
        beyond them HTTP 403 ``REQUEST_LIMIT_EXCEEDED``.

    The settings stay changeable on ``org.state.settings``; everything else the
    org knows (users and sessions, tables, jobs) is on :attr:`state` too.
    """

    def __init__(
        self,
        *,
        users: Iterable[FakeUser] | None = None,
        clock: Clock = utc_now,
        session_timeout: int = DEFAULT_SESSION_SECONDS,
        queue_time: float = 0.0,
        processing_time: float = 0.0,
        query_result_file_rows: int | None = None,
        latency: float = 0.0,
        instance_url: str = DEFAULT_INSTANCE_URL,
        organization_name: str = "Fake Org",
        oldest_api_version: str | float = "31.0",
        latest_api_version: str | float = "68.0",
        max_batch_records: int = 10_000,
        max_batch_bytes: int = 10 * 1024 * 1024,
        max_batch_chars: int = 10_000_000,
        max_logins_per_hour: int = 3600,
        gzip_responses: bool = True,
        sandbox: bool = False,
        max_batches_per_day: int = 15_000,
        soap_login_enabled: bool = True,
        sobject_describes: Iterable[DescribeDocument] = (),
        bulk2_max_upload_bytes: int = 100_000_000,
        bulk2_jobs_page_size: int = 1000,
        bulk2_query_page_records: int = 50_000,
        bulk2_query_max_page_records: int = 1_000_000,
        bulk2_empty_failed_results_status: int = 200,
        bulk2_result_seed: int | None = None,
        bulk2_max_query_jobs_per_day: int = 10_000,
        max_api_requests_per_day: int = 100_000,
    ) -> None:
        settings = OrgSettings.from_arguments(locals())
        self._state = OrgState(settings, clock=clock, users=users)
        for document in sobject_describes:
            self._state.load_describe(document)

    def __repr__(self) -> str:
        state = self._state
        return (
            f"FakeOrg(org_id={state.org_id!r}, users={len(state.accounts.users)}, "
            f"jobs={state.bulk1.job_count}, bulk2_jobs={state.bulk2.job_count}, "
            f"clock={_clock_name(state.clock)})"
        )

    # -- what the org is -------------------------------------------------------

    @property
    def state(self) -> OrgState:
        """Everything the org knows: settings, tables, users and sessions, jobs, counters."""
        return self._state

    @property
    def clock(self) -> Clock:
        """Where the org's time comes from."""
        return self._state.clock

    @property
    def instance_url(self) -> str:
        """The base URL the in-process transport reports in ``serverUrl``."""
        return self._state.settings.instance_url

    @property
    def org_id(self) -> str:
        """The org's 18-character id (``00D...``)."""
        return self._state.org_id

    def advance(self, seconds: float) -> None:
        """Move a :class:`~sfbulk_sdk.core.clock.ManualClock` forward; batches progress."""
        self._state.advance(seconds)

    # -- schema and data -------------------------------------------------------

    def declare_object(
        self,
        name: str,
        fields: Iterable[FieldSpec] = (),
        *,
        key_prefix: str | None = None,
        label: str | None = None,
    ) -> SObjectSpec:
        """Declare a custom object (``Name__c``) with its fields.

        It gets the system fields plus a ``Name`` text field (defaulting to the
        record id when left blank, as in Salesforce) and the next custom key
        prefix (``a0X``, ``a0Y``, ...) unless ``key_prefix`` is given. The schema
        of any object is ``org.state.describe(name)``; an object can also be
        loaded from a real org's describe document (``sobject_describes=``,
        ``org.state.load_describe``).
        """
        return self._state.declare_object(name, fields, key_prefix, label)

    def add_field(self, sobject: str, spec: FieldSpec) -> None:
        """Add a custom field (``Field__c``) to an existing object."""
        self._state.add_field(sobject, spec)

    def insert(
        self, sobject: str, rows: Iterable[Mapping[str, object]], *, as_user: str | None = None
    ) -> list[str]:
        """Create records directly (validated like a Bulk insert); returns their ids.

        Raises :class:`WriteError` if any row is rejected (the others are kept).
        """
        return self._state.insert(sobject, rows, as_user=as_user)

    def records(
        self, sobject: str, *, include_deleted: bool = False
    ) -> list[dict[str, FieldValue]]:
        """Every row of ``sobject`` as a dict of typed values, in creation order."""
        return self._state.records(sobject, include_deleted=include_deleted)

    def record(self, sobject: str, record_id: str) -> dict[str, FieldValue] | None:
        """One row by id (15 or 18 characters), or ``None``."""
        return self._state.record(sobject, record_id)

    def count(self, sobject: str, *, include_deleted: bool = False) -> int:
        """How many rows ``sobject`` holds."""
        return self._state.count(sobject, include_deleted=include_deleted)

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, FieldValue]]:
        """Run a query of the supported SOQL subset; keys are the field names as queried."""
        return self._state.query(soql, include_deleted=include_deleted)

    # -- users and sessions ----------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        security_token: str = "",
        **details: Unpack[UserDetails],
    ) -> FakeUser:
        """Create a user who can log in with ``password + security_token``.

        The org's users are ``org.state.accounts.users`` (the first one is
        ``org.state.accounts.default``).
        """
        return self._state.accounts.register(
            FakeUser(username, password, security_token, **details)
        )

    def issue_session(self, username: str | None = None) -> str:
        """Open a session for a user without a SOAP login (as an OAuth flow would)."""
        return self._state.accounts.issue_session(username)

    @property
    def oauth(self) -> OAuthRegistry:
        """The OAuth controls: external client apps, refresh tokens, counters.

        ``org.oauth.add_app(...)`` configures an app (returned with its client id
        and secret), ``org.oauth.issue_refresh_token(app, username)`` stands in
        for a web-server flow, ``org.oauth.stats()`` counts token requests.
        """
        return self._state.oauth

    def end_session(self, session_id: str) -> bool:
        """Invalidate one session (SOAP ``logout()``)."""
        return self._state.accounts.end_session(session_id)

    def expire_sessions(self) -> int:
        """Invalidate every session; returns how many there were."""
        return self._state.accounts.expire_sessions()

    # -- jobs ------------------------------------------------------------------

    def jobs(self) -> list[JobInfo]:
        """Every Bulk 1.0 job's ``jobInfo``, oldest first (Bulk 2.0 jobs: ``state.bulk2``)."""
        return self._state.jobs()

    def job(self, job_id: str) -> JobInfo:
        """The ``jobInfo`` of a job."""
        return self._state.job(job_id)

    def batches(self, job_id: str) -> list[BatchInfo]:
        """The ``batchInfo`` of every batch of a job."""
        return self._state.batches(job_id)

    # -- faults ----------------------------------------------------------------

    @property
    def faults(self) -> FaultSet:
        """The injected request faults still pending (and how many fired)."""
        return self._state.faults

    def inject_fault(self, path: str, **options: Unpack[FaultOptions]) -> Fault:
        """Fail the next ``count`` requests whose path matches the regex ``path``.

        The reply has HTTP ``status`` and an error body shaped for the API
        (Bulk ``<error>``, SOAP fault) with ``exception_code``; with
        ``drop_connection`` the connection is cut instead. With ``after`` the
        org acts on the request first and only its reply is lost;
        ``retry_after`` is sent as the ``Retry-After`` header. The defaults
        are :class:`~sfbulk_sdk.testing.faults.Fault`'s: one request, HTTP 500
        ``InternalServerError``, any method, before the org acts.
        """
        return self._state.faults.add(Fault(path, **options))

    def inject_record_errors(
        self,
        sobject: str,
        *,
        count: int = 1,
        status_code: str = "UNABLE_TO_LOCK_ROW",
        message: str = "unable to obtain exclusive access to this record",
        fields: Iterable[str] = (),
        every: int = 1,
    ) -> None:
        """Make the next ``count`` records written to ``sobject`` fail with ``status_code``;
        with ``every=20``, one record in every 20 of the next ``20 * count`` fails."""
        error = FieldValueError(status_code, message, tuple(fields))
        self._state.inject_record_errors(sobject, count, error, every)

    def clear_faults(self) -> int:
        """Remove every pending fault and record error."""
        return self._state.clear_faults()

    # -- observation -----------------------------------------------------------

    @property
    def login_count(self) -> int:
        """Successful SOAP logins so far.

        Successful OAuth token requests are ``org.oauth.logins``; both together
        are ``org.stats()["all_logins"]``.
        """
        return self._state.logins

    @property
    def failed_logins(self) -> int:
        """Refused SOAP logins so far."""
        return self._state.failed_logins

    @property
    def requests(self) -> Counter[str]:
        """Requests answered so far, per kind (``job_create``, ``batch_get``, ``soap``...)."""
        return self._state.requests

    def stats(self) -> OrgStats:
        """Counters for tests and benchmarks (no secrets): logins, requests, jobs, rows."""
        return self._state.stats()

    # -- serving ---------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one HTTP request (the core every transport and server calls)."""
        return dispatch(self._state, request)
