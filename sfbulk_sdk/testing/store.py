"""The fake org's tables and the per-record write path (insert/update/upsert/delete).

This is the hot path of ingest: one :class:`Writer` per batch precomputes
everything that does not depend on the record (required fields, defaults,
reference checks, indexes), so a record costs a dict, a few set operations and
an id. Record-level failures are returned as :class:`Outcome` values carrying
Salesforce's status codes, never raised.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from ..models.enums import Operation
from .ids import IdGenerator
from .schema import FieldSpec, FieldType, FieldValueError, SObjectSpec
from .values import converter_for

__all__ = [
    "ColumnPlan",
    "Database",
    "Outcome",
    "Record",
    "RecordErrorInjector",
    "Stamp",
    "Table",
    "UnknownColumn",
    "Writer",
    "gc_paused",
]


@contextmanager
def gc_paused() -> Iterator[None]:
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


class Stamp:
    """Audit fields shared by every record a batch writes at once."""

    __slots__ = ("created", "created_by", "modified", "modified_by")

    def __init__(self, created: datetime, created_by: str, modified: datetime, modified_by: str):
        self.created = created
        self.created_by = created_by
        self.modified = modified
        self.modified_by = modified_by


class Record:
    """One row: its field values (canonical names), audit stamp and deleted flag."""

    __slots__ = ("deleted", "stamp", "values")

    def __init__(self, values: dict[str, Any], stamp: Stamp, deleted: bool = False) -> None:
        self.values = values
        self.stamp = stamp
        self.deleted = deleted


_STAMP_GETTERS: dict[str, Callable[[Record], Any]] = {
    "IsDeleted": lambda r: r.deleted,
    "CreatedDate": lambda r: r.stamp.created,
    "CreatedById": lambda r: r.stamp.created_by,
    "LastModifiedDate": lambda r: r.stamp.modified,
    "LastModifiedById": lambda r: r.stamp.modified_by,
    "SystemModstamp": lambda r: r.stamp.modified,
}


class Outcome(NamedTuple):
    """The result of writing one record, in upload order."""

    id: str | None
    success: bool
    created: bool
    error: FieldValueError | None = None


def _index_key(spec: FieldSpec, value: Any) -> Any:
    if isinstance(value, str) and spec.field_type.is_text and not spec.case_sensitive:
        return value.casefold()
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class Table:
    """The rows of one sObject, keyed by 18-character Id in creation order."""

    def __init__(self, spec: SObjectSpec, ids: IdGenerator) -> None:
        self.spec = spec
        self.ids = ids
        self.rows: dict[str, Record] = {}
        # value -> the one id holding it (a str), or the ids (a list) when several do
        self.indexes: dict[str, dict[Any, str | list[str]]] = {}
        self._indexed: list[tuple[str, FieldSpec, dict[Any, str | list[str]]]] = []
        self.version = 0
        self._sorted: tuple[int, list[str]] | None = None
        self.refresh_indexes()

    @property
    def name(self) -> str:
        """The sObject's API name."""
        return self.spec.name

    def refresh_indexes(self) -> None:
        """(Re)build the value indexes of unique and external-id fields."""
        self.indexes = {f.name: {} for f in self.spec if f.indexed}
        self._indexed = [(f.name, f, self.indexes[f.name]) for f in self.spec if f.indexed]
        for rid, rec in self.rows.items():
            if not rec.deleted:
                self.index_add(rid, rec.values)

    def index_add(self, rid: str, values: dict[str, Any]) -> None:
        """Register ``rid`` under the indexed values it holds."""
        for fname, spec, index in self._indexed:
            value = values.get(fname)
            if value is not None:
                key = _index_key(spec, value)
                held = index.get(key)
                if held is None:
                    index[key] = rid
                elif isinstance(held, list):
                    held.append(rid)
                else:
                    index[key] = [held, rid]

    def index_remove(self, rid: str, values: dict[str, Any]) -> None:
        """Forget ``rid`` under the indexed values it holds."""
        for fname, spec, index in self._indexed:
            value = values.get(fname)
            if value is not None:
                key = _index_key(spec, value)
                held = index.get(key)
                if held == rid:
                    del index[key]
                elif isinstance(held, list) and rid in held:
                    held.remove(rid)
                    if len(held) == 1:
                        index[key] = held[0]

    def lookup(self, spec: FieldSpec, value: Any) -> list[str]:
        """Live ids whose indexed field ``spec`` equals ``value``."""
        held = self.indexes.get(spec.name, {}).get(_index_key(spec, value))
        if held is None:
            return []
        return [held] if isinstance(held, str) else list(held)

    def getter(self, name: str) -> Callable[[Record], Any]:
        """A function reading field ``name`` (canonical) from a record."""
        stamp = _STAMP_GETTERS.get(name)
        if stamp is not None:
            return stamp
        spec = self.spec.field(name)
        if spec is not None and spec.compute is not None:
            compute = spec.compute
            return lambda r: compute(r.values.get)
        return lambda r: r.values.get(name)

    def sorted_ids(self) -> list[str]:
        """All ids (deleted included) in ascending order, cached until the table changes."""
        if self._sorted is None or self._sorted[0] != self.version:
            self._sorted = (self.version, sorted(self.rows))
        return self._sorted[1]

    def live(self) -> Iterator[Record]:
        """Records not in the recycle bin."""
        return (r for r in self.rows.values() if not r.deleted)

    def as_dict(self, rec: Record) -> dict[str, Any]:
        """Every field of a record in schema order (computed and audit fields included)."""
        return {spec.name: self.getter(spec.name)(rec) for spec in self.spec}


class UnknownColumn(Exception):
    """An uploaded column names no field (or no usable relationship) of the object."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


@dataclass(frozen=True)
class ColumnPlan:
    """How one uploaded column maps onto a field: target name and converter."""

    column: str
    target: str
    spec: FieldSpec
    convert: Callable[[Any], Any]
    text_limit: int | None


class RecordErrorInjector:
    """Fails the next N records written to an object with a chosen status code."""

    def __init__(self) -> None:
        self._pending: dict[str, deque[FieldValueError | None]] = {}

    def add(self, sobject: str, count: int, error: FieldValueError, every: int = 1) -> None:
        """Queue ``count`` failures for records of ``sobject``, one in every ``every``."""
        self._pending.setdefault(sobject.lower(), deque()).extend(
            ([None] * (every - 1) + [error]) * count
        )

    def take(self, sobject: str) -> FieldValueError | None:
        """The next queued failure for ``sobject``, if any."""
        queue = self._pending.get(sobject.lower())
        if not queue:
            return None
        return queue.popleft()

    def pending(self) -> dict[str, int]:
        """Queued failures per object."""
        counts = {k: sum(e is not None for e in v) for k, v in self._pending.items()}
        return {k: n for k, n in counts.items() if n}

    def clear(self) -> None:
        """Drop every queued failure."""
        self._pending.clear()

    def __bool__(self) -> bool:
        return any(self._pending.values())


class Database:
    """All tables of the org, plus the user ids that ``OwnerId`` may reference."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}
        self.by_prefix: dict[str, Table] = {}
        self.user_ids: set[str] = set()
        self.injector = RecordErrorInjector()

    def add_table(self, table: Table) -> None:
        """Register a table under its name and key prefix."""
        self.tables[table.name.lower()] = table
        self.by_prefix[table.spec.key_prefix] = table

    def table(self, name: str) -> Table | None:
        """The table of sObject ``name`` (any case)."""
        return self.tables.get(name.lower())

    def require(self, name: str) -> Table:
        """The table of sObject ``name`` (any case); ``KeyError`` if there is none."""
        table = self.tables.get(name.lower())
        if table is None:
            raise KeyError(f"no object {name!r} in the fake org")
        return table

    def plan_column(self, table: Table, column: str) -> ColumnPlan:
        """Map an uploaded column (``Name``, ``Account.ExtId__c``) to a field of ``table``."""
        spec = table.spec.field(column)
        if spec is not None:
            if spec.compute is not None:
                raise UnknownColumn(column)
            plain = spec.field_type in (FieldType.STRING, FieldType.PICKLIST)
            fast = spec.length if plain and not spec.restricted_picklist else None
            return ColumnPlan(column, spec.name, spec, converter_for(spec, table.spec.label), fast)
        rel, dot, ext_name = column.partition(".")
        ref = table.spec.relationship(rel) if dot else None
        parent = self.table(ref.reference_to or "") if ref is not None else None
        ext = parent.spec.field(ext_name) if parent is not None else None
        if (
            ref is None
            or parent is None
            or ext is None
            or not (ext.external_id or ext.name == "Id")
        ):
            raise UnknownColumn(column)
        return ColumnPlan(column, ref.name, ref, self._foreign_key(parent, ext), None)

    def _foreign_key(self, parent: Table, ext: FieldSpec) -> Callable[[Any], Any]:
        convert = converter_for(ext, parent.spec.label)

        def resolve(value: Any) -> Any:
            if value is None:
                return None
            key = convert(value)
            if ext.name == "Id":
                ids = [key] if key in parent.rows and not parent.rows[key].deleted else []
            else:
                ids = parent.lookup(ext, key)
            if len(ids) == 1:
                return ids[0]
            if not ids:
                raise FieldValueError(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {value} not found for field {ext.name} "
                    f"in entity {parent.name}",
                )
            raise FieldValueError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value} matched more than one record for field "
                f"{ext.name} in entity {parent.name}",
            )

        return resolve


def _err(code: str, message: str, *fields: str) -> FieldValueError:
    return FieldValueError(code, message, tuple(fields))


class Writer:
    """Writes the records of one batch: validation, references, indexes and audit fields."""

    def __init__(
        self,
        db: Database,
        table: Table,
        operation: Operation,
        *,
        user_id: str,
        now: datetime,
        external_id_field: str | None = None,
        api_version: float = 68.0,
    ) -> None:
        self.db = db
        self.table = table
        self.spec = table.spec
        self.operation = operation
        self.user_id = user_id
        self.now = now
        self.stamp = Stamp(now, user_id, now, user_id)
        self.ids_on_failure = api_version >= 57.0
        fields = table.spec.fields
        self.not_createable = frozenset(f.name for f in fields if not f.createable)
        self.not_updateable = frozenset(f.name for f in fields if not f.updateable)
        self.required = [f.name for f in fields if f.required]
        self.defaults: list[tuple[str, Any]] = [
            (
                f.name,
                False if f.field_type is FieldType.BOOLEAN and f.default is None else f.default,
            )
            for f in fields
            if f.default is not None or f.field_type is FieldType.BOOLEAN
        ]
        self.defaults = [(n, v) for n, v in self.defaults if n != "IsDeleted"]
        self.defaults.append(("OwnerId", user_id))
        self.references = [
            f for f in fields if f.field_type is FieldType.REFERENCE and f.createable
        ]
        self.indexed = [f for f in fields if f.indexed]
        self._indexed_names = frozenset(f.name for f in self.indexed)
        self.unique = [f for f in fields if f.unique]
        self.default_name = table.spec.custom and table.spec.field("Name") is not None
        self.external: FieldSpec | None = None
        if external_id_field:
            self.external = table.spec.field(external_id_field)
        self.injector = db.injector if db.injector else None
        self._op = {
            Operation.INSERT: self.insert,
            Operation.UPDATE: self.update,
            Operation.UPSERT: self.upsert,
            Operation.DELETE: self.delete,
            Operation.HARD_DELETE: self.hard_delete,
        }[operation]

    def write(self, values: dict[str, Any]) -> Outcome:
        """Apply the batch's operation to one record's converted values."""
        if self.injector is not None:
            injected = self.injector.take(self.spec.name)
            if injected is not None:
                return Outcome(self._failure_id(values), False, False, injected)
        given_id = values.get("Id")
        try:
            return self._op(values)
        except FieldValueError as exc:
            return Outcome(self._failure_id({"Id": given_id}), False, False, exc)

    def failed(self, values: dict[str, Any] | None, error: FieldValueError) -> Outcome:
        """The outcome of a record whose values could not even be converted."""
        return Outcome(self._failure_id(values or {}), False, False, error)

    def _failure_id(self, values: dict[str, Any]) -> str | None:
        if not self.ids_on_failure or self.operation is Operation.INSERT:
            return None
        rid = values.get("Id")
        return rid if isinstance(rid, str) else None

    # -- checks ------------------------------------------------------------

    def _check_fields(self, values: dict[str, Any], forbidden: frozenset[str]) -> None:
        bad = set(forbidden.intersection(values))
        bad.discard("Id")
        if bad:
            names = ", ".join(sorted(bad))
            raise _err(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {names}. Please check the security settings "
                "of this field and verify that it is read/write for your profile or "
                "permission set.",
                *sorted(bad),
            )

    def _check_references(self, values: dict[str, Any]) -> None:
        for spec in self.references:
            value = values.get(spec.name)
            if value is None:
                continue
            target = spec.reference_to or ""
            if target == "User":
                if value != self.user_id and value not in self.db.user_ids:
                    raise _err(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", spec.name
                    )
                continue
            parent = self.db.table(target)
            if parent is None or value[:3] != parent.spec.key_prefix:
                raise _err(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"{spec.label} ID: id value of incorrect type: {value}",
                    spec.name,
                )
            rec = parent.rows.get(value)
            if rec is None:
                raise _err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", spec.name)
            if rec.deleted:
                raise _err("ENTITY_IS_DELETED", "entity is deleted", spec.name)

    def _check_unique(self, values: dict[str, Any], own_id: str | None) -> None:
        for spec in self.unique:
            value = values.get(spec.name)
            if value is None:
                continue
            others = [i for i in self.table.lookup(spec, value) if i != own_id]
            if others:
                raise _err(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {spec.name} duplicates value on record with id: "
                    f"{others[0]}",
                    spec.name,
                )

    def _find(self, rid: Any, *, allow_deleted: bool = False) -> Record:
        if rid is None:
            deleting = self.operation in (Operation.DELETE, Operation.HARD_DELETE)
            call = "a delete" if deleting else "an update"
            raise _err("MISSING_ARGUMENT", f"Id not specified in {call} call")
        if rid[:3] != self.spec.key_prefix:
            raise _err(
                "MALFORMED_ID", f"{self.spec.label} ID: id value of incorrect type: {rid}", "Id"
            )
        rec = self.table.rows.get(rid)
        if rec is None:
            raise _err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if rec.deleted and not allow_deleted:
            raise _err("ENTITY_IS_DELETED", "entity is deleted")
        return rec

    # -- operations --------------------------------------------------------

    def insert(self, values: dict[str, Any]) -> Outcome:
        """Create a record."""
        if values.get("Id") is not None:
            raise _err(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", "Id"
            )
        values.pop("Id", None)
        if not self.not_createable.isdisjoint(values):
            self._check_fields(values, self.not_createable)
        for name, default in self.defaults:
            if values.get(name) is None:
                values[name] = default
        for name in self.required:
            if values.get(name) is None:
                missing = [n for n in self.required if values.get(n) is None]
                raise _err(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    *missing,
                )
        if self.references:
            self._check_references(values)
        if self.unique:
            self._check_unique(values, None)
        table = self.table
        rid = table.ids.next18()
        values["Id"] = rid
        if self.default_name and values.get("Name") is None:
            values["Name"] = rid[:15]
        table.rows[rid] = Record(values, self.stamp)
        if self.indexed:
            table.index_add(rid, values)
        return Outcome(rid, True, True)

    def update(self, values: dict[str, Any]) -> Outcome:
        """Change fields of an existing record."""
        rid = values.pop("Id", None)
        rec = self._find(rid)
        assert isinstance(rid, str)
        return self._apply_update(rid, rec, values)

    def _apply_update(self, rid: str, rec: Record, values: dict[str, Any]) -> Outcome:
        if not self.not_updateable.isdisjoint(values):
            self._check_fields(values, self.not_updateable)
        blanked = [n for n in self.required if n in values and values[n] is None]
        if blanked:
            raise _err(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(blanked)}]",
                *blanked,
            )
        if self.references:
            self._check_references(values)
        if self.unique:
            self._check_unique(values, rid)
        table = self.table
        reindex = not self._indexed_names.isdisjoint(values)  # else no indexed value changes
        if reindex:
            table.index_remove(rid, rec.values)
        rec.values.update(values)
        if reindex:
            table.index_add(rid, rec.values)
        rec.stamp = Stamp(rec.stamp.created, rec.stamp.created_by, self.now, self.user_id)
        return Outcome(rid, True, False)

    def upsert(self, values: dict[str, Any]) -> Outcome:
        """Update the record matching the external id, or insert one."""
        ext = self.external
        assert ext is not None
        if ext.name == "Id":
            if values.get("Id") is None:
                values.pop("Id", None)
                return self.insert(values)
            return self.update(values)
        key = values.get(ext.name)
        if key is None:
            raise _err("MISSING_ARGUMENT", f"{ext.name} not specified")
        matches = self.table.lookup(ext, key)
        if not matches:
            values.pop("Id", None)
            return self.insert(values)
        if len(matches) > 1:
            raise _err(
                "DUPLICATE_EXTERNAL_ID",
                f"{ext.label}: more than one record found for external id field: "
                f"[{', '.join(matches)}]",
                ext.name,
            )
        rid = matches[0]
        values.pop("Id", None)
        return self._apply_update(rid, self.table.rows[rid], values)

    def delete(self, values: dict[str, Any]) -> Outcome:
        """Move a record to the recycle bin (``queryAll`` still sees it)."""
        rid = values.get("Id")
        rec = self._find(rid)
        assert isinstance(rid, str)
        self.table.index_remove(rid, rec.values)
        rec.deleted = True
        rec.stamp = Stamp(rec.stamp.created, rec.stamp.created_by, self.now, self.user_id)
        self.table.version += 1
        return Outcome(rid, True, False)

    def hard_delete(self, values: dict[str, Any]) -> Outcome:
        """Erase a record for good (it skips the recycle bin)."""
        rid = values.get("Id")
        rec = self._find(rid, allow_deleted=True)
        assert isinstance(rid, str)
        if not rec.deleted:
            self.table.index_remove(rid, rec.values)
        del self.table.rows[rid]
        self.table.version += 1
        return Outcome(rid, True, False)

    def write_all(self, records: Iterable[dict[str, Any]]) -> list[Outcome]:
        """Write several already-converted records."""
        outcomes = [self.write(values) for values in records]
        self.table.version += 1
        return outcomes
