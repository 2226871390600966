"""The REST query resources: ``/services/data/v{version}/query`` and ``.../queryAll``.

* ``GET query?q=SOQL`` runs a query of the fake's SOQL subset (the same engine,
  date literals and errors as Bulk queries; ``queryAll`` also returns deleted
  rows) and answers its first batch::

      {"totalSize": N, "done": false,
       "nextRecordsUrl": "/services/data/v62.0/query/01g5j00000000001AAA-2000",
       "records": [{"attributes": {"type": "Account", "url": ".../sobjects/Account/001..."},
                    "Id": "001...", "Name": "Acme"}, ...]}

  ``nextRecordsUrl`` is there only while ``done`` is false; records are rendered
  by :class:`~sfbulk_sdk.testing.rest_results.RecordLayout`.
* ``GET query/{locator}-{offset}`` (or ``queryAll/...``) continues from row
  ``offset`` of the cursor the first batch opened (a snapshot of the rows; see
  :class:`~sfbulk_sdk.testing.rest_results.QueryCursors` for how long it lives).
  An unknown, expired, another user's or malformed locator, or an offset past
  the end, answers 400 ``INVALID_QUERY_LOCATOR``.

A batch holds 2,000 records, or what ``Sforce-Query-Options: batchSize=n`` asks
(kept within 200..2,000, as Salesforce does), on the first request or on a
continuation (which otherwise keeps the first request's size). Errors are
platform REST errors (``message`` first): a query the engine refuses answers 400
with the engine's code (``MALFORMED_QUERY``, ``INVALID_FIELD``, ``INVALID_TYPE``...).
"""

from __future__ import annotations

import re

from ..http import FakeResponse
from ..query import compile_query
from ..rest_results import RecordLayout
from ..schema import FieldValue
from ..soql import SoqlError, parse_soql
from .rest import NOT_FOUND, RestCall, RestFailure

__all__ = ["DEFAULT_BATCH_SIZE", "MAX_BATCH_SIZE", "MIN_BATCH_SIZE", "RESOURCES", "handle"]

#: Records per batch without ``Sforce-Query-Options``, and the range it may ask for.
DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
MAX_BATCH_SIZE = 2000
#: The resource names under ``/services/data/vXX.X/``.
RESOURCES = ("query", "queryAll")

_BATCH_OPTION = re.compile(r"(?:^|[;,\s])batchSize\s*=\s*(\d+)", re.IGNORECASE)
_INVALID_LOCATOR = "invalid query locator"


def handle(call: RestCall, resource: str) -> FakeResponse:
    """Answer ``GET {resource}[/{locator}-{offset}]`` (``call.parts`` follow the resource)."""
    include_deleted = resource == "queryAll"
    if len(call.parts) > 1:
        raise RestFailure(404, "NOT_FOUND", NOT_FOUND, platform=True)
    if call.parts:
        call.kind = "query_more"
        call.allow("GET")
        return _more(call, call.parts[0])
    call.kind = "query_all" if include_deleted else "query"
    call.allow("GET")
    return _query(call, include_deleted=include_deleted)


def _query(call: RestCall, *, include_deleted: bool) -> FakeResponse:
    soql = call.param("q")
    if soql is None or not soql.strip():
        raise RestFailure(
            400, "MALFORMED_QUERY", "A query string has to be specified", platform=True
        )
    state = call.state
    try:
        compiled = compile_query(
            parse_soql(soql), state.db, include_deleted=include_deleted, now=state.now()
        )
    except SoqlError as exc:
        raise RestFailure(400, exc.code, exc.message, platform=True) from None
    rows = compiled.run()
    layout = RecordLayout.of(compiled)
    size = _batch_size(call, DEFAULT_BATCH_SIZE)
    if len(rows) <= size:
        return _batch(call, layout, rows, 0, size, None)
    cursor = state.query_cursors.open(call.user.user_id, layout, rows, size)
    return _batch(call, layout, rows, 0, size, cursor.id)


def _more(call: RestCall, locator: str) -> FakeResponse:
    cursor_id, sep, offset = locator.rpartition("-")
    cursors = call.state.query_cursors
    cursor = cursors.find(cursor_id, call.user.user_id) if sep and offset.isdigit() else None
    if cursor is None or int(offset) > len(cursor.rows):
        raise RestFailure(400, "INVALID_QUERY_LOCATOR", _INVALID_LOCATOR, platform=True)
    size = _batch_size(call, cursor.batch_size)
    return _batch(call, cursor.layout, cursor.rows, int(offset), size, cursor.id)


def _batch(
    call: RestCall,
    layout: RecordLayout,
    rows: list[tuple[FieldValue, ...]],
    start: int,
    size: int,
    cursor_id: str | None,
) -> FakeResponse:
    """``{"totalSize", "done", ["nextRecordsUrl",] "records"}`` for rows from ``start``."""
    stop = min(start + size, len(rows))
    document: dict[str, object] = {"totalSize": len(rows), "done": stop >= len(rows)}
    if stop < len(rows):
        document["nextRecordsUrl"] = f"{call.base}/query/{cursor_id}-{stop}"
    document["records"] = [layout.record(row, call.base) for row in rows[start:stop]]
    return call.json_reply(200, document)


def _batch_size(call: RestCall, fallback: int) -> int:
    """``Sforce-Query-Options: batchSize=n`` within 200..2,000, or ``fallback``."""
    found = _BATCH_OPTION.search(call.request.header("sforce-query-options") or "")
    if found is None:
        return fallback
    return max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, int(found[1])))
