"""Records that fail mid-load: the rows sent before are finished, never left in an open job.

A generator that raises (a database cursor dropping, say) or yields a record
that cannot be written, after some bodies were sent, ends the load with
``LoadInterruptedError``: its ``__cause__`` is the failure, its ``result``
holds the outcomes of every row sent, its ``job_ids`` the jobs, which are
closed (Bulk 1.0) or complete (Bulk 2.0) so that Salesforce loads them. A
failure before anything was sent raises at once, wrapped in the SDK's errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sfbulk_sdk import LoadResult, errors
from sfbulk_sdk.models.enums import JobState
from tests.loads.loadkit import async_bulk, contacts, org_with_external_id, sync_bulk


class _DatabaseGone(Exception):
    pass


def _failing(count: int, failure: object) -> Iterator[dict[str, object]]:
    yield from contacts(count)
    if isinstance(failure, Exception):
        raise failure
    yield {"FirstName": "x", "LastName": failure, "Ext__c": "bad"}


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
@pytest.mark.parametrize("failure", [_DatabaseGone("cursor closed"), float("nan")])
def test_a_failure_mid_load_finishes_the_rows_sent_and_says_where_it_stopped(
    api: str, failure: object
) -> None:
    org = org_with_external_id()
    settings = {"batch_size": 1_000} if api == "bulk1" else {"job_size": 60_000}
    with sync_bulk(org) as bulk, pytest.raises(errors.LoadInterruptedError) as caught:
        bulk.insert("Contact", _failing(5_500, failure), api=api, progress=None, **settings)  # type: ignore[arg-type]
    error = caught.value
    if isinstance(failure, Exception):
        assert error.__cause__ is failure and "_DatabaseGone: cursor closed" in str(error)
    else:
        assert isinstance(error.__cause__, errors.InvalidInputError)
        assert "row 5501, field 'LastName'" in str(error)
    result = error.result
    sent = org.count("Contact")
    assert isinstance(result, LoadResult)
    assert 0 < sent <= 5_500 and len(result) == sent and result.ok
    assert f"after {sent:,} rows were sent" in str(error)
    assert error.job_ids and list(error.job_ids) == result.jobs
    if api == "bulk1":
        assert all(job.state is JobState.CLOSED for job in org.jobs())  # none left Open


@pytest.mark.anyio
async def test_the_async_client_finishes_the_rows_sent_too() -> None:
    org = org_with_external_id()
    async with async_bulk(org) as bulk:
        with pytest.raises(errors.LoadInterruptedError) as caught:
            await bulk.insert(
                "Contact", _failing(2_500, _DatabaseGone("gone")), batch_size=1_000, progress=None
            )
    assert org.count("Contact") == len(caught.value.result) == 2_000  # type: ignore[arg-type]
    assert all(job.state is JobState.CLOSED for job in org.jobs())


def test_a_failure_before_anything_is_sent_raises_at_once_as_an_sdk_error() -> None:
    org = org_with_external_id()
    with sync_bulk(org) as bulk, pytest.raises(errors.InvalidInputError) as caught:
        bulk.insert("Contact", _failing(10, _DatabaseGone("at once")), progress=None)
    assert isinstance(caught.value.__cause__, _DatabaseGone)
    assert "before anything was sent" in str(caught.value) and org.jobs() == []
