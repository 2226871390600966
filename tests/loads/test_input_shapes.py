"""Every input shape honours ``fields=``, and odd but valid values load as users expect.

``fields=`` picks and orders what is sent for every shape (before, a frame, a
table, models and CSV files sent every column whatever it said); inputs that
cannot load (a text-mode file, mixed record kinds, a CSV whose header repeats
a name, an update without ``Id``) are refused before any request; numpy and
pandas values (nullable integers and booleans, numpy scalars, Arrow NaN) and
constrained pydantic types load as the values they hold.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import BaseModel, Field, StringConstraints

from sfbulk_sdk import errors
from sfbulk_sdk.testing import FakeOrg, FieldSpec
from tests.loads.loadkit import recording_bulk, requests_seen, sync_bulk

APIS = ["bulk1", "bulk2"]


_CUSTOM = [
    FieldSpec("NumberOfEmployees__c", "int"),
    FieldSpec("Score__c", "double"),
    FieldSpec("Amount__c", "double"),
    FieldSpec("Seen__c", "datetime"),
]


def _sent(records: object, api: str, **settings: object) -> tuple[FakeOrg, list[bytes]]:
    org = FakeOrg()
    for spec in _CUSTOM:
        org.add_field("Contact", spec)
    bulk, transport = recording_bulk(org)
    with bulk:
        result = bulk.insert("Contact", records, api=api, gzip=False, progress=None, **settings)  # type: ignore[arg-type]
    assert result.ok, result.failed_rows()
    return org, transport.uploads()


def _refused(records: object, message: str, api: str = "bulk1", **settings: object) -> None:
    org = FakeOrg()
    with sync_bulk(org) as bulk, pytest.raises(errors.InvalidInputError, match=message):
        bulk.insert("Contact", records, api=api, progress=None, **settings)  # type: ignore[arg-type]
    assert requests_seen(org) == 0 and org.jobs() == []


class _Person(BaseModel):
    LastName: str
    FirstName: str | None = None
    Secret: str = "not for Salesforce"


_FRAME = pd.DataFrame(
    {"Secret": ["s1", "s2"], "FirstName": ["Ada", "Alan"], "LastName": ["Lovelace", "Turing"]}
)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("shape", ["frame", "table", "models", "mappings"])
def test_fields_pick_and_order_the_columns_sent(shape: str, api: str) -> None:
    records: object = {
        "frame": _FRAME,
        "table": pa.Table.from_pandas(_FRAME),
        "models": [_Person(LastName="Lovelace", FirstName="Ada", Secret="s1")],
        "mappings": _FRAME.to_dict("records"),
    }[shape]
    org, uploads = _sent(records, api, fields=["LastName", "FirstName"])
    assert uploads and all(body.startswith(b"LastName,FirstName\r\n") for body in uploads)
    assert not any(b"Secret" in body or b"s1" in body for body in uploads)
    stored = org.query("SELECT LastName, FirstName FROM Contact")
    assert stored[0]["LastName"] == "Lovelace" and stored[0]["FirstName"] == "Ada"


@pytest.mark.parametrize("shape", ["frame", "table", "models"])
def test_fields_naming_a_column_the_input_lacks_are_refused(shape: str) -> None:
    records: object = {
        "frame": _FRAME,
        "table": pa.Table.from_pandas(_FRAME),
        "models": [_Person(LastName="Lovelace")],
    }[shape]
    _refused(records, r"fields \['Email'\] are not", fields=["LastName", "Email"])


def test_fields_of_a_csv_file_must_be_its_header(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"LastName,FirstName\r\nLovelace,Ada\r\n")
    _refused(path, "is not the CSV's header", fields=["LastName"])
    _refused(str(path), "is not the CSV's header", fields=["FirstName", "LastName"])
    org, uploads = _sent(path, "bulk1", fields=["LastName", "FirstName"])
    assert uploads == [path.read_bytes()]
    assert len(org.query("SELECT LastName FROM Contact")) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("LastName", r"not a str \(for one field write \['LastName'\]\)"),
        ([], "fields is empty"),
        (["LastName", ""], "non-empty name"),
        (["LastName", 3], "non-empty name, not 3"),
        (["LastName", "LastName"], "repeats names"),
    ],
)
def test_bad_fields_are_refused(fields: object, message: str) -> None:
    _refused([{"LastName": "x"}], message, fields=fields)


@pytest.mark.parametrize("api", APIS)
def test_a_text_mode_file_is_refused_not_read_forever(api: str, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("LastName\nLovelace\n")
    with path.open() as text:
        _refused(text, "open in text mode", api)
    _refused(io.StringIO("LastName\nLovelace\n"), "open in text mode", api)

    class _Pipe:  # a text stream that is no TextIOBase and cannot seek
        def read(self, size: int = -1) -> str:
            return "LastName\nLovelace\n"

    _refused(_Pipe(), "open in text mode", api)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"LastName,LastName", r"repeats column names: \['LastName'\]"),
        (b"LastName,,FirstName", r"no name for column\(s\) \[2\]"),
    ],
)
def test_a_csv_header_that_cannot_name_the_fields_is_refused(
    header: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    row = b",".join([b"v"] * (header.count(b",") + 1))
    path.write_bytes(header + b"\r\n" + row + b"\r\n")
    _refused(path, message)
    _refused(io.BytesIO(path.read_bytes()), message, "bulk2")


class _Other(BaseModel):
    LastName: str


def test_records_of_mixed_kinds_are_refused_naming_the_row() -> None:
    people: list[object] = [_Person(LastName="a"), _Person(LastName="b"), _Other(LastName="c")]
    _refused(people, "row 3 is of type _Other, not _Person like row 1")
    _refused([_Person(LastName="a"), {"LastName": "b"}], "row 2 is of type dict, not _Person")
    _refused([{"LastName": "a"}, _Other(LastName="b")], "row 2 is of type _Other, not a mapping")


def test_non_text_column_names_are_refused() -> None:
    _refused(pd.DataFrame({0: ["a"], "LastName": ["b"]}), "column names must be text, not 0")
    _refused([{"LastName": "a", 7: "b"}], "row 1 has a key 7")


@pytest.mark.parametrize("api", APIS)
def test_update_without_an_id_column_is_refused_before_anything_is_sent(
    api: str, tmp_path: Path
) -> None:
    org = FakeOrg()
    path = tmp_path / "update.csv"
    path.write_bytes(b"LastName\r\nLovelace\r\n")
    with sync_bulk(org) as bulk:
        for records in ([{"LastName": "x"}], path):
            with pytest.raises(errors.InvalidInputError, match="no 'Id'"):
                bulk.update("Contact", records, api=api, progress=None)
        with pytest.raises(errors.InvalidInputError, match="no 'Ext__c'"):
            bulk.upsert("Contact", [{"LastName": "x"}], "Ext__c", api=api, progress=None)
    assert requests_seen(org) == 0


@pytest.mark.parametrize("api", APIS)
def test_pandas_and_numpy_values_load_as_the_values_they_hold(api: str) -> None:
    frame = pd.DataFrame(
        {
            "LastName": ["a", "b", "c"],
            "NumberOfEmployees__c": pd.array([7, None, 9], dtype="Int64"),
            "DoNotCall": pd.array([True, None, False], dtype="boolean"),
            "Score__c": pd.Series([np.int64(3), np.float64(2.5), None], dtype=object),
            "HasOptedOutOfEmail": pd.Series([np.bool_(True), np.bool_(False), None], dtype=object),
            "Seen__c": pd.Series([np.datetime64("1990-01-02T03:04:05"), None, None]),
        }
    )
    _org, uploads = _sent(frame, api)
    body = b"".join(uploads).decode()
    assert body.splitlines() == [
        "LastName,NumberOfEmployees__c,DoNotCall,Score__c,HasOptedOutOfEmail,Seen__c",
        "a,7,true,3,true,1990-01-02T03:04:05.000Z",
        "b,#N/A,#N/A,2.5,false,#N/A",
        "c,9,false,#N/A,#N/A,#N/A",
    ]
    records = [{"LastName": "d", "Score__c": np.int64(4), "DoNotCall": np.bool_(True)}]
    _org, uploads = _sent(records, api)
    assert uploads[0].decode().splitlines()[1] == "d,4,true"


@pytest.mark.parametrize("api", APIS)
def test_nan_in_an_arrow_table_clears_the_field(api: str) -> None:
    table = pa.table({"LastName": ["a", "b"], "Amount__c": [1.5, float("nan")]})
    _org, uploads = _sent(table, api)
    assert b"".join(uploads).decode().splitlines()[1:] == ["a,1.5", "b,#N/A"]


class _Constrained(BaseModel):
    LastName: Annotated[str, StringConstraints(min_length=1)] | None
    NumberOfEmployees__c: Annotated[int, Field(gt=0)] | None = None
    Title: Annotated[str | None, Field(max_length=80)] = None


@pytest.mark.parametrize("api", APIS)
def test_models_with_constrained_and_optional_annotated_types_load(api: str) -> None:
    people = [
        _Constrained(LastName="Lovelace", NumberOfEmployees__c=3, Title="Countess"),
        _Constrained(LastName="Turing"),
    ]
    _org, uploads = _sent(people, api)
    assert b"".join(uploads).decode().splitlines() == [
        "LastName,NumberOfEmployees__c,Title",
        "Lovelace,3,Countess",
        "Turing,#N/A,#N/A",
    ]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("spelling", ["ID", "id"])
def test_the_id_field_is_matched_without_regard_to_case(
    api: str, spelling: str, tmp_path: Path
) -> None:
    org = FakeOrg()
    ids = org.insert("Contact", [{"LastName": f"L{i}"} for i in range(3)])
    path = tmp_path / "updates.csv"  # as Data Loader writes its success files: ID
    lines = [f"{spelling},LastName", *(f"{i},New{n}" for n, i in enumerate(ids)), ""]
    path.write_bytes("\r\n".join(lines).encode())
    with sync_bulk(org) as bulk:
        from_file = bulk.update("Contact", path, api=api, progress=None)
        rows = [{spelling: record_id, "LastName": "Again"} for record_id in ids]
        from_rows = bulk.update("Contact", rows, api=api, progress=None)
    for result in (from_file, from_rows):
        assert result.ok and len(result) == 3, result.failed()
        assert [o.id for o in result] == ids
    assert {r["LastName"] for r in org.records("Contact")} == {"Again"}
