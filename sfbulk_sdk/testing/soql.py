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
``true``/``false``, ``2024-01-31`` dates, ``2024-01-31T00:00:00Z`` dateTimes, and the
date literals ``TODAY``, ``LAST_N_DAYS:n``, ``THIS_MONTH``... of
:mod:`~sfbulk_sdk.testing.soql_dates`, ranges of days compared as Salesforce does).
What Bulk queries reject (aggregates, ``GROUP BY``, ``OFFSET``, sub-queries,
``TYPEOF``) fails with the codes Salesforce uses.

Parsing is here; binding a parsed query to the org's tables and running it is
in :mod:`~sfbulk_sdk.testing.query`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .soql_dates import DATE_LITERALS, N_DATE_LITERALS
from .values import parse_datetime

__all__ = [
    "Comparison",
    "Condition",
    "InList",
    "Junction",
    "Literal",
    "Negation",
    "OrderItem",
    "ParsedQuery",
    "SoqlError",
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

    kind: str  # string, number, bool, null, date, datetime, daterange (TODAY, LAST_N_DAYS:n)
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
        if tok.kind == "ident" and tok.upper in DATE_LITERALS:
            return Literal("daterange", (tok.upper, None), tok.text)
        if tok.kind == "ident" and tok.upper in N_DATE_LITERALS:
            self.expect_punct(":")
            count = self.next()
            if count.kind != "number" or not count.text.isdigit():
                raise SoqlError(
                    "MALFORMED_QUERY", f"{tok.text} needs a whole number, not '{count.text}'"
                )
            return Literal("daterange", (tok.upper, int(count.text)), f"{tok.text}:{count.text}")
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
