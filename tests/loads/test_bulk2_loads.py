"""Every load operation through ``api="bulk2"``: outcomes joined to the input rows.

Bulk API 2.0 returns its results in no particular order (the fake org shuffles
them, as Salesforce may); update, upsert, delete and hardDelete outcomes are
joined back to their input rows by the uploaded ``Id`` or external id. An
insert has no key to join by: its result says so (``rows_known`` false) and
still counts every row. Input larger than one job is split into several jobs,
each within the upload limit measured on the exact bytes sent.
"""

from __future__ import annotations

import csv
import io

import pytest

from sfbulk_sdk.testing import FakeOrg
from tests.loads.loadkit import (
    EXTERNAL_ID,
    async_bulk,
    contacts,
    org_with_external_id,
    recording_bulk,
    sync_bulk,
)

BAD_ID = "003000000000000AAA"  # a Contact id that does not exist


def _seeded(org: FakeOrg, count: int) -> list[str]:
    return org.insert("Contact", contacts(count))


def test_a_bulk2_insert_creates_every_row_and_counts_its_failures() -> None:
    org = org_with_external_id()
    rows = contacts(3_000, missing_every=250)
    with sync_bulk(org) as bulk:
        result = bulk.insert("Contact", rows, api="bulk2", progress=None)
    assert result.api == "bulk2" and not result.rows_known
    assert len(result) == 3_000 and result.failed_count == 12 and result.succeeded == 2_988
    assert all(o.row is None for o in result)  # Bulk 2.0 gives no key to join an insert by
    failed = result.failed()
    assert {e.status_code for o in failed for e in o.errors} == {"REQUIRED_FIELD_MISSING"}
    created = {o.id for o in result if o.success}
    assert created == {r["Id"] for r in org.records("Contact")} and len(created) == 2_988


def test_a_bulk2_update_joins_every_outcome_to_its_row_by_id() -> None:
    org = org_with_external_id()
    ids = _seeded(org, 2_000)
    rows: list[dict[str, object]] = [
        {"Id": BAD_ID if i % 100 == 7 else record_id, "FirstName": f"U{i}"}
        for i, record_id in enumerate(ids)
    ]
    with sync_bulk(org) as bulk:
        result = bulk.update("Contact", rows, api="bulk2", progress=None)
    assert result.rows_known and len(result) == 2_000
    assert result.failed_rows() == [i for i in range(2_000) if i % 100 == 7]
    for outcome in result:
        assert outcome.row is not None
        assert outcome.id == rows[outcome.row]["Id"]
        if not outcome.success:
            assert outcome.errors[0].status_code == "INVALID_CROSS_REFERENCE_KEY"
    names = {r["Id"]: r["FirstName"] for r in org.records("Contact")}
    assert all(names[ids[i]] == f"U{i}" for i in range(2_000) if i % 100 != 7)


def test_a_bulk2_upsert_joins_by_external_id_and_tells_created_from_updated() -> None:
    org = org_with_external_id()
    _seeded(org, 1_000)  # E0..E999 exist; E1000..E1499 are new
    rows = [{**row, "FirstName": "Up"} for row in contacts(1_500)]
    rows[42]["LastName"] = None  # None clears the (required) field of an existing record
    rows[1_234]["LastName"] = None  # a new record without its required field
    with sync_bulk(org) as bulk:
        result = bulk.upsert("Contact", rows, EXTERNAL_ID, api="bulk2", progress=None)
    assert result.rows_known and len(result) == 1_500
    assert result.failed_rows() == [42, 1_234]
    assert {e.status_code for o in result.failed() for e in o.errors} == {"REQUIRED_FIELD_MISSING"}
    assert [o.created for o in result if o.success] == [
        i >= 1_000 for i in range(1_500) if i not in (42, 1_234)
    ]
    by_ext = {r[EXTERNAL_ID]: r for r in org.records("Contact")}
    assert len(by_ext) == 1_499 and by_ext["E42"]["LastName"] == "L42"
    assert sum(r["FirstName"] == "Up" for r in by_ext.values()) == 1_498
    for outcome in result:
        if outcome.success:
            assert outcome.row is not None
            assert by_ext[rows[outcome.row][EXTERNAL_ID]]["Id"] == outcome.id


@pytest.mark.parametrize("operation", ["delete", "hard_delete"])
def test_bulk2_deletes_join_every_outcome_to_its_id(operation: str) -> None:
    org = org_with_external_id()
    ids = _seeded(org, 1_200)
    given = [BAD_ID if i % 300 == 5 else record_id for i, record_id in enumerate(ids)]
    with sync_bulk(org) as bulk:
        result = getattr(bulk, operation)("Contact", given, api="bulk2", progress=None)
    assert result.rows_known and len(result) == 1_200
    assert result.failed_rows() == [5, 305, 605, 905]
    assert [o.id for o in result] == given
    assert org.count("Contact") == 4  # the records whose id was not sent
    deleted = org.count("Contact", include_deleted=True) - org.count("Contact")
    assert deleted == (1_196 if operation == "delete" else 0)


def test_input_over_one_job_is_split_into_jobs_within_the_upload_limit() -> None:
    limit = 40_000
    org = org_with_external_id(bulk2_max_upload_bytes=limit)
    ids = _seeded(org, 6_000)
    rows = [{"Id": record_id, "FirstName": f'Zoë «{i}», "n"\n'} for i, record_id in enumerate(ids)]
    bulk, transport = recording_bulk(org)
    with bulk:
        result = bulk.update("Contact", rows, api="bulk2", job_size=limit, progress=None)
    uploads = transport.uploads()
    assert len(result.jobs) == len(uploads) > 1
    assert all(len(body) <= limit for body in uploads)
    sent = [
        values
        for body in uploads
        for values in list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))[1:]
    ]
    expected = {record_id: row["FirstName"] for record_id, row in zip(ids, rows, strict=True)}
    assert len(sent) == len(ids)  # jobs upload in parallel: their order is the scheduler's
    assert dict(sent) == expected  # every row once and whole: none lost, repeated or split
    assert result.ok and [o.id for o in result] == ids
    names = {r["Id"]: r["FirstName"] for r in org.records("Contact")}
    assert all(names[ids[i]] == rows[i]["FirstName"] for i in range(6_000))


@pytest.mark.anyio
async def test_the_async_client_runs_bulk2_loads_the_same() -> None:
    org = org_with_external_id()
    ids = _seeded(org, 500)
    async with async_bulk(org) as bulk:
        result = await bulk.upsert(
            "Contact", contacts(600, missing_every=550), EXTERNAL_ID, api="bulk2", progress=None
        )
        gone = await bulk.delete("Contact", ids[:100], api="bulk2", progress=None)
    assert result.failed_rows() == [0, 550]  # rows without a LastName (row 0 would clear it)
    assert [o.created for o in result if o.success] == [
        i >= 500 for i in range(600) if i not in (0, 550)
    ]
    assert gone.ok and [o.id for o in gone] == ids[:100]
    assert org.count("Contact") == 599 - 100  # 500 + 99 new, 100 deleted
