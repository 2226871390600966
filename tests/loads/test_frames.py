"""pandas and pyarrow: outcomes and query records as frames, frames as load input.

``LoadResult.to_pandas()`` / ``to_arrow()`` give one row per input row;
``bulk.query_to_pandas()`` / ``query_to_arrow()`` stream a query into columns
(typed with ``model=``); a DataFrame or an Arrow Table loads like records,
missing values clearing their fields. Without the extra, each raises a
one-line ``SfBulkError`` naming it, before anything is sent.
"""

from __future__ import annotations

import math
import sys

import pandas as pd
import pyarrow as pa
import pytest
from pydantic import BaseModel

from sfbulk_sdk import LoadResult, errors
from sfbulk_sdk.testing import FakeOrg
from tests.loads.loadkit import async_bulk, contacts, org_with_external_id, requests_seen, sync_bulk


def _loaded(org: FakeOrg, api: str = "bulk1") -> LoadResult:
    org.inject_record_errors("Contact", count=2, every=50)  # rows 49 and 99 locked ...
    with sync_bulk(org) as bulk:  # ... and not retried here, so they stay failed
        return bulk.insert(
            "Contact", contacts(300, missing_every=120), api=api, lock_retries=0, progress=None
        )


def test_load_outcomes_as_a_dataframe() -> None:
    result = _loaded(org_with_external_id())
    frame = result.to_pandas()
    assert list(frame.columns) == ["row", "success", "created", "id", "error", "resubmitted"]
    assert len(frame) == 300 and frame["row"].tolist() == list(range(300))
    failed = frame[~frame["success"]]
    assert failed["row"].tolist() == result.failed_rows() == [0, 49, 99, 120, 240]
    assert failed["error"].str.split(":").str[0].tolist() == [
        "REQUIRED_FIELD_MISSING",
        "UNABLE_TO_LOCK_ROW",
        "UNABLE_TO_LOCK_ROW",
        "REQUIRED_FIELD_MISSING",
        "REQUIRED_FIELD_MISSING",
    ]
    assert [None if pd.isna(v) else v for v in frame["id"]] == result.ids()
    assert frame["created"].sum() == result.created_count == 295
    assert (frame.loc[frame["success"], "error"] == "").all()


def test_load_outcomes_as_an_arrow_table() -> None:
    result = _loaded(org_with_external_id())
    table = result.to_arrow()
    assert table.schema.field("row").type == pa.int64()
    assert table.schema.field("success").type == pa.bool_()
    assert table.num_rows == 300
    assert table.column("id").to_pylist() == result.ids()
    failed = [r for r, ok in enumerate(table.column("success").to_pylist()) if not ok]
    assert failed == result.failed_rows()


def test_a_bulk2_insert_frame_has_no_rows_to_tell() -> None:
    result = _loaded(org_with_external_id(), api="bulk2")
    frame = result.to_pandas()
    assert frame["row"].isna().all() and len(frame) == 300
    assert (~frame["success"]).sum() == result.failed_count == 5


class Account(BaseModel):
    Id: str
    Name: str
    NumberOfEmployees: int | None = None


def _accounts(org: FakeOrg) -> None:
    org.insert(
        "Account",
        [{"Name": f"A{i}", "NumberOfEmployees": None if i % 10 else i} for i in range(2_500)],
    )


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_a_query_into_a_dataframe(api: str) -> None:
    org = FakeOrg(query_result_file_rows=1_000, bulk2_query_page_records=700)
    _accounts(org)
    soql = "SELECT Id, Name, NumberOfEmployees FROM Account"
    with sync_bulk(org) as bulk:
        text = bulk.query_to_pandas(soql, api=api)
        typed = bulk.query_to_pandas(soql, api=api, model=Account)
    assert list(text.columns) == ["Id", "Name", "NumberOfEmployees"] and len(text) == 2_500
    assert text["Id"].is_unique and sorted(text["Name"]) == sorted(f"A{i}" for i in range(2_500))
    assert text["NumberOfEmployees"].notna().sum() == 250  # "" (a null field) is missing
    assert typed["NumberOfEmployees"].dropna().astype(int).sum() == sum(range(0, 2_500, 10))


@pytest.mark.anyio
async def test_a_query_into_an_arrow_table_streams_in_record_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sfbulk_sdk.core import frames

    monkeypatch.setattr(frames, "CHUNK", 600)
    org = FakeOrg()
    _accounts(org)
    async with async_bulk(org) as bulk:
        table = await bulk.query_to_arrow("SELECT Id, Name FROM Account", model=Account)
    assert table.num_rows == 2_500 and table.column_names == ["Id", "Name", "NumberOfEmployees"]
    assert len(table.to_batches()) == math.ceil(2_500 / 600)
    assert len(set(table.column("Id").to_pylist())) == 2_500


def test_a_dataframe_and_an_arrow_table_load_like_records() -> None:
    org = FakeOrg()
    frame = pd.DataFrame(
        {
            "LastName": [f"L{i}" for i in range(1_000)],
            "FirstName": [None if i % 3 == 0 else f"F{i}" for i in range(1_000)],
            "Birthdate": pd.to_datetime(["1990-01-02"] * 999 + [None]).date,
            "NumberOfEmployees__c": [float("nan") if i % 2 else 7.0 for i in range(1_000)],
        }
    ).drop(columns=["NumberOfEmployees__c"])
    with sync_bulk(org) as bulk:
        from_frame = bulk.insert("Contact", frame, progress=None)
        from_table = bulk.insert("Contact", pa.Table.from_pandas(frame), progress=None)
    assert from_frame.ok and from_table.ok and len(from_frame) == len(from_table) == 1_000
    stored = org.query("SELECT FirstName, LastName, Birthdate FROM Contact")
    assert len(stored) == 2_000
    assert sum(r["FirstName"] is None for r in stored) == 2 * 334  # None/NaN cleared
    assert sum(r["Birthdate"] is None for r in stored) == 2


def test_infinity_in_a_dataframe_is_refused_naming_row_and_column() -> None:
    org = FakeOrg()
    frame = pd.DataFrame({"LastName": ["a", "b", "c"], "Amount__c": [1.0, math.inf, 2.0]})
    with (
        sync_bulk(org) as bulk,
        pytest.raises(errors.InvalidInputError, match="row 2, field 'Amount__c'"),
    ):
        bulk.insert("Contact", frame, progress=None)
    assert requests_seen(org) == 0


@pytest.mark.parametrize(("module", "extra"), [("pandas", "pandas"), ("pyarrow", "arrow")])
def test_a_missing_extra_is_a_one_line_error_naming_it(
    module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = org_with_external_id()
    _accounts(org)
    result = _loaded(org)
    before = requests_seen(org)
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    convert = result.to_pandas if module == "pandas" else result.to_arrow
    with pytest.raises(errors.SfBulkError) as caught:
        convert()
    message = str(caught.value)
    assert "\n" not in message and f"pip install 'sfbulk-sdk[{extra}]'" in message
    assert isinstance(caught.value.__cause__, ImportError)
    with sync_bulk(org) as bulk:
        query = bulk.query_to_pandas if module == "pandas" else bulk.query_to_arrow
        with pytest.raises(errors.SfBulkError, match=rf"\[{extra}\]"):
            query("SELECT Id FROM Account")
    assert requests_seen(org) == before  # refused before the query was sent
