"""Per-record results: one typed outcome per input row, in order, failures on their rows;
a batch that failed on the server never shortens the results quietly.

Peer complaints 4 (silent data loss), 11 (per-record errors can't be tied
back to input rows) and 15 (lock contention) of spec/peers.md §3, plus its
"Also telling" paragraph (results as raw CSV strings, ``delete`` that can't
take records).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfbulk_sdk import BatchFailedError, BatchResult, BatchState, Bulk, ContentType, errors
from sfbulk_sdk.core.csvsplit import Limits, csv_batches_from_records
from sfbulk_sdk.models.xml import NS
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
    FieldSpec,
)
from tests.org_clients import org_bulk, read_outcomes, soap_auth, upload_batches
from tests.timing import FakeTime


@pytest.mark.peer(complaint=11)
def test_results_come_in_upload_order_with_errors_on_their_rows() -> None:
    """Complaint 11 (spec/peers.md §3: results not tied to input rows): results
    come in upload order, each failure on its own row."""
    org = FakeOrg()
    rows = ["Ok0", "", "Ok2", "", "Ok4"]
    data = "FirstName,LastName\n" + "".join(f"F{i},{last}\n" for i, last in enumerate(rows))
    with Bulk(auth=soap_auth(), transport=FakeOrgTransport(org), **FakeTime().sync()) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        batch = bulk.add_batch(job.id, data)
        bulk.wait_for_batch(job.id, batch.id)
        results = list(bulk.get_batch_results(job.id, batch.id))
    assert [r.success for r in results] == [True, False, True, False, True]
    assert [r.errors[0].status_code for r in results if not r.success] == [
        "REQUIRED_FIELD_MISSING"
    ] * 2
    by_id = {row["Id"]: row["LastName"] for row in org.records("Contact")}
    assert [by_id[r.id] for r in results if r.success and r.id] == ["Ok0", "Ok2", "Ok4"]


@pytest.mark.peer(
    "simple-salesforce#665",
    "simple-salesforce#627",
    "simple-salesforce#313",
    "heroku#99",
    "heroku#118",
    "forcedotcom/cli#1888",
    "forcedotcom/cli#2221",
    complaint=11,
)
def test_c11_every_input_row_gets_one_outcome_in_order_across_batches() -> None:
    """Complaint 11 (simple-salesforce #665: rejected rows not returned; #627: failed
    rows have ``id: None``; #313: is order preserved?; heroku #99, #118;
    forcedotcom/cli #1888, #2221: only counts).

    25 rows in batches of 10, four of them invalid. Joined by order, the
    outcomes are exactly one per input row: the four failures sit on their
    rows with a status code and the fields involved, and every success's id is
    the org record made from its row."""
    org = FakeOrg()
    bad = {4, 11, 12, 23}
    rows = [
        {"FirstName": f"Row{n}", "LastName": "" if n in bad else f"Last{n}"} for n in range(1, 26)
    ]
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        sent = upload_batches(
            bulk, job.id, csv_batches_from_records(rows, limits=Limits(max_records=10))
        )
        assert [(b.first_record, b.records) for b, _ in sent] == [(1, 10), (11, 10), (21, 5)]
        bulk.close_job(job.id)
        bulk.wait_for_job(job.id)
        outcomes = read_outcomes(bulk, job.id, sent)
    assert len(outcomes) == len(rows)
    failed = {n for n, r in enumerate(outcomes, start=1) if not r.success}
    assert failed == bad
    for n in bad:
        outcome = outcomes[n - 1]
        assert outcome.id is None and outcome.created is False
        assert [e.status_code for e in outcome.errors] == ["REQUIRED_FIELD_MISSING"]
        assert "LastName" in outcome.errors[0].fields
    stored = {r["Id"]: r["FirstName"] for r in org.records("Contact")}
    joined = [
        (row["FirstName"], stored[o.id]) for row, o in zip(rows, outcomes, strict=True) if o.id
    ]
    assert len(joined) == 21 and all(mine == theirs for mine, theirs in joined)


@pytest.mark.peer("simple-salesforce#313", complaint=11)
def test_c11_upsert_says_created_or_updated_and_update_failures_stay_on_their_rows() -> None:
    """Complaint 11 (simple-salesforce #313: ``success`` versus ``created``).

    An upsert of 4 rows, two matching existing records by external id: the
    outcomes say created for the new ones and not for the updated ones, in
    row order. An update with one unknown Id fails on that row only."""
    org = FakeOrg()
    org.add_field("Contact", FieldSpec("Ext_Id__c", external_id=True, unique=True))
    org.insert(
        "Contact",
        [{"LastName": "Old1", "Ext_Id__c": "E1"}, {"LastName": "Old3", "Ext_Id__c": "E3"}],
    )
    existing = {r["Ext_Id__c"]: r["Id"] for r in org.records("Contact")}
    with org_bulk(org) as bulk:
        job = bulk.create_job("upsert", "Contact", external_id_field="Ext_Id__c")
        assert job.id is not None
        rows = [{"Ext_Id__c": f"E{n}", "LastName": f"New{n}"} for n in range(1, 5)]
        (batch,) = csv_batches_from_records(rows)
        info = bulk.add_batch(job.id, batch.data)
        bulk.wait_for_batch(job.id, info.id)
        upserted = list(bulk.get_batch_results(job.id, info.id))

        update = bulk.create_job("update", "Contact")
        assert update.id is not None
        missing = "003000000000000AAA"
        changes = [{"Id": existing["E1"], "LastName": "U1"}, {"Id": missing, "LastName": "U2"}]
        (batch,) = csv_batches_from_records(changes)
        info = bulk.add_batch(update.id, batch.data)
        bulk.wait_for_batch(update.id, info.id)
        updated = list(bulk.get_batch_results(update.id, info.id))
    assert [(r.success, r.created) for r in upserted] == [
        (True, False),
        (True, True),
        (True, False),
        (True, True),
    ]
    assert upserted[0].id == existing["E1"] and upserted[2].id == existing["E3"]
    assert [(r.success, r.created) for r in updated] == [(True, False), (False, False)]
    assert updated[0].id == existing["E1"]
    assert updated[1].errors and updated[1].errors[0].status_code


@pytest.mark.peer("simple-salesforce#442", complaint=4)
def test_c4_a_batch_failing_on_the_server_never_shortens_the_results_quietly() -> None:
    """Complaint 4 (simple-salesforce #442: 1,150 records sent, 200 results returned).

    1,150 JSON records go in batches of 200; one batch fails on the server
    (it is over the org's record limit). Waiting for that batch raises
    ``BatchFailedError`` naming it; asking for its results raises rather than
    returning an empty list; the seed API's ``batch_result()`` raises rather
    than returning 950 results; and every other batch has exactly as many
    results as records sent. A batch the server could not read (a record that
    is not an object) is refused before it is sent, naming the record."""
    org = FakeOrg(max_batch_records=200)
    bulk = Bulk(transport=FakeOrgTransport(org), **FakeTime().sync())
    bulk.login(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN)
    job = bulk.job_create("insert", "Contact", content_type=ContentType.JSON)
    assert job.id is not None
    unreadable: list[Any] = [{"LastName": f"U{i}"} for i in range(200)]
    unreadable[77] = "not a record"
    with pytest.raises(errors.InvalidInputError, match="record 78 "):
        bulk.batch_create(json.dumps(unreadable))
    assert org.requests["batch_create"] == 0
    sizes = [200, 200, 200, 201, 200, 150]  # the fourth is over the org's limit
    sent: list[tuple[str, int]] = []
    for n, size in enumerate(sizes):
        rows: list[Any] = [{"LastName": f"B{n}R{i}"} for i in range(size)]
        sent.append((bulk.batch_create(json.dumps(rows)).id, size))
    bulk.job_close()
    states = {b.id: b.state for b in bulk.wait_for_job(job.id)}
    failed_id = sent[3][0]
    assert states.pop(failed_id) is BatchState.FAILED
    assert set(states.values()) == {BatchState.COMPLETED}
    with pytest.raises(BatchFailedError) as failure:
        bulk.wait_for_batch(job.id, failed_id)
    assert failure.value.batch_id == failed_id
    with pytest.raises(errors.InvalidBatchError):
        bulk.get_batch_results(job.id, failed_id)
    with pytest.raises(errors.InvalidBatchError):
        bulk.batch_result()
    for batch_id, size in sent:
        if batch_id != failed_id:
            assert len(bulk.get_batch_results(job.id, batch_id)) == size
    bulk.close()
    assert org.count("Contact") == 950


@pytest.mark.peer("forcedotcom/cli#882", "simple-salesforce#349", "RForcecom#67", complaint=15)
def test_c15_unable_to_lock_row_is_reported_on_the_rows_it_hit() -> None:
    """Complaint 15 (forcedotcom/cli #882, simple-salesforce #349, RForcecom #67:
    UNABLE_TO_LOCK_ROW under parallel load).

    Three rows of the second batch hit a row lock: exactly those rows fail,
    with ``UNABLE_TO_LOCK_ROW``, and every other row succeeds. Because the
    outcomes are tied to the rows, the caller can re-send just those three
    (done by hand here: the SDK has no helper for it yet)."""
    org = FakeOrg()
    rows = [{"LastName": f"L{n:02d}"} for n in range(20)]
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        first, second = csv_batches_from_records(rows, limits=Limits(max_records=10))
        sent = upload_batches(bulk, job.id, iter([first]))
        bulk.wait_for_batch(job.id, sent[0][1])
        org.inject_record_errors("Contact", count=3)
        sent += upload_batches(bulk, job.id, iter([second]))
        bulk.close_job(job.id)
        bulk.wait_for_job(job.id)
        outcomes = read_outcomes(bulk, job.id, sent)
        locked = [n for n, r in enumerate(outcomes) if not r.success]
        assert locked == [10, 11, 12]
        assert {e.status_code for n in locked for e in outcomes[n].errors} == {"UNABLE_TO_LOCK_ROW"}
        assert all(outcomes[n].errors[0].message for n in locked)

        retry = bulk.create_job("insert", "Contact")
        assert retry.id is not None
        (again,) = csv_batches_from_records([rows[n] for n in locked])
        resent = upload_batches(bulk, retry.id, iter([again]))
        bulk.wait_for_batch(retry.id, resent[0][1])
        assert all(r.success for r in read_outcomes(bulk, retry.id, resent))
    assert sorted(str(r["LastName"]) for r in org.records("Contact")) == [
        r["LastName"] for r in rows
    ]


@pytest.mark.peer("simple-salesforce#765", "SalesforcePy#57", complaint="also")
@pytest.mark.parametrize("content_type", [ContentType.CSV, ContentType.XML, ContentType.JSON])
def test_also_results_are_typed_records_not_csv_strings(content_type: ContentType) -> None:
    """ "Also telling" (simple-salesforce #765: results as raw CSV strings; SalesforcePy
    #57: None for CSV result endpoints).

    For CSV, XML and JSON jobs alike, batch results are ``RecordResult``
    objects whose ``success``/``created`` are real booleans (``"false"`` is not
    truthy here) and whose errors are parsed; query results are dicts."""
    org = FakeOrg()
    rows: list[dict[str, Any]] = [{"LastName": "A"}, {"LastName": None}, {"LastName": "C"}]
    payload: str
    if content_type is ContentType.CSV:
        payload = 'LastName\nA\n""\nC\n'
    elif content_type is ContentType.JSON:
        payload = json.dumps(rows)
    else:
        objects = "".join(
            f"<sObject><LastName>{r['LastName'] or ''}</LastName></sObject>" for r in rows
        )
        payload = (
            f'<?xml version="1.0" encoding="UTF-8"?><sObjects xmlns="{NS}">{objects}</sObjects>'
        )
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact", content_type=content_type)
        assert job.id is not None
        batch = bulk.add_batch(job.id, payload)
        bulk.wait_for_batch(job.id, batch.id)
        results = bulk.get_batch_results(job.id, batch.id)
        query = bulk.create_job("query", "Contact", content_type=content_type)
        assert query.id is not None
        qbatch = bulk.add_batch(query.id, "SELECT Id, LastName FROM Contact")
        bulk.wait_for_batch(query.id, qbatch.id)
        records = list(bulk.iter_query_results(query.id, qbatch.id))
    assert isinstance(results, BatchResult)
    assert all(type(r.success) is bool and type(r.created) is bool for r in results)
    assert [(r.success, r.created) for r in results] == [(True, True), (False, False), (True, True)]
    assert results[1].id is None and results[1].errors[0].status_code == "REQUIRED_FIELD_MISSING"
    assert all(isinstance(r.id, str) and len(r.id) == 18 for r in (results[0], results[2]))
    assert all(isinstance(r, dict) for r in records)
    assert sorted(r["LastName"] for r in records) == ["A", "C"]


@pytest.mark.peer("simple-salesforce#735", complaint="also")
def test_also_delete_takes_records_straight_from_a_query_stream() -> None:
    """ "Also telling" (simple-salesforce #735: ``delete`` could not take records).

    The records of a query (``SELECT Id``) stream straight into the batches of
    a delete job, lazily: 2,500 records in three batches, each one deleted,
    each outcome a success on its own Id."""
    org = FakeOrg()
    org.insert("Contact", [{"LastName": f"D{i:04d}"} for i in range(2_500)])
    org.insert("Contact", [{"LastName": "Keep"}])
    with org_bulk(org) as bulk:
        query = bulk.create_job("query", "Contact")
        assert query.id is not None
        qbatch = bulk.add_batch(query.id, "SELECT Id FROM Contact WHERE LastName != 'Keep'")
        bulk.wait_for_batch(query.id, qbatch.id)
        records = bulk.iter_query_results(query.id, qbatch.id)
        delete = bulk.create_job("delete", "Contact")
        assert delete.id is not None
        sent = upload_batches(
            bulk, delete.id, csv_batches_from_records(records, limits=Limits(max_records=1_000))
        )
        assert [b.records for b, _ in sent] == [1_000, 1_000, 500]
        bulk.close_job(delete.id)
        bulk.wait_for_job(delete.id)
        outcomes = read_outcomes(bulk, delete.id, sent)
    assert all(r.success for r in outcomes)
    assert len({r.id for r in outcomes}) == 2_500
    assert [r["LastName"] for r in org.records("Contact")] == ["Keep"]
