"""Data Loader-style success and error files (``LoadResult.success_csv`` / ``error_csv``):
rows given as value sequences or as mappings, and misuse refused with the SDK's error."""

from __future__ import annotations

import csv
import io

import pytest

from sfbulk_sdk import errors
from sfbulk_sdk.testing import FakeOrg
from tests.loads.loadkit import sync_bulk

ROWS: list[dict[str, object]] = [
    {"Name": "Acme", "Description": "first"},
    {"Name": None, "Description": "no name"},  # Name is required: this row fails
    {"Name": "Globex", "Description": "third"},
]
HEADER = ["Name", "Description"]


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_files_take_the_loaded_mappings_or_their_values_in_header_order() -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk:
        result = bulk.insert("Account", ROWS, api="bulk1", progress=None)
    assert result.failed_rows() == [1]
    values = [[row[name] for name in HEADER] for row in ROWS]
    for given in (ROWS, values):
        success = _read(result.success_csv(HEADER, given))
        assert success[0] == [*HEADER, "sf__Id", "sf__Created"]
        assert [r[:2] for r in success[1:]] == [["Acme", "first"], ["Globex", "third"]]
        assert [r[2] for r in success[1:]] == [result[0].id, result[2].id]
        failed = _read(result.error_csv(HEADER, given))
        assert failed[0] == [*HEADER, "sf__Id", "sf__Error"]
        assert len(failed) == 2 and failed[1][:2] == ["", "no name"]
        assert failed[1][3].startswith("REQUIRED_FIELD_MISSING:")


def test_a_bulk2_insert_whose_outcomes_have_no_rows_refuses_to_pair_them_with_rows() -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk:
        result = bulk.insert("Account", ROWS, api="bulk2", progress=None)
    assert not result.rows_known
    for report in (result.success_csv, result.error_csv):
        with pytest.raises(errors.InvalidInputError, match="not tied to input rows"):
            report(HEADER, ROWS)


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (None, ROWS, "header must be"),
        ("Name,Description", ROWS, "header must be"),
        ([1, 2], ROWS, "header names are strings"),
        (HEADER, None, "rows must be"),
        (HEADER, ["Acme,first", "x", "y"], "row 1 is a str"),
        (HEADER, [["Acme"], ["x", "y"], ["z", "w"]], "row 1 holds 1 values"),
        (HEADER, ROWS[:2], "rows holds 2 rows; the load had 3"),
        (HEADER, [*ROWS, ROWS[0]], "rows holds 4 rows; the load had 3"),
    ],
)
def test_rows_that_do_not_match_the_load_are_refused(
    header: object, rows: object, message: str
) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk:
        result = bulk.insert("Account", ROWS, api="bulk1", progress=None)
    for report in (result.success_csv, result.error_csv):
        with pytest.raises(errors.InvalidInputError, match=message):
            report(header, rows)  # type: ignore[arg-type]
