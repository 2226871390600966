"""The fake org: tables, users, sessions, Bulk 1.0 jobs and the clock that drives them.

:class:`FakeOrg` holds all state behind one lock, so the same org can be
served in-process (an httpx transport), as an ASGI app and as a real server
at once. Batches advance when the clock passes their queue and processing
times; with the default (zero) times a batch is ``Queued`` in the reply that
creates it and finished on the next request, so simple clients work without
sleeping and tests stay deterministic.
"""

from __future__ import annotations

import bisect
import gc
import secrets
import threading
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..models import BatchInfo, JobInfo
from ..models.enums import BatchState, ConcurrencyMode, JobState, Operation
from ..models.session import DEFAULT_SESSION_SECONDS, UserInfo
from .bulk import Batch, Job
from .clock import Clock, ManualClock, SystemClock
from .faults import Fault, FaultSet
from .formats import BatchFailure, QueryShape, ingest, split_files
from .ids import IdGenerator, key_prefix_sequence, normalize_id
from .schema import (
    FieldSpec,
    FieldValueError,
    SObjectSpec,
    custom_object_fields,
    plain_json_value,
    standard_objects,
)
from .soap import FakeUser
from .soql import SoqlError, compile_query, parse_soql
from .store import Database, Outcome, Table, UnknownColumn, Writer

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .http import FakeRequest, FakeResponse
    from .transport import FakeOrgTransport

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_USERNAME",
    "FakeOrg",
    "WriteError",
]

DEFAULT_USERNAME = "admin@fake-org.example"
DEFAULT_PASSWORD = "fake-password"
DEFAULT_SECURITY_TOKEN = "FAKETOKEN"


class WriteError(ValueError):
    """Records written through the Python API were rejected; ``failures`` says which and why."""

    def __init__(self, failures: list[tuple[int, FieldValueError]]) -> None:
        first = failures[0]
        super().__init__(
            f"{len(failures)} record(s) rejected; record {first[0]}: "
            f"{first[1].status_code}: {first[1].message}"
        )
        self.failures = failures


class _Session:
    __slots__ = ("last_used", "user")

    def __init__(self, user: FakeUser, last_used: datetime) -> None:
        self.user = user
        self.last_used = last_used

    def __repr__(self) -> str:
        return f"_Session(user={self.user.username!r})"


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while thousands of acyclic rows are created at once.

    Writing a batch allocates a dict per record; without this the collector
    re-scans the ever-growing tables and costs more than the writes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class FakeOrg:
    """An in-memory Salesforce org speaking SOAP ``login()`` and Bulk API 1.0.

    Parameters (all keyword-only):

    ``users``
        :class:`FakeUser` accounts; default one user, :data:`DEFAULT_USERNAME`
        with :data:`DEFAULT_PASSWORD` and :data:`DEFAULT_SECURITY_TOKEN`.
    ``clock``
        Where time comes from (default :class:`SystemClock`); pass a
        :class:`ManualClock` to move time by hand.
    ``session_timeout``
        Seconds of inactivity after which a session expires (reported as
        ``sessionSecondsValid``); every use renews it.
    ``queue_time`` / ``processing_time``
        Simulated seconds a batch stays ``Queued`` and then ``InProgress``.
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
    """

    def __init__(
        self,
        *,
        users: Iterable[FakeUser] | None = None,
        clock: Clock | None = None,
        session_timeout: int = DEFAULT_SESSION_SECONDS,
        queue_time: float = 0.0,
        processing_time: float = 0.0,
        query_result_file_rows: int | None = None,
        latency: float = 0.0,
        instance_url: str = "https://fake-org.my.salesforce.com",
        organization_name: str = "Fake Org",
        oldest_api_version: str | float = "31.0",
        latest_api_version: str | float = "66.0",
        max_batch_records: int = 10_000,
        max_batch_bytes: int = 10 * 1024 * 1024,
        max_batch_chars: int = 10_000_000,
        max_logins_per_hour: int = 3600,
        gzip_responses: bool = True,
        sandbox: bool = False,
        max_batches_per_day: int = 15_000,
        soap_login_enabled: bool = True,
    ) -> None:
        if query_result_file_rows is not None and query_result_file_rows < 1:
            raise ValueError("query_result_file_rows must be at least 1")
        self.clock: Clock = clock or SystemClock()
        self.session_timeout = int(session_timeout)
        self.queue_time = float(queue_time)
        self.processing_time = float(processing_time)
        self.query_result_file_rows = query_result_file_rows
        self.latency = float(latency)
        self.instance_url = instance_url.rstrip("/")
        self.organization_name = organization_name
        self.oldest_api_version = float(oldest_api_version)
        self.latest_api_version = float(latest_api_version)
        self.max_batch_records = max_batch_records
        self.max_batch_bytes = max_batch_bytes
        self.max_batch_chars = max_batch_chars
        self.max_logins_per_hour = max_logins_per_hour
        self.gzip_responses = gzip_responses
        self.sandbox = sandbox
        self.max_batches_per_day = max_batches_per_day
        self.soap_login_enabled = soap_login_enabled

        self._lock = threading.RLock()
        self._ids = {p: IdGenerator(p) for p in ("00D", "005", "00e", "750", "751", "752")}
        self.org_id = self._ids["00D"].next18()
        self.db = Database()
        self._next_custom_prefix = "a0X"
        for spec in standard_objects().values():
            self.db.add_table(Table(spec, IdGenerator(spec.key_prefix)))
        self._users: dict[str, FakeUser] = {}
        self._sessions: dict[str, _Session] = {}
        self._login_times: dict[str, deque[datetime]] = {}
        self._batch_times: deque[datetime] = deque()
        self._jobs: dict[str, Job] = {}
        self._batches: dict[str, Batch] = {}
        self._pending: list[Batch] = []
        self.faults = FaultSet()
        self.logins = 0
        self.failed_logins = 0
        self.requests: Counter[str] = Counter()
        if users is None:
            users = [FakeUser(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)]
        for user in users:
            self._register_user(user)

    def __repr__(self) -> str:
        return (
            f"FakeOrg(org_id={self.org_id!r}, users={len(self._users)}, "
            f"jobs={len(self._jobs)}, clock={self.clock!r})"
        )

    # ------------------------------------------------------------------
    # time

    def now(self) -> datetime:
        """The org's current time (from its clock)."""
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move a :class:`ManualClock` forward and let batches progress."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs FakeOrg(clock=ManualClock())")
        self.clock.advance(seconds)
        with self._lock:
            self._advance()

    # ------------------------------------------------------------------
    # schema

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
        prefix (``a0X``, ``a0Y``, ...) unless ``key_prefix`` is given.
        """
        if not name.endswith("__c"):
            raise ValueError("custom object names end with '__c'")
        specs = list(fields)
        for spec in specs:
            if not spec.name.endswith("__c") and spec.name != "Name":
                raise ValueError(f"custom field names end with '__c': {spec.name}")
        with self._lock:
            if self.db.table(name) is not None:
                raise ValueError(f"object {name} already exists")
            if key_prefix is None:
                while self._next_custom_prefix in self.db.by_prefix:
                    self._next_custom_prefix = key_prefix_sequence(self._next_custom_prefix)
                key_prefix = self._next_custom_prefix
                self._next_custom_prefix = key_prefix_sequence(key_prefix)
            elif key_prefix in self.db.by_prefix or len(key_prefix) != 3:
                raise ValueError(f"key prefix {key_prefix!r} is taken or malformed")
            sobject = SObjectSpec(name, key_prefix, custom_object_fields(specs), label=label)
            self._check_references(sobject)
            self.db.add_table(Table(sobject, IdGenerator(key_prefix)))
            return sobject

    def add_field(self, sobject: str, spec: FieldSpec) -> None:
        """Add a custom field (``Field__c``) to an existing object."""
        if not spec.name.endswith("__c"):
            raise ValueError("custom field names end with '__c'")
        with self._lock:
            table = self._table(sobject)
            table.spec.add_field(spec)
            self._check_references(table.spec)
            table.refresh_indexes()

    def _check_references(self, sobject: SObjectSpec) -> None:
        for spec in sobject:
            target = spec.reference_to
            if target and target != "User" and target != sobject.name and not self.db.table(target):
                raise ValueError(f"{sobject.name}.{spec.name} references unknown object {target}")

    def describe(self, sobject: str) -> SObjectSpec:
        """The schema of ``sobject`` (any case)."""
        with self._lock:
            return self._table(sobject).spec

    @property
    def sobjects(self) -> list[str]:
        """API names of every object."""
        with self._lock:
            return [t.name for t in self.db.tables.values()]

    def _table(self, sobject: str) -> Table:
        table = self.db.table(sobject)
        if table is None:
            raise KeyError(f"no object {sobject!r} in the fake org")
        return table

    # ------------------------------------------------------------------
    # data

    def insert(
        self, sobject: str, rows: Iterable[Mapping[str, Any]], *, as_user: str | None = None
    ) -> list[str]:
        """Create records directly (validated like a Bulk insert); returns their ids.

        Raises :class:`WriteError` if any row is rejected (the others are kept).
        """
        with self._lock:
            self._advance()
            table = self._table(sobject)
            user = self._user(as_user)
            writer = Writer(self.db, table, Operation.INSERT, user_id=user.user_id, now=self.now())
            ids: list[str] = []
            failures: list[tuple[int, FieldValueError]] = []
            with _gc_paused():
                self._insert_rows(table, writer, rows, ids, failures)
            table.version += 1
            if failures:
                raise WriteError(failures)
            return ids

    def _insert_rows(
        self,
        table: Table,
        writer: Writer,
        rows: Iterable[Mapping[str, Any]],
        ids: list[str],
        failures: list[tuple[int, FieldValueError]],
    ) -> None:
        plans: dict[str, Any] = {}
        for number, row in enumerate(rows):
            values: dict[str, Any] = {}
            try:
                for key, raw in row.items():
                    plan = plans.get(key)
                    if plan is None:
                        try:
                            plan = plans[key] = self.db.plan_column(table, key)
                        except UnknownColumn:
                            raise FieldValueError(
                                "INVALID_FIELD",
                                f"No such column '{key}' on entity '{table.name}'",
                                (key,),
                            ) from None
                    values[plan.target] = plan.convert(raw)
            except FieldValueError as exc:
                failures.append((number, exc))
                continue
            outcome = writer.write(values)
            if outcome.error is not None:
                failures.append((number, outcome.error))
            elif outcome.id is not None:
                ids.append(outcome.id)

    def records(self, sobject: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every row of ``sobject`` as a dict of typed values, in creation order."""
        with self._lock:
            self._advance()
            table = self._table(sobject)
            return [
                table.as_dict(rec)
                for rec in table.rows.values()
                if include_deleted or not rec.deleted
            ]

    def record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """One row by id (15 or 18 characters), or ``None``."""
        with self._lock:
            self._advance()
            table = self._table(sobject)
            rec = table.rows.get(normalize_id(record_id) or "")
            return table.as_dict(rec) if rec is not None else None

    def count(self, sobject: str, *, include_deleted: bool = False) -> int:
        """How many rows ``sobject`` holds."""
        with self._lock:
            self._advance()
            table = self._table(sobject)
            if include_deleted:
                return len(table.rows)
            return sum(1 for r in table.rows.values() if not r.deleted)

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Run a query of the supported SOQL subset; keys are the field names as queried."""
        with self._lock:
            self._advance()
            compiled = compile_query(parse_soql(soql), self.db, include_deleted=include_deleted)
            offset = 1 + len(compiled.relationships)
            names = [c.name for c in compiled.columns]
            return [dict(zip(names, row[offset:], strict=True)) for row in compiled.run()]

    # ------------------------------------------------------------------
    # users and sessions

    def _register_user(self, user: FakeUser) -> FakeUser:
        key = user.username.lower()
        if key in self._users:
            raise ValueError(f"user {user.username} already exists")
        user.user_id = self._ids["005"].next18()
        user.profile_id = self._ids["00e"].next18()
        self._users[key] = user
        self.db.user_ids.add(user.user_id)
        return user

    def add_user(
        self, username: str, password: str, security_token: str = "", **details: Any
    ) -> FakeUser:
        """Create a user who can log in with ``password + security_token``."""
        with self._lock:
            return self._register_user(FakeUser(username, password, security_token, **details))

    @property
    def users(self) -> list[FakeUser]:
        """The org's users."""
        with self._lock:
            return list(self._users.values())

    @property
    def default_user(self) -> FakeUser:
        """The first user."""
        with self._lock:
            return next(iter(self._users.values()))

    def _user(self, username: str | None) -> FakeUser:
        if username is None:
            return self.default_user
        user = self._users.get(username.lower())
        if user is None:
            raise KeyError(f"no user {username!r} in the fake org")
        return user

    def issue_session(self, username: str | None = None) -> str:
        """Open a session for a user without a SOAP login (as an OAuth flow would)."""
        with self._lock:
            return self.new_session(self._user(username))

    def new_session(self, user: FakeUser) -> str:
        """Open a session for ``user`` and return its id."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
        token = "".join(secrets.choice(alphabet) for _ in range(96))
        session_id = f"{self.org_id[:15]}!AQ{token}"
        self._sessions[session_id] = _Session(user, self.now())
        return session_id

    def authenticate(self, session_id: str | None) -> FakeUser | None:
        """The user a live session belongs to (renewing it), or ``None``."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            now = self.now()
            if now - session.last_used > timedelta(seconds=self.session_timeout):
                del self._sessions[session_id]
                return None
            session.last_used = now
            return session.user

    def end_session(self, session_id: str) -> bool:
        """Invalidate one session (SOAP ``logout()``)."""
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def expire_sessions(self) -> int:
        """Invalidate every session; returns how many there were."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    @property
    def active_sessions(self) -> int:
        """Sessions that have not expired."""
        with self._lock:
            limit = timedelta(seconds=self.session_timeout)
            now = self.now()
            return sum(1 for s in self._sessions.values() if now - s.last_used <= limit)

    def check_login_rate(self, user: FakeUser) -> bool:
        """Record a login attempt; False when the user exceeded the hourly allowance."""
        now = self.now()
        times = self._login_times.setdefault(user.username.lower(), deque())
        while times and now - times[0] >= timedelta(hours=1):
            times.popleft()
        if len(times) >= self.max_logins_per_hour:
            return False
        times.append(now)
        return True

    def user_info(self, user: FakeUser) -> UserInfo:
        """The ``GetUserInfoResult`` of a user."""
        return UserInfo(
            accessibility_mode=False,
            chatter_external=False,
            currency_symbol="$",
            org_attachment_file_size_limit=5242880,
            org_default_currency_iso_code="USD",
            org_default_currency_locale="en_US",
            org_disallow_html_attachments=False,
            org_has_person_accounts=False,
            organization_id=self.org_id,
            organization_multi_currency=False,
            organization_name=self.organization_name,
            profile_id=user.profile_id,
            role_id=None,
            session_seconds_valid=self.session_timeout,
            user_default_currency_iso_code=None,
            user_email=user.email,
            user_full_name=user.full_name,
            user_id=user.user_id,
            user_language=user.language,
            user_locale=user.locale,
            user_name=user.username,
            user_time_zone=user.time_zone,
            user_type="Standard",
            user_ui_skin="Theme3",
        )

    # ------------------------------------------------------------------
    # jobs and batches

    def new_job(self, job: Job) -> Job:
        """Register a job built by the HTTP layer."""
        self._jobs[job.id] = job
        return job

    def next_id(self, prefix: str, *, length: int = 18) -> str:
        """A fresh id for a job (750), batch (751) or result (752)."""
        gen = self._ids[prefix]
        return gen.next18() if length == 18 else gen.next15()

    def get_job(self, job_id: str) -> Job | None:
        """A job by id (15 or 18 characters)."""
        return self._jobs.get(normalize_id(job_id) or "")

    def get_batch(self, job: Job, batch_id: str) -> Batch | None:
        """A batch of ``job`` by id."""
        batch = self._batches.get(normalize_id(batch_id) or "")
        return batch if batch is not None and batch.job is job else None

    def batch_allowance_left(self) -> int:
        """Batches the org may still create in the rolling 24 hours (spec §5.1)."""
        window = self.now() - timedelta(hours=24)
        times = self._batch_times
        while times and times[0] <= window:
            times.popleft()
        return max(0, self.max_batches_per_day - len(times))

    def add_batch(self, job: Job, body: str) -> Batch:
        """Queue a batch on an open job."""
        now = self.now()
        batch = Batch(id=self.next_id("751"), job=job, created=now, body=body, modstamp=now)
        job.batches.append(batch)
        job.modstamp = now
        self._batches[batch.id] = batch
        self._pending.append(batch)
        self._batch_times.append(now)
        return batch

    def abort_job(self, job: Job) -> None:
        """Abort: queued batches become ``NotProcessed``, running ones finish."""
        now = self.now()
        job.state = JobState.ABORTED
        job.modstamp = now
        for batch in job.batches:
            if batch.state is BatchState.QUEUED:
                batch.state = BatchState.NOT_PROCESSED
                batch.modstamp = batch.finished = now

    def job(self, job_id: str) -> JobInfo:
        """The ``jobInfo`` of a job."""
        with self._lock:
            self._advance()
            job = self.get_job(job_id)
            if job is None:
                raise KeyError(f"no job {job_id!r}")
            return job.info()

    def jobs(self) -> list[JobInfo]:
        """Every job's ``jobInfo``, oldest first."""
        with self._lock:
            self._advance()
            return [job.info() for job in self._jobs.values()]

    def batches(self, job_id: str) -> list[BatchInfo]:
        """The ``batchInfo`` of every batch of a job."""
        with self._lock:
            self._advance()
            job = self.get_job(job_id)
            if job is None:
                raise KeyError(f"no job {job_id!r}")
            return [b.info() for b in job.batches]

    def tick(self) -> None:
        """Let batches progress to the clock's current time."""
        with self._lock:
            self._advance()

    def _advance(self) -> None:
        """Move batches along to the current time (caller holds the lock)."""
        if not self._pending:
            return
        now = self.now()
        queue = timedelta(seconds=self.queue_time)
        work = timedelta(seconds=self.processing_time)
        waiting: list[Batch] = []
        i = 0
        while i < len(self._pending):
            batch = self._pending[i]
            i += 1
            if batch.state is BatchState.QUEUED:
                start = batch.created + queue
                if batch.job.concurrency is ConcurrencyMode.SERIAL:
                    position = batch.job.batches.index(batch)
                    if position:
                        previous = batch.job.batches[position - 1]
                        if previous.finished is None:
                            waiting.append(batch)
                            continue
                        start = max(start, previous.finished)
                if now < start:
                    waiting.append(batch)
                    continue
                batch.state = BatchState.IN_PROGRESS
                batch.started = batch.modstamp = start
            if batch.state is BatchState.IN_PROGRESS:
                assert batch.started is not None
                finish = batch.started + work
                if now < finish:
                    waiting.append(batch)
                    continue
                self._run(batch, finish)
        self._pending = waiting

    def _run(self, batch: Batch, at: datetime) -> None:
        """Process a batch as of time ``at``: write records or answer the query."""
        job = batch.job
        try:
            with _gc_paused():
                if job.is_query:
                    self._run_query(batch, at)
                else:
                    self._run_ingest(batch, at)
        except BatchFailure as failure:
            batch.state = BatchState.FAILED
            batch.state_message = failure.state_message
        except Exception as exc:  # a bug in the fake must not take the server down
            batch.state = BatchState.FAILED
            batch.state_message = f"InternalServerError : {type(exc).__name__}"
        if batch.state is BatchState.IN_PROGRESS:
            batch.state = BatchState.COMPLETED
        if batch.state is not BatchState.NOT_PROCESSED:
            spent = int((at - (batch.started or at)).total_seconds() * 1000)
            batch.total_ms = spent + batch.processed // 10
            batch.api_active_ms = batch.total_ms * 6 // 10
        batch.finished = batch.modstamp = at
        job.modstamp = at

    def _run_ingest(self, batch: Batch, at: datetime) -> None:
        job = batch.job
        table = self._table(job.sobject)
        writer = Writer(
            self.db,
            table,
            job.operation,
            user_id=job.created_by,
            now=at,
            external_id_field=job.external_id_field,
            api_version=float(job.api_version),
        )
        try:
            outcomes: list[Outcome] = ingest(
                batch.body,
                job.content_type,
                self.db,
                table,
                writer,
                max_records=self.max_batch_records,
            )
        finally:
            table.version += 1
        batch.outcomes = outcomes
        batch.processed = len(outcomes)
        batch.failed = sum(1 for o in outcomes if not o.success)

    def _run_query(self, batch: Batch, at: datetime) -> None:
        job = batch.job
        try:
            parsed = parse_soql(batch.body)
            compiled = compile_query(
                parsed, self.db, include_deleted=job.operation is Operation.QUERY_ALL
            )
        except SoqlError as exc:
            raise BatchFailure(
                f"InvalidBatch : Failed to process query: {exc.code}: {exc.message}"
            ) from None
        if compiled.table.name != job.sobject:
            raise BatchFailure(
                "InvalidBatch : Failed to process query: INVALID_TYPE_FOR_OPERATION: The root "
                f"entity of the requested query ({compiled.table.name}) does not match the "
                f"entity of the requested Bulk API Job ({job.sobject})."
            )
        table = compiled.table
        chunkable = not compiled.order and not compiled.filters_on_id
        if job.pk_chunking and batch.id_range is None and chunkable:
            self._chunk(batch, table, at)
            return
        if batch.id_range is not None:
            ids = table.sorted_ids()
            low, high = batch.id_range
            first = bisect.bisect_left(ids, low) if low else 0
            last = bisect.bisect_left(ids, high) if high else len(ids)
            rows = table.rows
            rows_out = compiled.run(rows[i] for i in ids[first:last] if i in rows)
        else:
            rows_out = compiled.run()
        batch.shape = QueryShape(compiled, job.api_version)
        for chunk in split_files(rows_out, self.query_result_file_rows):
            batch.result_files[self.next_id("752", length=15)] = chunk
        batch.processed = len(rows_out)

    def _chunk(self, original: Batch, table: Table, at: datetime) -> None:
        """PK chunking: the original batch ends ``NotProcessed``; one batch per Id range."""
        settings = original.job.pk_chunking
        assert settings is not None
        ids = table.sorted_ids()
        start = 0
        low: str | None = None
        if settings.start_row:
            low = normalize_id(settings.start_row) or settings.start_row
            start = bisect.bisect_left(ids, low)
        bounds: list[str | None] = list(ids[start :: settings.chunk_size]) or [low]
        bounds[0] = low
        for n, lower in enumerate(bounds):
            upper = bounds[n + 1] if n + 1 < len(bounds) else None
            chunk = Batch(
                id=self.next_id("751"),
                job=original.job,
                created=at,
                body=original.body,
                modstamp=at,
                id_range=(lower, upper),
            )
            original.job.batches.append(chunk)
            self._batches[chunk.id] = chunk
            self._pending.append(chunk)
            self._batch_times.append(at)  # each chunk counts toward the daily allocation
        original.state = BatchState.NOT_PROCESSED

    # ------------------------------------------------------------------
    # faults

    def inject_fault(
        self,
        path: str,
        *,
        count: int = 1,
        status: int = 500,
        exception_code: str = "InternalServerError",
        message: str = "An unexpected error occurred. Please retry the request.",
        method: str | None = None,
        drop_connection: bool = False,
    ) -> Fault:
        """Fail the next ``count`` requests whose path matches the regex ``path``.

        The reply has HTTP ``status`` and an error body shaped for the API
        (Bulk ``<error>``, SOAP fault) with ``exception_code``; with
        ``drop_connection`` the connection is cut instead.
        """
        return self.faults.add(
            Fault(
                path,
                count=count,
                status=status,
                exception_code=exception_code,
                message=message,
                method=method,
                drop_connection=drop_connection,
            )
        )

    def clear_faults(self) -> int:
        """Remove every pending fault and record error."""
        with self._lock:
            self.db.injector.clear()
        return self.faults.clear()

    def inject_record_errors(
        self,
        sobject: str,
        *,
        count: int = 1,
        status_code: str = "UNABLE_TO_LOCK_ROW",
        message: str = "unable to obtain exclusive access to this record",
        fields: Iterable[str] = (),
    ) -> None:
        """Make the next ``count`` records written to ``sobject`` fail with ``status_code``."""
        with self._lock:
            table = self._table(sobject)
            self.db.injector.add(
                table.name, count, FieldValueError(status_code, message, tuple(fields))
            )

    # ------------------------------------------------------------------
    # observation

    @property
    def login_count(self) -> int:
        """Successful SOAP logins so far."""
        return self.logins

    def stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks (no secrets): logins, requests, jobs, rows."""
        with self._lock:
            self._advance()
            requests = dict(sorted(self.requests.items()))
            return {
                "logins": self.logins,
                "failed_logins": self.failed_logins,
                "active_sessions": self.active_sessions,
                "requests": {"total": sum(self.requests.values()), **requests},
                "faults_fired": self.faults.fired,
                "faults_pending": len(self.faults.active()),
                "record_errors_pending": self.db.injector.pending(),
                "jobs": len(self._jobs),
                "batches": len(self._batches),
                "records": {t.name: sum(1 for r in t.live()) for t in self.db.tables.values()},
            }

    def records_json(self, sobject: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """:meth:`records` with JSON-ready values (ISO dates)."""
        return [
            {k: plain_json_value(v) for k, v in row.items()}
            for row in self.records(sobject, include_deleted=include_deleted)
        ]

    # ------------------------------------------------------------------
    # serving

    @property
    def lock(self) -> threading.RLock:
        """The lock guarding all state (held while a request is handled)."""
        return self._lock

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one HTTP request (the core every transport and server calls)."""
        from .http import dispatch

        return dispatch(self, request)

    def transport(self, *, instance_url: str | None = None) -> FakeOrgTransport:
        """An httpx transport (sync and async) that sends every request to this org."""
        from .transport import FakeOrgTransport

        return FakeOrgTransport(self, instance_url=instance_url)

    def asgi_app(self) -> Starlette:
        """A Starlette ASGI app serving this org (needs the ``fake-org`` extra)."""
        from .asgi import create_app

        return create_app(self)
