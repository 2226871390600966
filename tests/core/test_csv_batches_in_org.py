"""The splitter's batches as a strict fake org receives them: cut at 10,000 records and
at exactly 10,000,000 bytes, no record lost or added, bad values refused before sending.

Peer complaints 3 (no automatic batch splitting) and 4 (silent data loss in
auto-batching) of spec/peers.md §3: the batches of
``csv_batches_from_records`` and ``split_csv`` are uploaded with ``Bulk`` to
the fake org, and every record's outcome is read back in input order.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest

from sfbulk_sdk import BatchState, ContentType, errors
from sfbulk_sdk.core.csvsplit import (
    MAX_BATCH_BYTES,
    MAX_BATCH_CHARS,
    csv_batches_from_records,
    split_csv,
)
from sfbulk_sdk.testing import FakeOrg
from tests.org_clients import org_bulk, read_outcomes, strict_org, upload_batches


@pytest.mark.peer("jsforce#469", "forcedotcom/cli#1460", complaint=3)
def test_c3_batches_split_at_10k_records_and_10mb_without_losing_a_record() -> None:
    """Complaint 3 (jsforce #469: ``load()`` stopped after 10k records;
    forcedotcom/cli #1460: batches over 10 MB with fewer than 10k rows).

    25,001 small records become batches of 10,000 / 10,000 / 5,001; 6,000 wide
    records (about 12 MB) are cut by size, well under 10k rows each. Every batch
    is accepted by an org that enforces 10,000,000 bytes, and every record
    arrives exactly once.
    """
    org = strict_org()
    with org_bulk(org) as bulk:
        narrow = bulk.create_job("insert", "Contact")
        assert narrow.id is not None
        rows = ({"LastName": f"N{i:05d}"} for i in range(25_001))
        sent = upload_batches(bulk, narrow.id, csv_batches_from_records(rows))
        assert [b.records for b, _ in sent] == [10_000, 10_000, 5_001]

        wide = bulk.create_job("insert", "Contact")
        assert wide.id is not None
        text = "x" * 1_990
        rows = ({"LastName": f"W{i:05d}", "Description": text} for i in range(6_000))
        sent_wide = upload_batches(bulk, wide.id, csv_batches_from_records(rows))
        assert len(sent_wide) == 2
        assert all(b.size <= MAX_BATCH_BYTES and b.records < 10_000 for b, _ in sent_wide)
        assert sent_wide[0][0].size > MAX_BATCH_BYTES - 2_100  # filled up to the limit

        bulk.close_job(narrow.id)
        bulk.close_job(wide.id)
        states = {b.state for job in (narrow.id, wide.id) for b in bulk.wait_for_job(job)}
        assert states == {BatchState.COMPLETED}
        assert all(r.success for r in read_outcomes(bulk, narrow.id, sent))
        assert all(r.success for r in read_outcomes(bulk, wide.id, sent_wide))
    names = sorted(str(r["LastName"]) for r in org.records("Contact"))
    assert names == [f"N{i:05d}" for i in range(25_001)] + [f"W{i:05d}" for i in range(6_000)]


@pytest.mark.peer("jsforce#31", complaint=3)
def test_c3_a_batch_of_exactly_10_000_000_bytes_and_characters_goes_whole() -> None:
    """Complaint 3 (jsforce #31: "Exceeded max size limit of 10000000"), at the edge:
    records filling exactly 10,000,000 bytes (and characters) make one batch that
    the org accepts; the next record starts a new batch."""
    header = '"LastName","Description"\n'
    frame = len('"L0000",""\n')  # a row without its description
    rows = [f'"L{i:04d}","{"d" * (1_000 - frame)}"\n' for i in range(9_998)]  # 1,000 each
    last = MAX_BATCH_CHARS - len(header) - 9_998 * 1_000 - frame
    rows.append(f'"L9998","{"e" * last}"\n')
    rows.append('"L9999","after the limit"\n')
    assert len(header) + sum(map(len, rows[:-1])) == MAX_BATCH_CHARS
    org = strict_org()
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        sent = upload_batches(bulk, job.id, split_csv(iter([header, *rows])))
        first, second = (batch for batch, _ in sent)
        assert (first.records, first.size, first.chars) == (9_999, 10_000_000, 10_000_000)
        assert (second.records, second.first_record) == (1, 10_000)
        bulk.close_job(job.id)
        assert {b.state for b in bulk.wait_for_job(job.id)} == {BatchState.COMPLETED}
        assert all(r.success for r in read_outcomes(bulk, job.id, sent))
    assert org.count("Contact") == 10_000


@pytest.mark.peer("simple-salesforce#590", "simple-salesforce#693", complaint=4)
@pytest.mark.parametrize(
    ("count", "plan"),
    [
        (1, [1]),
        (9_999, [9_999]),
        (10_000, [10_000]),
        (10_001, [10_000, 1]),
        (20_000, [10_000, 10_000]),
    ],
)
def test_c4_one_record_and_exact_multiples_of_the_batch_size_lose_nothing(
    count: int, plan: list[int]
) -> None:
    """Complaint 4 (simple-salesforce #590 and #693: 'auto' batching dropped a record,
    or sent nothing for a single record).

    Each input record yields exactly one outcome, in order, and the id of each
    success is the org record made from that very input row."""
    org = FakeOrg()
    rows = [{"FirstName": f"R{i}", "LastName": f"Row{i:05d}"} for i in range(count)]
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact")
        assert job.id is not None
        sent = upload_batches(bulk, job.id, csv_batches_from_records(iter(rows)))
        assert [b.records for b, _ in sent] == plan
        bulk.close_job(job.id)
        bulk.wait_for_job(job.id)
        outcomes = read_outcomes(bulk, job.id, sent)
    assert len(outcomes) == count
    stored = {r["Id"]: r["LastName"] for r in org.records("Contact")}
    assert [stored[r.id] for r in outcomes if r.id] == [r["LastName"] for r in rows]


@pytest.mark.peer("simple-salesforce#442", complaint=4)
@pytest.mark.parametrize(
    "bad", [math.nan, -math.inf, Decimal("NaN")], ids=["nan", "-inf", "decimal-nan"]
)
def test_c4_nan_is_refused_before_anything_is_sent(bad: Any) -> None:
    """Complaint 4 (simple-salesforce #442: pandas NaN became invalid JSON, the batch
    failed on the server, and 1,150 rows sent came back as 200 results).

    CSV records with NaN or infinity are refused, naming the record and field,
    before a batch is uploaded; a JSON batch written by ``json.dumps`` (which
    writes ``NaN``) is refused too, though its text is the caller's. The org
    receives no batch and stores nothing."""
    org = FakeOrg()
    rows = [{"Name": f"Ok{i}", "AnnualRevenue": 1.5} for i in range(5)]
    rows[2]["AnnualRevenue"] = bad
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Account")
        assert job.id is not None
        with pytest.raises(errors.InvalidInputError, match=r"record 3, field 'AnnualRevenue'"):
            upload_batches(bulk, job.id, csv_batches_from_records(rows))
        json_job = bulk.create_job("insert", "Account", content_type=ContentType.JSON)
        assert json_job.id is not None
        body = json.dumps([{**r, "AnnualRevenue": float(r["AnnualRevenue"])} for r in rows])
        assert "NaN" in body or "Infinity" in body
        with pytest.raises(errors.InvalidInputError, match="not valid JSON"):
            bulk.add_batch(json_job.id, body)
    assert org.requests["batch_create"] == 0
    assert org.count("Account") == 0


@pytest.mark.peer(complaint=4)
@pytest.mark.parametrize("content_type", [ContentType.CSV, ContentType.JSON])
def test_c4_none_values_are_sent_as_empty_fields_not_dropped_rows(
    content_type: ContentType,
) -> None:
    """Complaint 4: gaps in the data (``None``) must not cost a row or shift columns."""
    org = FakeOrg()
    rows: list[dict[str, Any]] = [
        {"FirstName": None, "LastName": "A", "Email": "a@example.com"},
        {"FirstName": "B", "LastName": "B", "Email": None},
        {"FirstName": None, "LastName": "C", "Email": None},
    ]
    with org_bulk(org) as bulk:
        job = bulk.create_job("insert", "Contact", content_type=content_type)
        assert job.id is not None
        if content_type is ContentType.CSV:
            (batch,) = csv_batches_from_records(rows)
            data = batch.data
        else:
            data = json.dumps(rows).encode()
        info = bulk.add_batch(job.id, data)
        bulk.wait_for_batch(job.id, info.id)
        results = list(bulk.get_batch_results(job.id, info.id))
    assert [r.success for r in results] == [True, True, True]
    stored = {r["Id"]: (r["FirstName"], r["LastName"], r["Email"]) for r in org.records("Contact")}
    assert [stored[r.id] for r in results if r.id] == [
        (None, "A", "a@example.com"),
        ("B", "B", None),
        (None, "C", None),
    ]
