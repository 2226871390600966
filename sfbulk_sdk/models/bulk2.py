"""Bulk API 2.0 documents (``/services/data/vXX.X/jobs/...``): job infos, lists, errors.

Bulk 2.0 speaks JSON (results are CSV). Field names are camelCase on the wire,
snake_case here; unknown fields are kept. ``apiVersion`` is a JSON number.
``contentUrl`` is kept as sent but never trusted: its format varies
(``services/data/66.0/...`` and ``services/data/v66.0/...``) and the SDK builds
the upload URL itself (spec §3.3, §7.8).

Key order on the wire (spec §3.3) is kept by declaring the fields in that order
(:meth:`~sfbulk_sdk.models.base.WireModel.wire_items`), so the fake org renders
what Salesforce renders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from pydantic import AliasChoices, Field

from ..errors import InvalidInputError
from .base import WireList, WireModel, WireText
from .enums import ConcurrencyMode, Operation, _LenientStrEnum

__all__ = [
    "Bulk2JobState",
    "Bulk2Operation",
    "ColumnDelimiter",
    "IngestJobInfo",
    "JobList",
    "JobType",
    "LineEnding",
    "QueryJobInfo",
    "RestError",
    "RestErrors",
    "ResultPage",
    "ResultPages",
]


class Bulk2JobState(_LenientStrEnum):
    """A Bulk 2.0 job's state (ingest jobs start ``Open``, query jobs ``UploadComplete``)."""

    OPEN = "Open"
    UPLOAD_COMPLETE = "UploadComplete"
    IN_PROGRESS = "InProgress"
    JOB_COMPLETE = "JobComplete"
    FAILED = "Failed"
    ABORTED = "Aborted"
    #: A Bulk 1.0 job (``jobType`` ``Classic``) closed by its client, as job lists show it.
    CLOSED = "Closed"


#: Bulk 2.0 names the same operations as Bulk 1.0 (``hardDelete`` and ``queryAll`` included).
Bulk2Operation = Operation


class ColumnDelimiter(_LenientStrEnum):
    """The CSV column delimiters Bulk 2.0 accepts, by name (``char`` is the character)."""

    @property
    def char(self) -> str:
        """The delimiter character."""
        return _DELIMITERS[self]

    @classmethod
    def of(cls, char: str) -> ColumnDelimiter:
        """The delimiter whose character is ``char``."""
        for member, value in _DELIMITERS.items():
            if value == char:
                return member
        raise InvalidInputError(f"Bulk API 2.0 has no column delimiter {char!r}")

    BACKQUOTE = "BACKQUOTE"
    CARET = "CARET"
    COMMA = "COMMA"
    PIPE = "PIPE"
    SEMICOLON = "SEMICOLON"
    TAB = "TAB"


_DELIMITERS = {
    ColumnDelimiter.BACKQUOTE: "`",
    ColumnDelimiter.CARET: "^",
    ColumnDelimiter.COMMA: ",",
    ColumnDelimiter.PIPE: "|",
    ColumnDelimiter.SEMICOLON: ";",
    ColumnDelimiter.TAB: "\t",
}


class LineEnding(_LenientStrEnum):
    """How records of the job's CSV end: ``LF`` (default) or ``CRLF``."""

    LF = "LF"
    CRLF = "CRLF"

    @property
    def chars(self) -> str:
        """The line ending itself."""
        return "\r\n" if self is LineEnding.CRLF else "\n"


class JobType(_LenientStrEnum):
    """``jobType`` of a job in Bulk 2.0 listings (Bulk 1.0 jobs show as ``Classic``)."""

    CLASSIC = "Classic"
    V2_INGEST = "V2Ingest"
    V2_QUERY = "V2Query"
    BIG_OBJECT_INGEST = "BigObjectIngest"


class _Bulk2Job(WireModel):
    """Fields shared by ingest and query job infos, in the wire's order."""

    id: str | None = None
    operation: Bulk2Operation | None = None
    sobject: str | None = Field(default=None, alias="object")
    created_by_id: str | None = None
    created_date: datetime | None = None
    system_modstamp: datetime | None = None
    state: Bulk2JobState | None = None


class IngestJobInfo(_Bulk2Job):
    """A Bulk 2.0 ingest job (``jobs/ingest/{id}``). Fields in the order Salesforce sends them."""

    external_id_field_name: str | None = None
    assignment_rule_id: str | None = None
    concurrency_mode: ConcurrencyMode | None = None
    content_type: str | None = None
    api_version: float | None = None
    job_type: JobType | None = None
    content_url: str | None = None
    line_ending: LineEnding | None = None
    column_delimiter: ColumnDelimiter | None = None
    number_records_processed: int | None = None
    number_records_failed: int | None = None
    retries: int | None = None
    total_processing_time: int | None = None
    api_active_processing_time: int | None = None
    apex_processing_time: int | None = None
    error_message: str | None = None

    def to_wire_json(self) -> str:
        """JSON in the wire's (non-alphabetical) key order."""
        return json.dumps(dict(self.wire_items(style="json")))


class QueryJobInfo(_Bulk2Job):
    """A Bulk 2.0 query job (``jobs/query/{id}``)."""

    concurrency_mode: ConcurrencyMode | None = None
    content_type: str | None = None
    api_version: float | None = None
    job_type: JobType | None = None
    line_ending: LineEnding | None = None
    column_delimiter: ColumnDelimiter | None = None
    number_records_processed: int | None = None
    retries: int | None = None
    total_processing_time: int | None = None
    is_pk_chunking_supported: bool | None = None
    error_message: str | None = None

    def to_wire_json(self) -> str:
        """JSON in the wire's (non-alphabetical) key order."""
        return json.dumps(dict(self.wire_items(style="json")))


class JobList(WireModel):
    """A page of ``GET jobs/ingest`` or ``jobs/query``: ``{"done", "records", "nextRecordsUrl"}``.

    Records are kept as ingest job infos (the fields both kinds share read the same).
    """

    wire_required = ("records",)

    done: bool = True
    records: WireList[IngestJobInfo] = Field(default_factory=list)
    next_records_url: str | None = None

    def __iter__(self) -> Iterator[IngestJobInfo]:  # type: ignore[override]
        return iter(self.records)


class ResultPage(WireModel):
    """One entry of ``/resultPages``: the URL of a result page (``.../results?locator=...``)."""

    result_url: str


class ResultPages(WireModel):
    """``GET jobs/query/{id}/resultPages`` (API 58.0+): up to five page URLs at a time.

    The continuation is spelled ``nextRecordsUrl`` in one part of the docs and
    ``nextRecordUrl`` in another; both are read into :attr:`next_records_url`.
    """

    wire_required = ("resultPages",)

    result_pages: WireList[ResultPage] = Field(default_factory=list)
    next_records_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("nextRecordsUrl", "nextRecordUrl", "next_records_url"),
        serialization_alias="nextRecordsUrl",
    )
    done: bool = False


class RestError(WireModel):
    """One entry of a REST / Bulk 2.0 error array: ``{"errorCode", "message"}`` (any key order)."""

    error_code: WireText = ""
    message: WireText = ""
    fields: WireList[str] = Field(default_factory=list)


class RestErrors(WireModel):
    """A REST / Bulk 2.0 error reply: a JSON array of :class:`RestError`."""

    json_array_field = "errors"

    errors: WireList[RestError] = Field(default_factory=list)

    @property
    def first(self) -> RestError | None:
        """The first error (replies carry one in practice)."""
        return self.errors[0] if self.errors else None
