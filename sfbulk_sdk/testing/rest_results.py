"""REST query results: records as the REST API renders them, and the cursors behind
``nextRecordsUrl``.

A :class:`RecordLayout` turns a result row of a
:class:`~sfbulk_sdk.testing.query.CompiledQuery` into a REST record: an
``attributes`` object (``type``, ``url``), then the fields in ``SELECT`` order
under their API names, a relationship path (``Account.Owner.Name``) nested as an
object with its own ``attributes`` where its first field was selected, or
``null`` when the record has no parent there. Values are JSON-typed: numbers,
booleans, ``null``, dates ``2024-05-06``, dateTimes ``2024-05-06T07:08:09.000+0000``,
times ``07:08:09.000Z``.

A :class:`QueryCursor` is a query's rows kept on the server for the batches
after the first (a snapshot, as a Salesforce query locator is).
:class:`QueryCursors` holds them: ids with the ``01g`` key prefix, one user's
each; a cursor unused for :data:`CURSOR_TIMEOUT` is gone, and a user holds at
most :data:`CURSORS_PER_USER` (opening another releases that user's oldest), as
Salesforce documents for query locators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from ..core.clock import Clock
from .ids import IdGenerator
from .query import CompiledQuery
from .schema import FieldValue
from .values import format_time

__all__ = [
    "CURSORS_PER_USER",
    "CURSOR_TIMEOUT",
    "QueryCursor",
    "QueryCursors",
    "RecordLayout",
    "rest_value",
]

#: How long a cursor lives without being read.
CURSOR_TIMEOUT = timedelta(minutes=15)
#: How many cursors one user holds at once.
CURSORS_PER_USER = 10


def rest_value(value: FieldValue) -> str | bool | int | float | None:
    """A typed field value as REST JSON carries it."""
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return format_time(value)
    return value


@dataclass(frozen=True)
class RecordLayout:
    """How the rows of one query become REST records.

    A row is ``(record id, parent ids..., values...)``: one parent id per path of
    :attr:`relationships` (in that order), then one value per path of :attr:`paths`.
    """

    sobject: str
    paths: tuple[tuple[str, ...], ...]  # each column's canonical path, in SELECT order
    relationships: tuple[tuple[tuple[str, ...], str], ...]  # (path, parent sObject type)

    @classmethod
    def of(cls, query: CompiledQuery) -> RecordLayout:
        """The layout of a compiled query's rows."""
        return cls(
            query.table.name,
            tuple(c.path for c in query.columns),
            tuple((path, sobject) for path, sobject, _ in query.relationships),
        )

    def record(self, row: Sequence[FieldValue], base: str) -> dict[str, object]:
        """One row as a REST record; ``base`` is ``/services/data/vXX.X``."""
        offset = 1 + len(self.relationships)
        parents = {
            path: (sobject, row[1 + i]) for i, (path, sobject) in enumerate(self.relationships)
        }
        root: dict[str, object] = {"attributes": _attributes(self.sobject, row[0], base)}
        nodes: dict[tuple[str, ...], dict[str, object] | None] = {(): root}
        for path, value in zip(self.paths, row[offset:], strict=True):
            node = _node(nodes, parents, path[:-1], base)
            if node is not None:
                node[path[-1]] = rest_value(value)
        return root


def _attributes(sobject: str, record_id: FieldValue, base: str) -> dict[str, str]:
    return {"type": sobject, "url": f"{base}/sobjects/{sobject}/{record_id}"}


def _node(
    nodes: dict[tuple[str, ...], dict[str, object] | None],
    parents: dict[tuple[str, ...], tuple[str, FieldValue]],
    path: tuple[str, ...],
    base: str,
) -> dict[str, object] | None:
    """The object holding the fields under ``path``, made (with its ancestors) on first use;
    ``None`` when a relationship on the way has no parent record."""
    if path in nodes:
        return nodes[path]
    holder = _node(nodes, parents, path[:-1], base)
    node: dict[str, object] | None = None
    if holder is not None:
        sobject, parent_id = parents[path]
        if parent_id is not None:
            node = {"attributes": _attributes(sobject, parent_id, base)}
        holder[path[-1]] = node
    nodes[path] = node
    return node


@dataclass
class QueryCursor:
    """The rows of one query still to be read through its ``nextRecordsUrl``."""

    id: str
    user_id: str
    layout: RecordLayout
    rows: list[tuple[FieldValue, ...]]
    batch_size: int
    last_used: datetime


class QueryCursors:
    """The open cursors of an org (the caller holds the org's lock)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._ids = IdGenerator("01g")
        self._open: dict[str, QueryCursor] = {}  # in the order they were opened

    def __len__(self) -> int:
        self._expire()
        return len(self._open)

    def open(
        self,
        user_id: str,
        layout: RecordLayout,
        rows: list[tuple[FieldValue, ...]],
        batch_size: int,
    ) -> QueryCursor:
        """Keep ``rows`` for later batches; releases the user's oldest cursor beyond the cap."""
        self._expire()
        own = [c for c in self._open.values() if c.user_id == user_id]
        for stale in own[: max(0, len(own) - CURSORS_PER_USER + 1)]:
            del self._open[stale.id]
        cursor = QueryCursor(self._ids.next18(), user_id, layout, rows, batch_size, self._clock())
        self._open[cursor.id] = cursor
        return cursor

    def find(self, cursor_id: str, user_id: str) -> QueryCursor | None:
        """The user's open cursor ``cursor_id`` (its idle time restarts), or ``None``."""
        self._expire()
        cursor = self._open.get(cursor_id)
        if cursor is None or cursor.user_id != user_id:
            return None
        cursor.last_used = self._clock()
        return cursor

    def _expire(self) -> None:
        cutoff = self._clock() - CURSOR_TIMEOUT
        for stale in [c for c in self._open.values() if c.last_used <= cutoff]:
            del self._open[stale.id]
