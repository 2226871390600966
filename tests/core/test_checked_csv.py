"""The SDK's own CSV goes to the request as the very bytes the encoder wrote
(``sfbulk_sdk.core.batch_input.CheckedCsv``, ``sfbulk_sdk.core.encode.EncodedBody``).

A ``bytes`` subclass as the marker was copied by ``bytes(...)``, ``strip()`` and
httpx's ``b"".join`` on the way to the socket: three copies of a 100 MB Bulk 2.0
job. These tests hold the wrapper to "no copy, not read again" for the encoder's
bodies and to "checked as before" for everything else.
"""

from __future__ import annotations

import pytest

from sfbulk_sdk.core import bulk1, bulk2
from sfbulk_sdk.core.batch_input import CheckedCsv
from sfbulk_sdk.core.csvbatch import Limits
from sfbulk_sdk.core.encode import EncodedBody, RecordEncoder
from sfbulk_sdk.errors import InvalidInputError

JOB = "750R0000000zlh9IAA"
JOB2 = "7505fEXAMPLE4C2AAM"


def _bodies() -> list[EncodedBody]:
    encoder = RecordEncoder(["Name", "Rank"], limits=Limits(max_records=2))
    return list(encoder.bodies([("a", 1), ("b", 2), ("c", 3)]))


def test_encoder_bodies_reach_both_apis_requests_uncopied() -> None:
    bodies = _bodies()
    assert [b.rows for b in bodies] == [2, 1] and all(b.encoded for b in bodies)
    body = bodies[0]
    assert type(body.data) is bytes
    assert isinstance(body.payload, CheckedCsv) and body.payload.data is body.data
    assert bulk1.add_batch(JOB, body.payload).body is body.data
    assert bulk2.upload_job_data(JOB2, body.payload).body is body.data
    shown = repr(body.payload)
    assert "bytes" in shown and "a,1" not in shown  # the data is the caller's: never shown


def test_checked_csv_skips_the_checks_plain_bytes_still_get() -> None:
    ragged = b"Name,Rank\r\na,1,extra\r\n"
    with pytest.raises(InvalidInputError):
        bulk1.add_batch(JOB, ragged)
    with pytest.raises(InvalidInputError):
        bulk2.upload_job_data(JOB2, ragged)
    # the marker is the SDK's promise that its encoder wrote the bytes: not read again
    assert bulk1.add_batch(JOB, CheckedCsv(ragged)).body is ragged
    assert bulk2.upload_job_data(JOB2, CheckedCsv(ragged)).body is ragged


@pytest.mark.parametrize("data", [b"", b" \r\n\t", bytearray(b"\n")])
def test_an_empty_or_blank_job_body_is_refused_with_or_without_the_marker(data: bytes) -> None:
    with pytest.raises(InvalidInputError, match="needs data"):
        bulk2.upload_job_data(JOB2, data)
    with pytest.raises(InvalidInputError, match="needs data"):
        bulk2.upload_job_data(JOB2, CheckedCsv(bytes(data)))


def test_a_checked_body_over_the_job_limit_is_still_refused() -> None:
    with pytest.raises(InvalidInputError, match="at most 10 bytes"):
        bulk2.upload_job_data(JOB2, CheckedCsv(b"Name\r\n" + b"x" * 20 + b"\r\n"), max_bytes=10)
