"""Enumerations of the Bulk API wire vocabulary.

Every enum is a ``str`` enum whose values are the exact wire spellings. Lenient
parsing accepts the other spellings Salesforce's documentation prints (for
example ``Not Processed`` and ``NOT_PROCESSED`` for ``NotProcessed``), but the
SDK always emits the canonical wire value.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):  # pragma: no cover - depends on interpreter
    from enum import StrEnum
else:  # pragma: no cover - depends on interpreter

    class StrEnum(str, Enum):
        """Backport of :class:`enum.StrEnum` for Python 3.10."""

        def __str__(self) -> str:
            return str(self.value)


__all__ = [
    "BatchState",
    "ConcurrencyMode",
    "ContentType",
    "JobState",
    "Operation",
    "StrEnum",
]


def _squash(value: str) -> str:
    return value.replace(" ", "").replace("_", "").lower()


class _LenientStrEnum(StrEnum):
    """A str enum that matches case-, space- and underscore-insensitively."""

    @classmethod
    def _missing_(cls, value: object) -> _LenientStrEnum | None:
        if isinstance(value, str):
            wanted = _squash(value)
            for member in cls:
                if _squash(member.value) == wanted:
                    return member
        return None


class Operation(_LenientStrEnum):
    """A Bulk job operation. ``hardDelete`` and ``queryAll`` keep their casing."""

    INSERT = "insert"
    UPDATE = "update"
    UPSERT = "upsert"
    DELETE = "delete"
    HARD_DELETE = "hardDelete"
    QUERY = "query"
    QUERY_ALL = "queryAll"

    @property
    def is_query(self) -> bool:
        """True for ``query`` and ``queryAll``."""
        return self in (Operation.QUERY, Operation.QUERY_ALL)


class JobState(_LenientStrEnum):
    """A job's state. The last three values are Bulk 2.0 only."""

    OPEN = "Open"
    CLOSED = "Closed"
    ABORTED = "Aborted"
    FAILED = "Failed"
    UPLOAD_COMPLETE = "UploadComplete"
    IN_PROGRESS = "InProgress"
    JOB_COMPLETE = "JobComplete"


class BatchState(_LenientStrEnum):
    """A Bulk 1.0 batch's state (``NotProcessed`` also parses from
    ``Not Processed`` and ``NOT_PROCESSED``). Which states are final is the
    core's state table (:mod:`sfbulk_sdk.core.states`)."""

    QUEUED = "Queued"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    NOT_PROCESSED = "NotProcessed"


class ConcurrencyMode(_LenientStrEnum):
    """How Salesforce processes a job's batches."""

    PARALLEL = "Parallel"
    SERIAL = "Serial"


class ContentType(_LenientStrEnum):
    """A Bulk 1.0 job's content type."""

    XML = "XML"
    CSV = "CSV"
    JSON = "JSON"
    ZIP_XML = "ZIP_XML"
    ZIP_CSV = "ZIP_CSV"
    ZIP_JSON = "ZIP_JSON"

    @property
    def media_type(self) -> str:
        """The HTTP ``Content-Type`` media type that matches this content type."""
        return _MEDIA_TYPES[self]

    @property
    def is_json(self) -> bool:
        """True for ``JSON`` and ``ZIP_JSON``."""
        return self in (ContentType.JSON, ContentType.ZIP_JSON)


_MEDIA_TYPES = {
    ContentType.XML: "application/xml",
    ContentType.CSV: "text/csv",
    ContentType.JSON: "application/json",
    ContentType.ZIP_XML: "zip/xml",
    ContentType.ZIP_CSV: "zip/csv",
    ContentType.ZIP_JSON: "zip/json",
}
