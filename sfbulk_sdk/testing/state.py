"""Everything a fake org knows, behind one lock: the state the API handlers work on.

:class:`OrgState` holds the settings, the clock, the tables (a
:class:`~sfbulk_sdk.testing.store.Database`), the users and sessions
(:class:`~sfbulk_sdk.testing.accounts.Accounts`), the OAuth apps and tokens
(:class:`~sfbulk_sdk.testing.oauth.OAuthRegistry`), the Bulk 1.0 jobs and batches
(:class:`~sfbulk_sdk.testing.engine.Bulk1Engine`), the Bulk 2.0 jobs
(:class:`~sfbulk_sdk.testing.bulk2_engine.Bulk2Engine`), the REST query cursors
(:class:`~sfbulk_sdk.testing.rest_results.QueryCursors`), the daily allowances,
the injected faults and the request counters. The handlers in
:mod:`sfbulk_sdk.testing.api` read and change it; :class:`~sfbulk_sdk.testing.FakeOrg`
is the small facade tests use.

One re-entrant lock guards all of it, so the same org can be served in-process,
as an ASGI app and as a real server at once. Reads first let batches and jobs
progress to the clock's current time.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeAlias, TypedDict

from ..core.clock import Clock, ManualClock, utc_now
from ..models import BatchInfo, JobInfo
from ..models.enums import Operation
from .accounts import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, DEFAULT_USERNAME, Accounts, FakeUser
from .bulk2_engine import Bulk2Engine
from .describe import DescribeDocument, read_describe
from .engine import Bulk1Engine
from .faults import FaultSet
from .ids import IdGenerator, key_prefix_sequence, normalize_id
from .limits import RollingAllowance
from .oauth import OAuthRegistry, OAuthStats
from .query import compile_query
from .rest_results import QueryCursors
from .schema import (
    FieldSpec,
    FieldValue,
    FieldValueError,
    SObjectSpec,
    custom_object_fields,
)
from .settings import OrgSettings
from .soql import parse_soql
from .standard import standard_objects
from .store import Database, Table, UnknownColumn, Writer, gc_paused
from .values import plain_json_value

__all__ = ["JsonScalar", "OrgState", "OrgStats", "WriteError"]

#: A record value as the JSON controls show it (dates as ISO text).
JsonScalar: TypeAlias = str | bool | int | float | None


class WriteError(ValueError):
    """Records written through the Python API were rejected; ``failures`` says which and why."""

    def __init__(self, failures: list[tuple[int, FieldValueError]]) -> None:
        first = failures[0]
        super().__init__(
            f"{len(failures)} record(s) rejected; record {first[0]}: "
            f"{first[1].status_code}: {first[1].message}"
        )
        self.failures = failures


class OrgStats(TypedDict):
    """What :meth:`OrgState.stats` counts (no secrets)."""

    logins: int
    failed_logins: int
    all_logins: int
    oauth: OAuthStats
    active_sessions: int
    requests: dict[str, int]
    faults_fired: int
    faults_pending: int
    record_errors_pending: dict[str, int]
    jobs: int
    batches: int
    bulk2_jobs: int
    records: dict[str, int]


class OrgState:
    """The tables, users, sessions, jobs, clock, limits, faults and counters of one org.

    ``logins`` and ``failed_logins`` count SOAP ``login()`` calls (OAuth token
    requests are counted by :attr:`oauth`); ``requests``
    counts requests per kind (``job_create``, ``batch_get``, ``soap``,
    ``control``, ``fault``, ``other``...).
    """

    def __init__(
        self,
        settings: OrgSettings | None = None,
        *,
        clock: Clock = utc_now,
        users: Iterable[FakeUser] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else OrgSettings()
        self.clock: Clock = clock
        self.lock = threading.RLock()
        self.org_id = IdGenerator("00D").next18()
        self.db = Database()
        for spec in standard_objects().values():
            self.db.add_table(Table(spec, IdGenerator(spec.key_prefix)))
        self._next_custom_prefix = "a0X"
        self.accounts = Accounts(
            clock=clock,
            settings=self.settings,
            org_id=self.org_id,
            lock=self.lock,
            user_ids=self.db.user_ids,
        )
        self.oauth = OAuthRegistry(accounts=self.accounts, lock=self.lock)
        settings = self.settings
        batches = RollingAllowance(clock, lambda: settings.max_batches_per_day)
        self.bulk1 = Bulk1Engine(self.db, clock, settings, batches)
        self.bulk2 = Bulk2Engine(
            self.db,
            clock,
            settings,
            org_id=self.org_id,
            job_ids=lambda: self.bulk1.next_id("750"),
            batches=batches,
        )
        #: REST requests (``/services/data``) in the rolling 24 hours (``Sforce-Limit-Info``).
        self.api_requests = RollingAllowance(clock, lambda: settings.max_api_requests_per_day)
        #: The REST query cursors (``nextRecordsUrl``) still open.
        self.query_cursors = QueryCursors(clock)
        self.faults = FaultSet()
        self.logins = 0
        self.failed_logins = 0
        self.requests: Counter[str] = Counter()
        if users is None:
            users = [FakeUser(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)]
        self.accounts.register_all(users)

    def __repr__(self) -> str:
        return f"OrgState(org_id={self.org_id!r}, {self.accounts!r}, {self.bulk1!r})"

    # -- time ------------------------------------------------------------------

    def now(self) -> datetime:
        """The org's current time (from its clock)."""
        return self.clock()

    def tick(self) -> None:
        """Let batches and Bulk 2.0 jobs progress to the clock's current time."""
        with self.lock:
            self.bulk1.advance()
            self.bulk2.advance()

    def advance(self, seconds: float) -> None:
        """Move a :class:`ManualClock` forward and let batches progress."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs FakeOrg(clock=ManualClock())")
        self.clock.advance(seconds)
        self.tick()

    # -- schema ----------------------------------------------------------------

    def declare_object(
        self, name: str, fields: Iterable[FieldSpec], key_prefix: str | None, label: str | None
    ) -> SObjectSpec:
        """Declare a custom object (see :meth:`FakeOrg.declare_object`)."""
        if not name.endswith("__c"):
            raise ValueError("custom object names end with '__c'")
        specs = list(fields)
        for spec in specs:
            if not spec.name.endswith("__c") and spec.name != "Name":
                raise ValueError(f"custom field names end with '__c': {spec.name}")
        with self.lock:
            if self.db.table(name) is not None:
                raise ValueError(f"object {name} already exists")
            sobject = SObjectSpec(
                name, self._key_prefix(key_prefix), custom_object_fields(specs), label=label
            )
            self._check_references(sobject)
            self.db.add_table(Table(sobject, IdGenerator(sobject.key_prefix)))
            return sobject

    def _key_prefix(self, wanted: str | None) -> str:
        """``wanted`` if it is free, else the next free custom key prefix (``a0X``, ...)."""
        if wanted is None:
            while self._next_custom_prefix in self.db.by_prefix:
                self._next_custom_prefix = key_prefix_sequence(self._next_custom_prefix)
            wanted = self._next_custom_prefix
            self._next_custom_prefix = key_prefix_sequence(wanted)
        elif wanted in self.db.by_prefix or len(wanted) != 3:
            raise ValueError(f"key prefix {wanted!r} is taken or malformed")
        return wanted

    def load_describe(self, document: DescribeDocument) -> SObjectSpec:
        """Declare an object, or add fields to one, from a REST describe document.

        A new object gets the document's ``keyPrefix`` (or the next custom one)
        and label; an existing one (``Account`` ...) gains or replaces the
        fields the document lists, keeping its rows. See
        :mod:`~sfbulk_sdk.testing.describe` for what is read and what is left out.
        """
        with self.lock:
            described = read_describe(document, lambda n: self.db.table(n) is not None)
            table = self.db.table(described.name)
            if table is None:
                fields = described.fields
                if described.custom:
                    fields = custom_object_fields(fields)
                sobject = SObjectSpec(
                    described.name,
                    self._key_prefix(described.key_prefix),
                    fields,
                    label=described.label,
                )
                self._check_references(sobject)
                self.db.add_table(Table(sobject, IdGenerator(sobject.key_prefix)))
                return sobject
            for spec in described.fields:
                current = table.spec.field(spec.name)
                if current is not None and current.compute and not spec.createable:
                    spec = replace(spec, compute=current.compute)  # Contact.Name stays computed
                table.spec.add_field(spec)
            table.refresh_indexes()
            return table.spec

    def add_field(self, sobject: str, spec: FieldSpec) -> None:
        """Add a custom field (``Field__c``) to an existing object."""
        if not spec.name.endswith("__c"):
            raise ValueError("custom field names end with '__c'")
        with self.lock:
            table = self.db.require(sobject)
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
        with self.lock:
            return self.db.require(sobject).spec

    @property
    def sobjects(self) -> list[str]:
        """API names of every object."""
        with self.lock:
            return [t.name for t in self.db.tables.values()]

    # -- data ------------------------------------------------------------------

    def insert(
        self, sobject: str, rows: Iterable[Mapping[str, object]], *, as_user: str | None = None
    ) -> list[str]:
        """Create records directly (validated like a Bulk insert); returns their ids.

        Raises :class:`WriteError` if any row is rejected (the others are kept).
        """
        with self.lock:
            self.tick()
            table = self.db.require(sobject)
            user = self.accounts.user(as_user)
            writer = Writer(self.db, table, Operation.INSERT, user_id=user.user_id, now=self.now())
            ids: list[str] = []
            failures: list[tuple[int, FieldValueError]] = []
            with gc_paused():
                self._insert_rows(table, writer, rows, ids, failures)
            table.version += 1
            if failures:
                raise WriteError(failures)
            return ids

    def _insert_rows(
        self,
        table: Table,
        writer: Writer,
        rows: Iterable[Mapping[str, object]],
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

    def records(
        self, sobject: str, *, include_deleted: bool = False
    ) -> list[dict[str, FieldValue]]:
        """Every row of ``sobject`` as a dict of typed values, in creation order."""
        with self.lock:
            self.tick()
            table = self.db.require(sobject)
            return [
                table.as_dict(rec)
                for rec in table.rows.values()
                if include_deleted or not rec.deleted
            ]

    def records_json(
        self, sobject: str, *, include_deleted: bool = False
    ) -> list[dict[str, JsonScalar]]:
        """:meth:`records` with JSON-ready values (ISO dates)."""
        return [
            {k: plain_json_value(v) for k, v in row.items()}
            for row in self.records(sobject, include_deleted=include_deleted)
        ]

    def record(self, sobject: str, record_id: str) -> dict[str, FieldValue] | None:
        """One row by id (15 or 18 characters), or ``None``."""
        with self.lock:
            self.tick()
            table = self.db.require(sobject)
            rec = table.rows.get(normalize_id(record_id) or "")
            return table.as_dict(rec) if rec is not None else None

    def count(self, sobject: str, *, include_deleted: bool = False) -> int:
        """How many rows ``sobject`` holds."""
        with self.lock:
            self.tick()
            table = self.db.require(sobject)
            if include_deleted:
                return len(table.rows)
            return sum(1 for r in table.rows.values() if not r.deleted)

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, FieldValue]]:
        """Run a query of the supported SOQL subset; keys are the field names as queried."""
        with self.lock:
            self.tick()
            compiled = compile_query(
                parse_soql(soql), self.db, include_deleted=include_deleted, now=self.now()
            )
            offset = 1 + len(compiled.relationships)
            names = [c.name for c in compiled.columns]
            return [dict(zip(names, row[offset:], strict=True)) for row in compiled.run()]

    # -- jobs ------------------------------------------------------------------

    def jobs(self) -> list[JobInfo]:
        """Every job's ``jobInfo``, oldest first."""
        with self.lock:
            self.tick()
            return self.bulk1.job_infos()

    def job(self, job_id: str) -> JobInfo:
        """The ``jobInfo`` of a job; ``KeyError`` if there is none."""
        with self.lock:
            self.tick()
            return self.bulk1.job_info(job_id)

    def batches(self, job_id: str) -> list[BatchInfo]:
        """The ``batchInfo`` of every batch of a job; ``KeyError`` if there is none."""
        with self.lock:
            self.tick()
            return self.bulk1.batch_infos(job_id)

    # -- faults ----------------------------------------------------------------

    def inject_record_errors(
        self, sobject: str, count: int, error: FieldValueError, every: int = 1
    ) -> None:
        """Make ``count`` of the next records written to ``sobject`` (one in every
        ``every``) fail with ``error``."""
        with self.lock:
            table = self.db.require(sobject)
            self.db.injector.add(table.name, count, error, every)

    def clear_faults(self) -> int:
        """Remove every pending fault and record error; returns how many faults there were."""
        with self.lock:
            self.db.injector.clear()
        return self.faults.clear()

    # -- observation -----------------------------------------------------------

    def stats(self) -> OrgStats:
        """Counters for tests and benchmarks (no secrets): logins, requests, jobs, rows.

        ``logins`` counts SOAP logins, ``oauth`` the OAuth token requests
        (:class:`~sfbulk_sdk.testing.oauth.OAuthStats`), and ``all_logins`` both:
        SOAP logins plus successful token requests of every grant type.
        """
        with self.lock:
            self.tick()
            requests = dict(sorted(self.requests.items()))
            oauth = self.oauth.stats()
            return {
                "logins": self.logins,
                "failed_logins": self.failed_logins,
                "all_logins": self.logins + oauth["logins"],
                "oauth": oauth,
                "active_sessions": self.accounts.active_sessions,
                "requests": {"total": sum(self.requests.values()), **requests},
                "faults_fired": self.faults.fired,
                "faults_pending": len(self.faults.active()),
                "record_errors_pending": self.db.injector.pending(),
                "jobs": self.bulk1.job_count,
                "batches": self.bulk1.batch_count,
                "bulk2_jobs": self.bulk2.job_count,
                "records": {t.name: sum(1 for r in t.live()) for t in self.db.tables.values()},
            }
