"""The recorded Bulk API 1.0 error replies in ``../shared/fixtures/bulk1``, and what they hold.

File name -> (exception code, exception message, the SDK's error class). Read
by the model tests (``tests/models/test_recorded_payloads.py``: each parses,
and every recorded file is covered) and the core's error mapping
(``tests/core/test_bulk1.py``). Imported as ``from tests.recorded import ERRORS``.
"""

from __future__ import annotations

from sfbulk_sdk.errors import (
    InvalidBatchError,
    InvalidJobError,
    InvalidSessionError,
    UnsupportedContentTypeError,
)

ERRORS: dict[str, tuple[str, str, type[Exception]]] = {
    "error_InvalidSessionId_jorgevaldivia.xml": (
        "InvalidSessionId",
        "Invalid session id",
        InvalidSessionError,
    ),
    "error_InvalidJob_unable_to_find_object_jorgevaldivia.xml": (
        "InvalidJob",
        "Unable to find object: Video__c",
        InvalidJobError,
    ),
    "error_InvalidBatch_records_not_processed_jorgevaldivia.xml": (
        "InvalidBatch",
        "Records not processed",
        InvalidBatchError,
    ),
    "error_UnsupportedContentType_jorgevaldivia.xml": (
        "UnsupportedContentType",
        "Unsupported content type: text/cs; charset=UTF-8",
        UnsupportedContentTypeError,
    ),
}
