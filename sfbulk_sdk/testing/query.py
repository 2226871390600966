"""Running SOQL in the fake org: a parsed query bound to the tables, then evaluated.

:func:`compile_query` checks every field a :class:`~sfbulk_sdk.testing.soql.ParsedQuery`
names against the org's schema (relationship paths included) and returns a
:class:`CompiledQuery`, which evaluates the filter, order and limit over records.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from .ids import normalize_id
from .schema import FieldSpec, FieldType
from .soql import Condition, InList, Junction, Literal, Negation, ParsedQuery, SoqlError
from .soql_dates import date_range
from .store import Database, Record, Table

__all__ = ["Column", "CompiledQuery", "compile_query"]


Getter = Callable[[Record], Any]


@dataclass(frozen=True)
class Column:
    """One selected field: its header as queried, its path and how to read it."""

    name: str
    path: tuple[str, ...]
    spec: FieldSpec
    getter: Getter


@dataclass
class CompiledQuery:
    """A query bound to a table: run it over records to get result rows.

    Each row is a tuple ``(record id, parent ids..., values...)``: one parent
    id per relationship in :attr:`relationships`, then one value per column.
    ``filters_on_id`` is true when ``WHERE`` names an Id-typed field (the record
    ``Id``, a lookup such as ``AccountId``, or a parent's ``Id``).
    """

    table: Table
    columns: list[Column]
    relationships: list[tuple[tuple[str, ...], str, Getter]]
    predicate: Callable[[Record], bool] | None
    order: list[tuple[Getter, bool, bool, bool]]
    limit: int | None
    filters_on_id: bool
    include_deleted: bool = False
    parsed: ParsedQuery | None = field(default=None, repr=False)

    def run(self, records: Iterable[Record] | None = None) -> list[tuple[Any, ...]]:
        """Evaluate over ``records`` (default: the whole table)."""
        source: Iterable[Record] = self.table.rows.values() if records is None else records
        if not self.include_deleted:
            source = (r for r in source if not r.deleted)
        if self.predicate is not None:
            source = filter(self.predicate, source)
        selected = list(source)
        for getter, descending, nulls_first, text in reversed(self.order):
            null_key = (0,) if nulls_first != descending else (2,)

            def key(
                rec: Record, get: Getter = getter, nk: tuple[int] = null_key, fold: bool = text
            ) -> Any:
                value = get(rec)
                if value is None:
                    return nk
                return (1, value.casefold() if fold and isinstance(value, str) else value)

            selected.sort(key=key, reverse=descending)
        if self.limit is not None:
            selected = selected[: self.limit]
        getters = [g for _, _, g in self.relationships] + [c.getter for c in self.columns]
        id_get = self.table.getter("Id")
        return [(id_get(rec), *(g(rec) for g in getters)) for rec in selected]


def _resolve(
    db: Database, table: Table, path: str
) -> tuple[tuple[str, ...], FieldSpec, Getter, list[tuple[tuple[str, ...], Table, Getter]]]:
    """Resolve a field path to (canonical parts, field spec, getter, relationship hops)."""
    parts = path.split(".")
    if (
        len(parts) > 1
        and parts[0].lower() == table.name.lower()
        and not table.spec.relationship(parts[0])
    ):
        parts = parts[1:]
    hops: list[tuple[tuple[str, ...], Table, Getter]] = []
    current = table
    canonical: list[str] = []
    chain: list[Getter] = []
    for rel in parts[:-1]:
        ref = current.spec.relationship(rel)
        parent = db.table(ref.reference_to or "") if ref is not None else None
        if ref is None or parent is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{rel}' in field path. If you are attempting "
                "to use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        assert ref.relationship_name is not None
        canonical.append(ref.relationship_name)
        chain.append(_hop(current.getter(ref.name), parent))
        current = parent
        hops.append((tuple(canonical), parent, _compose(list(chain), parent.getter("Id"))))
    spec = current.spec.field(parts[-1])
    if spec is None:
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{parts[-1]}' on entity '{current.name}'. If you are attempting "
            "to use a custom field, be sure to append the '__c' after the custom field name. "
            "Please reference your WSDL or the describe call for the appropriate names.",
        )
    canonical.append(spec.name)
    return tuple(canonical), spec, _compose(chain, current.getter(spec.name)), hops


def _hop(ref_get: Getter, parent: Table) -> Callable[[Record], Record | None]:
    rows = parent.rows

    def step(rec: Record) -> Record | None:
        pid = ref_get(rec)
        return rows.get(pid) if pid is not None else None

    return step


def _compose(chain: Sequence[Callable[[Record], Record | None]], last: Getter) -> Getter:
    if not chain:
        return last

    def get(rec: Record) -> Any:
        current: Record | None = rec
        for step in chain:
            assert current is not None
            current = step(current)
            if current is None:
                return None
        assert current is not None
        return last(current)

    return get


@dataclass(frozen=True)
class _Days:
    """A date literal's range ``[start, end)``, in the field's own type (date or dateTime)."""

    start: Any
    end: Any

    def holds(self, value: Any) -> bool:
        return bool(self.start <= value < self.end)


#: How a field compares with a date literal's range (``=`` is within it).
_RANGE_OPS: dict[str, Callable[[Any, _Days], bool]] = {
    "=": lambda v, r: r.holds(v),
    "!=": lambda v, r: not r.holds(v),
    "<": lambda v, r: bool(v < r.start),
    "<=": lambda v, r: bool(v < r.end),
    ">": lambda v, r: bool(v >= r.end),
    ">=": lambda v, r: bool(v >= r.start),
}


def _days(ftype: FieldType, lit: Literal, today: date) -> _Days:
    name, count = lit.value
    start, end = date_range(name, count, today)
    if ftype is FieldType.DATETIME:
        return _Days(*(datetime.combine(d, time(), timezone.utc) for d in (start, end)))
    return _Days(start, end)


def _coerce(spec: FieldSpec, lit: Literal, path: str, today: date | None = None) -> Any:
    """The literal as a value comparable with the field's stored values."""
    ftype = spec.field_type
    if lit.kind == "null":
        return None
    if lit.kind == "daterange" and ftype in (FieldType.DATE, FieldType.DATETIME):
        return _days(ftype, lit, today or datetime.now(timezone.utc).date())
    if ftype.is_text:
        if lit.kind != "string":
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{path}' must be of type string and "
                "should be enclosed in quotes",
            )
        return str(lit.value)
    if ftype in (FieldType.ID, FieldType.REFERENCE):
        if lit.kind != "string":
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{path}' must be of type id and should "
                "be enclosed in quotes",
            )
        normalized = normalize_id(str(lit.value))
        if normalized is None:
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}")
        return normalized
    expected = {
        FieldType.BOOLEAN: ("bool", "boolean"),
        FieldType.DATE: ("date", "date"),
        FieldType.DATETIME: ("datetime", "dateTime"),
        FieldType.TIME: ("time", "time"),  # no time literals in the subset: never comparable
    }.get(ftype, ("number", "double" if ftype is not FieldType.INT else "int"))
    if lit.kind != expected[0]:
        raise SoqlError(
            "INVALID_FIELD",
            f"value of filter criterion for field '{path}' must be of type {expected[1]} and "
            "should not be enclosed in quotes",
        )
    return lit.value


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _norm(spec: FieldSpec) -> Callable[[Any], Any]:
    if spec.field_type.is_text:
        return lambda v: v.casefold() if isinstance(v, str) else v
    if spec.field_type.is_number:
        return lambda v: float(v) if v is not None else None
    return lambda v: v


def _compile_condition(
    cond: Condition, db: Database, table: Table, flags: dict[str, bool], today: date
) -> Callable[[Record], bool]:
    if isinstance(cond, Junction):
        parts = [_compile_condition(c, db, table, flags, today) for c in cond.items]
        if cond.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(cond, Negation):
        inner = _compile_condition(cond.item, db, table, flags, today)
        return lambda r: not inner(r)
    _, spec, getter, _ = _resolve(db, table, cond.path)
    if spec.field_type in (FieldType.ID, FieldType.REFERENCE):
        # Any Id-typed field (the record Id, a lookup such as AccountId, a parent's Id):
        # filtering on one of them disables PK chunking.
        flags["id"] = True
    norm = _norm(spec)
    if isinstance(cond, InList):
        coerced = [_coerce(spec, lit, cond.path, today) for lit in cond.literals]
        ranges = [c for c in coerced if isinstance(c, _Days)]
        values = {norm(c) for c in coerced if not isinstance(c, _Days)}
        if ranges:

            def within(v: Any) -> bool:
                return v is not None and (v in values or any(x.holds(v) for x in ranges))

            return (
                (lambda r: not within(getter(r))) if cond.negate else (lambda r: within(getter(r)))
            )
        if cond.negate:
            return lambda r: (v := getter(r)) is None or norm(v) not in values
        return lambda r: (v := getter(r)) is not None and norm(v) in values
    op = cond.op
    if op == "LIKE":
        if not spec.field_type.is_text and spec.field_type not in (
            FieldType.ID,
            FieldType.REFERENCE,
        ):
            raise SoqlError(
                "INVALID_FIELD", f"invalid operator on field '{cond.path}': LIKE needs a string"
            )
        if cond.literal.kind != "string":
            raise SoqlError("MALFORMED_QUERY", "LIKE needs a quoted pattern")
        regex = _like_regex(str(cond.literal.value))
        return lambda r: (v := getter(r)) is not None and regex.fullmatch(v) is not None
    target = _coerce(spec, cond.literal, cond.path, today)
    if isinstance(target, _Days):
        test = _RANGE_OPS[op]
        if op == "!=":
            return lambda r: (v := getter(r)) is None or test(v, target)
        return lambda r: (v := getter(r)) is not None and test(v, target)
    if target is None:
        if op == "=":
            return lambda r: getter(r) is None
        if op == "!=":
            return lambda r: getter(r) is not None
        raise SoqlError("MALFORMED_QUERY", f"invalid operator {op} for null")
    wanted = norm(target)
    if op == "=":
        return lambda r: (v := getter(r)) is not None and norm(v) == wanted
    if op == "!=":
        return lambda r: (v := getter(r)) is None or norm(v) != wanted
    if spec.field_type is FieldType.BOOLEAN:
        raise SoqlError("INVALID_FIELD", f"invalid operator on boolean field '{cond.path}'")
    compare = _OPS[op]
    return lambda r: (v := getter(r)) is not None and compare(norm(v), wanted)


def compile_query(
    parsed: ParsedQuery,
    db: Database,
    *,
    include_deleted: bool = False,
    now: datetime | None = None,
) -> CompiledQuery:
    """Bind a parsed query to the org's tables, checking every field it names; date
    literals (``TODAY``) count from ``now`` (the org's clock; default: the real time)."""
    today = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()
    table = db.table(parsed.sobject)
    if table is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{parsed.sobject}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )
    columns: list[Column] = []
    relationships: dict[tuple[str, ...], tuple[tuple[str, ...], str, Getter]] = {}
    for name in parsed.fields:
        canonical, spec, getter, hops = _resolve(db, table, name)
        for hop_path, hop_table, hop_get in hops:
            relationships.setdefault(hop_path, (hop_path, hop_table.name, hop_get))
        columns.append(Column(name, canonical, spec, getter))
    flags: dict[str, bool] = {}
    predicate = (
        _compile_condition(parsed.where, db, table, flags, today)
        if parsed.where is not None
        else None
    )
    order: list[tuple[Getter, bool, bool, bool]] = []
    for item in parsed.order_by:
        _, spec, getter, _ = _resolve(db, table, item.path)
        nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
        order.append((getter, item.descending, nulls_first, spec.field_type.is_text))
    return CompiledQuery(
        table=table,
        columns=columns,
        relationships=list(relationships.values()),
        predicate=predicate,
        order=order,
        limit=parsed.limit,
        filters_on_id=flags.get("id", False),
        include_deleted=include_deleted,
        parsed=parsed,
    )
