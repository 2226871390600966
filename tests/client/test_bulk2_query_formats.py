"""Bulk 2.0 query results in every column delimiter and line ending, both ways of reading.

The client learns the job's delimiter from the job and decodes each page with
it, whether pages come by locator or through the ``/resultPages`` window; values
holding the delimiter, quotes or a line break survive. A 403
``REQUEST_LIMIT_EXCEEDED`` on a page is a typed error, not retried.
"""

from __future__ import annotations

import pytest

from sfbulk_sdk import Bulk, errors
from sfbulk_sdk.models.bulk2 import ColumnDelimiter, LineEnding
from sfbulk_sdk.testing import FakeOrg
from tests.org_clients import org_bulk

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

PAGE = 7
NAMES = [
    f"Acme {i} {tricky}"
    for i, tricky in enumerate(
        ["plain", 'say "hi"', "a,b", "c|d", "e;f", "g\th", "i^j", "k`l", "two\nlines", "end "] * 3
    )
]


def _finished_query(bulk: Bulk, delimiter: ColumnDelimiter, ending: LineEnding) -> str:
    job = bulk.create_query_job(
        "SELECT Id, Name FROM Account", column_delimiter=delimiter, line_ending=ending
    )
    assert job.id is not None
    done = bulk.wait_for_query_job(job.id)
    assert done.column_delimiter is delimiter and done.line_ending is ending
    return job.id


@pytest.mark.parametrize("ending", list(LineEnding))
@pytest.mark.parametrize("delimiter", list(ColumnDelimiter))
def test_every_delimiter_and_line_ending_decodes_by_locator_and_by_pages(
    delimiter: ColumnDelimiter, ending: LineEnding
) -> None:
    org = FakeOrg(bulk2_query_page_records=PAGE)
    ids = org.insert("Account", [{"Name": name} for name in NAMES])
    with org_bulk(org) as bulk:
        job_id = _finished_query(bulk, delimiter, ending)
        by_locator = [
            (str(r["Id"]), str(r["Name"]))
            for r in bulk.iter_query_job_results(job_id, max_records=PAGE)
        ]
        by_pages = [
            (str(r["Id"]), str(r["Name"]))
            for r in bulk.iter_query_job_results(job_id, parallel_pages=3)
        ]
    assert sorted(by_locator) == sorted(zip(ids, NAMES, strict=True))
    assert by_pages == by_locator


@pytest.mark.parametrize("width", [1, 3])
def test_a_request_limit_on_a_page_is_a_typed_error_and_not_retried(width: int) -> None:
    org = FakeOrg(bulk2_query_page_records=PAGE)
    org.insert("Account", [{"Name": name} for name in NAMES])
    with org_bulk(org) as bulk:
        job_id = _finished_query(bulk, ColumnDelimiter.COMMA, LineEnding.LF)
        fault = org.inject_fault(
            r"/jobs/query/[^/]+/results",
            count=50,
            status=403,
            exception_code="REQUEST_LIMIT_EXCEEDED",
            message="TotalRequests Limit exceeded.",
        )
        with pytest.raises(errors.ExceededQuotaError, match="REQUEST_LIMIT_EXCEEDED"):
            list(bulk.iter_query_job_results(job_id, max_records=PAGE, parallel_pages=width))
    # each page request was refused once and never sent again: at most the window's width
    assert 1 <= 50 - fault.count <= width


@pytest.mark.parametrize(
    "delimiter", [d for d in ColumnDelimiter if d is not ColumnDelimiter.COMMA]
)
def test_an_ingest_job_keeps_its_delimiter_after_replies_that_leave_it_out(
    delimiter: ColumnDelimiter,
) -> None:
    # The UploadComplete and abort replies name no columnDelimiter (as Salesforce's
    # do): the job's results are still read with the delimiter the job was made with.
    org = FakeOrg()
    char = delimiter.char
    data = f"LastName{char}Description\n" + "".join(f"L{i}{char}d,{i}\n" for i in range(3))
    with org_bulk(org) as bulk:
        job = bulk.create_ingest_job("insert", "Contact", column_delimiter=delimiter)
        assert job.id is not None
        bulk.upload_job_data(job.id, data.encode())
        closed = bulk.upload_complete(job.id)
        assert closed.column_delimiter is None  # the short reply
        rows = sorted(
            r.values["Description"] for r in bulk.iter_ingest_results(job.id, "successful")
        )
    assert rows == ["d,0", "d,1", "d,2"]
