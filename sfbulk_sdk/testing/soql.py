"""The SOQL subset the fake org answers Bulk queries with.

Supported::

    SELECT field[, Parent.field ...] FROM Object
    [WHERE condition]                  -- =, !=, <>, <, >, <=, >=, LIKE, IN, NOT IN,
                                       -- = null / != null, AND, OR, NOT, parentheses
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT n]

As in Salesforce, ``AND`` and ``OR`` cannot be mixed at one level without
parentheses, text comparisons ignore case, ``!=``/``NOT IN`` also match nulls
and literals must have the field's type (quoted strings and ids, bare numbers,
``true``/``false``, ``2024-01-31`` dates, ``2024-01-31T00:00:00Z`` dateTimes).
What Bulk queries reject (aggregates, ``GROUP BY``, ``OFFSET``, sub-queries,
``TYPEOF``) fails with the codes Salesforce uses.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .ids import normalize_id
from .schema import FieldSpec, FieldType, parse_datetime
from .store import Database, Record, Table

__all__ = [
    "CompiledQuery",
    "Condition",
    "ParsedQuery",
    "SoqlError",
    "compile_query",
    "parse_soql",
]


class SoqlError(Exception):
    """A query Salesforce would refuse: ``code`` is the API fault code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\d:]))
  | (?P<number>[-+]?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),:])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_UNSUPPORTED_CLAUSES = {
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "OFFSET": "OFFSET",
    "TYPEOF": "TYPEOF",
    "WITH": "WITH",
    "FOR": "FOR",
    "USING": "USING SCOPE",
}
_AGGREGATES = {"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _tokenize(soql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        m = _TOKEN.match(soql, pos)
        if not m:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{soql[pos]}'")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    return tokens


@dataclass(frozen=True)
class Literal:
    """A literal value from the query text."""

    kind: str  # string, number, bool, null, date, datetime
    value: Any
    text: str


@dataclass(frozen=True)
class Comparison:
    """``field op literal`` (``LIKE`` included)."""

    path: str
    op: str
    literal: Literal


@dataclass(frozen=True)
class InList:
    """``field [NOT] IN (literal, ...)``."""

    path: str
    literals: tuple[Literal, ...]
    negate: bool


@dataclass(frozen=True)
class Junction:
    """``a AND b AND c`` or ``a OR b``."""

    op: str
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    """``NOT condition``."""

    item: Condition


Condition = Comparison | InList | Junction | Negation


@dataclass(frozen=True)
class OrderItem:
    """One ``ORDER BY`` key."""

    path: str
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class ParsedQuery:
    """The syntax tree of a query in the supported subset."""

    fields: tuple[str, ...]
    sobject: str
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = _tokenize(soql)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.upper == word:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            tok = self.peek()
            found = tok.text if tok else "end of query"
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{found}', expected {word}")

    def expect_punct(self, text: str) -> None:
        tok = self.next()
        if tok.text != text:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")

    def unexpected(self, tok: Token) -> SoqlError:
        clause = _UNSUPPORTED_CLAUSES.get(tok.upper) if tok.kind == "ident" else None
        if clause:
            return SoqlError(
                "FUNCTIONALITY_NOT_ENABLED", f"{clause} is not supported by Bulk API query"
            )
        return SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")

    def parse(self) -> ParsedQuery:
        self.expect_keyword("SELECT")
        fields = [self.select_item()]
        while (tok := self.peek()) is not None and tok.text == ",":
            self.i += 1
            fields.append(self.select_item())
        self.expect_keyword("FROM")
        obj = self.next()
        if obj.kind != "ident" or "." in obj.text:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{obj.text}'")
        where = None
        order: list[OrderItem] = []
        limit = None
        if self.keyword("WHERE"):
            where = self.condition()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            order.append(self.order_item())
            while (tok := self.peek()) is not None and tok.text == ",":
                self.i += 1
                order.append(self.order_item())
        if self.keyword("LIMIT"):
            tok = self.next()
            if tok.kind != "number" or not tok.text.isdigit():
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
            limit = int(tok.text)
        tok = self.peek()
        if tok is not None:
            raise self.unexpected(tok)
        return ParsedQuery(tuple(fields), obj.text, where, tuple(order), limit)

    def select_item(self) -> str:
        tok = self.next()
        if tok.text == "(":
            raise SoqlError(
                "FUNCTIONALITY_NOT_ENABLED", "Aggregate Relationships not supported in Bulk Query"
            )
        if tok.kind != "ident":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
        following = self.peek()
        if following is not None and following.text == "(":
            if tok.upper in _AGGREGATES:
                raise SoqlError(
                    "FUNCTIONALITY_NOT_ENABLED", "Aggregate queries are not supported by Bulk API"
                )
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}('")
        if tok.upper in ("FROM", "TYPEOF"):
            raise (
                self.unexpected(tok)
                if tok.upper == "TYPEOF"
                else SoqlError("MALFORMED_QUERY", "unexpected token: 'FROM'")
            )
        return tok.text

    def order_item(self) -> OrderItem:
        tok = self.next()
        if tok.kind != "ident":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
        descending = False
        if self.keyword("DESC"):
            descending = True
        else:
            self.keyword("ASC")
        nulls_first = None
        if self.keyword("NULLS"):
            if self.keyword("FIRST"):
                nulls_first = True
            else:
                self.expect_keyword("LAST")
                nulls_first = False
        return OrderItem(tok.text, descending, nulls_first)

    def condition(self) -> Condition:
        items = [self.term()]
        junction: str | None = None
        while (
            (tok := self.peek()) is not None
            and tok.kind == "ident"
            and tok.upper
            in (
                "AND",
                "OR",
            )
        ):
            if junction is not None and tok.upper != junction:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"unexpected token: '{tok.text}': use parentheses to mix AND and OR",
                )
            junction = tok.upper
            self.i += 1
            items.append(self.term())
        if junction is None:
            return items[0]
        return Junction(junction, tuple(items))

    def term(self) -> Condition:
        if self.keyword("NOT"):
            return Negation(self.term())
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.i += 1
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        tok = self.next()
        if tok.kind != "ident":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
        path = tok.text
        if self.keyword("NOT"):
            self.expect_keyword("IN")
            return InList(path, self.literal_list(), True)
        if self.keyword("IN"):
            return InList(path, self.literal_list(), False)
        if self.keyword("LIKE"):
            return Comparison(path, "LIKE", self.literal())
        op = self.next()
        if op.kind != "op":
            raise self.unexpected(op)
        return Comparison(path, "!=" if op.text == "<>" else op.text, self.literal())

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        items = [self.literal()]
        while (tok := self.peek()) is not None and tok.text == ",":
            self.i += 1
            items.append(self.literal())
        self.expect_punct(")")
        return tuple(items)

    def literal(self) -> Literal:
        tok = self.next()
        if tok.kind == "string":
            return Literal("string", _unquote(tok.text), tok.text)
        if tok.kind == "number":
            return Literal("number", float(tok.text), tok.text)
        if tok.kind == "date":
            try:
                return Literal("date", date.fromisoformat(tok.text), tok.text)
            except ValueError:
                raise SoqlError("MALFORMED_QUERY", f"invalid date: {tok.text}") from None
        if tok.kind == "datetime":
            parsed = parse_datetime(tok.text)
            if parsed is None:
                raise SoqlError("MALFORMED_QUERY", f"invalid dateTime: {tok.text}")
            return Literal("datetime", parsed, tok.text)
        if tok.kind == "ident" and tok.upper in ("TRUE", "FALSE"):
            return Literal("bool", tok.upper == "TRUE", tok.text)
        if tok.kind == "ident" and tok.upper == "NULL":
            return Literal("null", None, tok.text)
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            # \_ and \% stay escaped: LIKE reads them as literal wildcards.
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_soql(soql: str) -> ParsedQuery:
    """Parse a query, raising :class:`SoqlError` for anything outside the subset."""
    return _Parser(soql.strip()).parse()


# ---------------------------------------------------------------------------
# Compilation against the org's schema


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
        hops.append((tuple(canonical), parent, _compose(chain, parent.getter("Id"))))
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


def _coerce(spec: FieldSpec, lit: Literal, path: str) -> Any:
    """The literal as a value comparable with the field's stored values."""
    ftype = spec.field_type
    if lit.kind == "null":
        return None
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
    cond: Condition, db: Database, table: Table, flags: dict[str, bool]
) -> Callable[[Record], bool]:
    if isinstance(cond, Junction):
        parts = [_compile_condition(c, db, table, flags) for c in cond.items]
        if cond.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(cond, Negation):
        inner = _compile_condition(cond.item, db, table, flags)
        return lambda r: not inner(r)
    _, spec, getter, _ = _resolve(db, table, cond.path)
    if spec.field_type in (FieldType.ID, FieldType.REFERENCE):
        # Any Id-typed field (the record Id, a lookup such as AccountId, a parent's Id):
        # filtering on one of them disables PK chunking.
        flags["id"] = True
    norm = _norm(spec)
    if isinstance(cond, InList):
        values = {norm(_coerce(spec, lit, cond.path)) for lit in cond.literals}
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
    target = _coerce(spec, cond.literal, cond.path)
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
    parsed: ParsedQuery, db: Database, *, include_deleted: bool = False
) -> CompiledQuery:
    """Bind a parsed query to the org's tables, checking every field it names."""
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
        _compile_condition(parsed.where, db, table, flags) if parsed.where is not None else None
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
