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

from sfbulk_sdk import errors
from sfbulk_sdk.testing import FakeOrg, FieldSpec
from sfbulk_sdk.testing.ids import to_18
from tests.loads.loadkit import (
    EXTERNAL_ID,
    async_bulk,
    contacts,
    org_with_external_id,
    recording_bulk,
    requests_seen,
    sync_bulk,
)

BAD_ID = "003000000000000AAA"  # a Contact id that does not exist


def _bad_id(i: int) -> str:
    """Contact ids that do not exist, one for each ``i`` (a job's keys never repeat)."""
    return to_18(f"003{i:012d}")


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
        {"Id": _bad_id(i) if i % 100 == 7 else record_id, "FirstName": f"U{i}"}
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
    given = [_bad_id(i) if i % 300 == 5 else record_id for i, record_id in enumerate(ids)]
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


def test_a_failed_bulk2_job_says_why_its_rows_were_not_processed() -> None:
    org = FakeOrg()
    rows = [{"LastName": f"L{i}", "Nope__c": "x"} for i in range(40)]
    with sync_bulk(org) as bulk:
        result = bulk.insert("Contact", rows, api="bulk2", progress=None)
    assert result.failed_count == 40 and org.count("Contact") == 0
    errors = {e.status_code: e.message for o in result for e in o.errors}
    assert list(errors) == ["NOT_PROCESSED"]
    assert "Nope__c" in errors["NOT_PROCESSED"]  # the job's own reason, on every row


def test_rows_sharing_a_key_are_refused_by_bulk2_and_loaded_by_bulk1_on_auto() -> None:
    org = org_with_external_id()
    ids = _seeded(org, 3)
    rows: list[dict[str, object]] = [
        {"Id": ids[0], "FirstName": "first"},
        {"Id": ids[1], "FirstName": "other"},
        {"Id": ids[0], "FirstName": "second"},
    ]
    before = requests_seen(org)
    with sync_bulk(org) as bulk:
        with pytest.raises(errors.InvalidInputError, match=r"rows 1 and 3 have the same 'Id'"):
            bulk.update("Contact", rows, api="bulk2", progress=None)
        assert requests_seen(org) == before  # refused before anything was sent
        result = bulk.update("Contact", rows, progress=None)  # auto: Bulk 1.0 ties by position
        assert result.api == "bulk1" and result.rows_known and len(result) == 3
        assert [o.row for o in result] == [0, 1, 2] and result.ok
        assert [o.id for o in result] == [ids[0], ids[1], ids[0]]
        deleted = bulk.delete("Contact", [ids[2], ids[2]], progress=None)
        assert deleted.api == "bulk1" and len(deleted) == 2 and deleted[0].success
    assert org.count("Contact") == 2


def test_a_key_in_two_jobs_joins_each_outcome_to_its_own_job_row() -> None:
    org = org_with_external_id()
    rows = [{EXTERNAL_ID: "E1", "LastName": f"L{i}", "Description": "x" * 300} for i in range(2)]
    # One record a job (the limit is a little over one row): both upsert E1, in turn.
    with sync_bulk(org) as bulk:
        result = bulk.upsert(
            "Contact", rows, EXTERNAL_ID, api="bulk2", job_size=500, concurrency=1, progress=None
        )
    assert len(result.jobs) == 2 and result.ok and [o.row for o in result] == [0, 1]
    assert sorted(o.created for o in result) == [False, True]
    assert result[0].id == result[1].id == org.records("Contact")[0]["Id"]


def test_a_bulk2_upsert_by_a_number_external_id_joins_the_re_rendered_keys() -> None:
    """Result files echo numbers re-rendered (``7`` as ``7.0``, ``912260031`` as
    ``9.12260031E8``; spec §7 #12): each outcome still goes to its own row."""
    org = FakeOrg()
    org.add_field("Account", FieldSpec("Num__c", type="double", external_id=True, unique=True))
    keys: list[object] = [7, 912260031, "12.50", 8, -3, "1e2", 0]
    rows = [{"Num__c": key, "Name": f"A{i}"} for i, key in enumerate(keys)]
    rows[3]["Name"] = None  # Name is required: this new record fails
    with sync_bulk(org) as bulk:
        result = bulk.upsert("Account", rows, "Num__c", api="bulk2", progress=None)
    assert result.rows_known and len(result) == len(keys)
    assert result.failed_rows() == [3]
    assert [e.status_code for e in result[3].errors] == ["REQUIRED_FIELD_MISSING"]
    stored = {r["Name"]: r for r in org.records("Account")}
    for outcome in result:
        if outcome.success:
            assert outcome.row is not None
            assert stored[f"A{outcome.row}"]["Id"] == outcome.id
    assert sorted(stored[f"A{i}"]["Num__c"] for i in (0, 1, 2, 4, 5, 6)) == [
        -3.0,
        0.0,
        7.0,
        12.5,
        100.0,
        912260031.0,
    ]
