"""Bad input is refused before anything is sent, naming the row and the column.

Each case runs through both APIs where it applies, and the fake org must
have answered no request at all: no job was opened for input that could
never load.
"""

from __future__ import annotations

import contextlib
import io
import math
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from sfbulk_sdk import errors
from sfbulk_sdk.testing import FakeOrg
from tests.loads.loadkit import recording_bulk, requests_seen, sync_bulk

APIS = ["bulk1", "bulk2"]


def _refused(records: object, message: str, api: str, **settings: object) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match=message):
        bulk.insert("Contact", records, api=api, progress=None, **settings)  # type: ignore[arg-type]
    assert requests_seen(org) == 0 and org.jobs() == []


def _rows(bad_at: int, value: object, count: int = 5_000) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"FirstName": f"F{i}", "LastName": f"L{i}", "Description": "d"} for i in range(count)
    ]
    rows[bad_at]["Description"] = value
    return rows


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")],
    ids=["nan", "inf", "-inf", "Decimal-NaN", "Decimal-Infinity", "Decimal--Infinity"],
)
def test_nan_and_infinity_are_refused_naming_row_and_column(value: object, api: str) -> None:
    # The bad value sits in the last batch: nothing before it is sent either.
    _refused(_rows(4_321, value), r"row 4322, field 'Description': .* not a number", api)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    ("value", "kind"), [(b"raw", "bytes"), ({"a": 1}, "dict"), ([1], "list"), (object(), "object")]
)
def test_values_that_are_no_csv_field_are_refused_naming_row_and_column(
    value: object, kind: str, api: str
) -> None:
    _refused(_rows(17, value), rf"row 18, field 'Description': a {kind} value cannot", api)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("empty", [[], (), iter([]), "header-only"])
def test_zero_records_are_refused(empty: object, api: str, tmp_path: Path) -> None:
    if empty == "header-only":
        path = tmp_path / "empty.csv"
        path.write_text("FirstName,LastName\n")
        empty = path
    _refused(empty, "no records", api)


@pytest.mark.parametrize("api", APIS)
def test_a_ragged_csv_row_is_refused_from_a_file_or_a_stream(api: str, tmp_path: Path) -> None:
    lines = ["FirstName,LastName", *(f"F{i},L{i}" for i in range(25_000))]
    lines[20_001] = "F,L,extra"  # record 20,001: in the third Bulk 1.0 batch
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "ragged.csv"
    path.write_bytes(data)
    _refused(path, "record 20,?001", api)
    _refused(io.BytesIO(data), "record 20,?001", api)


@pytest.mark.parametrize("api", APIS)
def test_a_record_alone_over_the_limit_is_refused_naming_its_row(api: str) -> None:
    rows = _rows(2_000, "x" * 300_000)
    if api == "bulk1":  # a Bulk 1.0 batch holds 10,000,000 characters
        rows[2_000]["Description"] = "x" * 10_000_001
        _refused(rows, "row 2001 does not fit", api)
    else:  # a Bulk 2.0 job holds what job_size says (at most 100,000,000 bytes)
        _refused(rows, "row 2001 does not fit", api, job_size=200_000)


def test_a_row_with_a_field_the_others_lack_is_refused_naming_it() -> None:
    rows = _rows(3_000, "d")
    rows[3_000]["Nope__c"] = "x"
    _refused(rows, r"row 3001 has fields the load does not: \['Nope__c'\]", "bulk1")


class _Tags(BaseModel):
    LastName: str
    Tags: list[str]


class _Nested(BaseModel):
    LastName: str
    Parent: dict[str, str]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(("model", "field"), [(_Tags, "Tags"), (_Nested, "Parent")])
def test_a_model_with_a_field_type_csv_cannot_hold_is_refused(
    model: type[BaseModel], field: str, api: str
) -> None:
    kwargs = {"LastName": "x", field: [] if field == "Tags" else {}}
    _refused([model(**kwargs)], f"field '{field}' of {model.__name__}", api)


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("", "non-empty string"),
        ("   ", "non-empty string"),
        (None, "non-empty string"),
        (42, "non-empty string"),
        (b"SELECT Id FROM Account", "non-empty string"),
        ("SELECT Id", "no FROM clause"),
    ],
)
@pytest.mark.parametrize("api", ["auto", "bulk1", "bulk2"])
def test_bad_soql_is_refused_before_any_job(soql: object, message: str, api: str) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match=message):
        list(bulk.query(soql, api=api))  # type: ignore[arg-type]
    assert requests_seen(org) == 0


def test_bad_settings_are_refused_before_anything_is_sent() -> None:
    org = FakeOrg()
    rows = _rows(0, "d", count=3)
    with sync_bulk(org) as bulk:
        for settings, message in [
            ({"api": "bulk3"}, "api must be"),
            ({"batch_size": 0}, "batch_size must be"),
            ({"batch_size": 10_001}, "batch_size must be"),
            ({"concurrency": 0}, "concurrency must be"),
            ({"api": "bulk2", "job_size": 100_000_001}, "job_size must be"),
            ({"lock_retries": "2"}, "lock_retries must be"),
            ({"lock_retries": None}, "lock_retries must be"),
            ({"lock_retries": -1}, "lock_retries must be"),
            ({"serial": "no"}, "serial must be True or False"),
            ({"gzip": 0}, "gzip must be True or False"),
            ({"poll": 30}, "poll must be a PollPolicy"),
            ({"progress": "log"}, "progress must be a callable"),
            ({"batchsize": 100}, r"unknown load settings \['batchsize'\]"),
            ({"api": "bulk2", "serial": True}, "serial is not a setting of bulk2"),
            ({"api": "bulk2", "batch_size": 500}, "batch_size is not a setting of bulk2"),
            ({"api": "bulk1", "job_size": 10_000}, "job_size is not a setting of bulk1"),
            ({"serial": True, "job_size": 10_000}, "give one"),
            ({"api": "bulk2", "serial": True, "batch_size": 5, "job_size": 10_000}, "serial is"),
            # a size the chosen API does not take is still checked, not ignored
            ({"api": "bulk2", "batch_size": 0}, "batch_size must be"),
            ({"api": "bulk2", "batch_size": False}, "batch_size must be"),
            ({"api": "bulk2", "batch_size": ""}, "batch_size must be"),
            ({"api": "bulk1", "job_size": 0}, "job_size must be"),
            ({"job_size": False}, "job_size must be"),
            ({"api": "bulk2", "serial": "yes"}, "serial must be True or False"),
        ]:
            settings.setdefault("progress", None)
            with pytest.raises(errors.InvalidInputError, match=message):
                bulk.insert("Contact", rows, **settings)  # type: ignore[arg-type]
        with pytest.raises(errors.InvalidInputError, match="external_id_field"):
            bulk.upsert("Contact", rows, "", progress=None)
        with pytest.raises(errors.InvalidInputError, match="object must be a non-empty name"):
            bulk.insert("", rows, progress=None)
    assert requests_seen(org) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parallel_pages": 0}, "parallel_pages must be"),
        ({"parallel_pages": "4"}, "parallel_pages must be"),
        ({"max_records": 0}, "max_records must be"),
        ({"max_records": 1_000, "parallel_pages": 4}, "give one or the other"),
        ({"model": 5}, "model must be a pydantic model class"),
        ({"model": dict}, "model must be a pydantic model class"),
        ({"poll": 30}, "poll must be a PollPolicy"),
        ({"pk_chunking": "yes"}, "pk_chunking must be"),
        ({"pk_chunking": 300_000}, "between 1 and 250,000"),
        ({"pk_chunking": True, "api": "bulk2"}, "PK chunking is a Bulk 1.0 feature"),
        ({"query_all": "yes"}, "query_all must be True or False"),
        ({"api": "soap"}, "api must be"),
    ],
)
def test_bad_query_arguments_are_refused_when_called(
    options: dict[str, object], message: str
) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match=message):
        bulk.query("SELECT Id FROM Account", **options)  # type: ignore[arg-type]
    assert requests_seen(org) == 0


class _Account(BaseModel):
    Id: str


def test_query_to_csv_refuses_a_model_and_a_path_it_cannot_write(tmp_path: Path) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk:
        with pytest.raises(errors.InvalidInputError, match="model= does not apply"):
            bulk.query_to_csv("SELECT Id FROM Account", tmp_path / "a.csv", model=_Account)
        with pytest.raises(errors.InvalidInputError, match="cannot write the CSV file") as caught:
            bulk.query_to_csv("SELECT Id FROM Account", tmp_path)  # a directory
        assert isinstance(caught.value.__cause__, OSError)
    assert requests_seen(org) == 0 and not (tmp_path / "a.csv").exists()


def test_max_records_reads_the_results_in_pages_of_that_size() -> None:
    org = FakeOrg()
    org.insert("Account", [{"Name": f"A{i}"} for i in range(250)])
    bulk, transport = recording_bulk(org)
    with bulk:
        names = [r["Name"] for r in bulk.query("SELECT Name FROM Account", max_records=100)]
    assert sorted(names) == sorted(f"A{i}" for i in range(250))
    reads = [path for method, path, _ in transport.sent if path.endswith("/results")]
    assert len(reads) == 3  # 100 + 100 + 50, one page after another


def test_a_bulk1_query_names_the_outer_object_not_a_subquerys() -> None:
    org = FakeOrg()
    org.insert("Account", [{"Name": "Acme"}])
    soql = "SELECT Name, (SELECT Id FROM Contacts) FROM Account WHERE Name != 'x FROM Lead'"
    # (whether the org runs the subquery is its own affair)
    with sync_bulk(org) as bulk, contextlib.suppress(errors.SfBulkError):
        list(bulk.query(soql, api="bulk1"))
    assert [job.sobject for job in org.jobs()] == ["Account"]


def test_a_record_over_a_bulk2_job_is_named_against_the_job() -> None:
    rows = [{"LastName": "x", "Description": "d" * 2_000}]
    _refused(rows, "row 1 does not fit in a job even on its own", "bulk2", job_size=1_000)


def test_on_auto_a_setting_only_one_api_has_chooses_that_api() -> None:
    org = FakeOrg()
    ids = org.insert("Contact", [{"LastName": f"L{i}"} for i in range(4)])
    rows = [{"Id": record_id, "LastName": "Z"} for record_id in ids]
    with sync_bulk(org) as bulk:
        assert bulk.update("Contact", rows, progress=None).api == "bulk2"  # the default
        assert bulk.update("Contact", rows, serial=True, progress=None).api == "bulk1"
        assert bulk.update("Contact", rows, batch_size=2, progress=None).api == "bulk1"
        assert (
            bulk.insert("Contact", _rows(0, "d", count=2), job_size=10_000, progress=None).api
            == "bulk2"
        )
