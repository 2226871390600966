"""Values reach the org exactly as given, through either API.

``None`` clears a field (sent as ``#N/A``, which the org reads as null); an
empty string is sent as empty; text with quotes, separators and every kind of
line break, a bare ``\\r`` included, arrives unchanged. (With ``\\n`` line
endings the :mod:`csv` writer leaves a bare ``\\r`` unquoted, and Salesforce
then reads it as a line break; bodies are written with ``\\r\\n`` so that it is
quoted.)
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from sfbulk_sdk import errors
from sfbulk_sdk.testing import FieldSpec
from tests.loads.loadkit import org_with_external_id, recording_bulk

TRICKY = ["plain", 'say "hi"', "a,b;c", "line\nbreak", "bare\rreturn", "both\r\nends", "é€𝄞中"]


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_tricky_text_and_none_arrive_as_given(api: str) -> None:
    org = org_with_external_id()
    ids = org.insert(
        "Contact", [{"LastName": f"L{i}", "Description": "set"} for i in range(len(TRICKY))]
    )
    rows = [
        {"Id": record_id, "FirstName": text, "Description": None}
        for record_id, text in zip(ids, TRICKY, strict=True)
    ]
    bulk, transport = recording_bulk(org)
    with bulk:
        result = bulk.update("Contact", rows, api=api, progress=None)
    assert result.ok, result.failed()
    (body,) = transport.uploads()
    assert body.count(b"#N/A") == len(TRICKY)  # None is sent as #N/A ...
    stored = {r["Id"]: r for r in org.records("Contact")}
    for record_id, text in zip(ids, TRICKY, strict=True):
        assert stored[record_id]["FirstName"] == text
        assert stored[record_id]["Description"] is None  # ... and clears the field


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_csv_file_is_sent_with_the_line_ending_it_has(ending: str, tmp_path: Path) -> None:
    org = org_with_external_id()
    path = tmp_path / "contacts.csv"
    path.write_bytes(
        ending.join(["FirstName,LastName", *(f"F{i},L{i}" for i in range(50)), ""]).encode()
    )
    bulk, transport = recording_bulk(org)
    with bulk:
        result = bulk.insert("Contact", path, api="bulk2", progress=None)
    assert result.ok and len(result) == 50
    created = [
        body for method, _, body in transport.sent if method == "POST" and b"lineEnding" in body
    ]
    assert (b'"CRLF"' in created[0]) is (ending == "\r\n")
    assert sorted(str(r["LastName"]) for r in org.records("Contact")) == sorted(
        f"L{i}" for i in range(50)
    )


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_dates_and_times_are_written_in_utc_with_four_digit_years(api: str) -> None:
    org = org_with_external_id()
    for name, kind in [("Seen__c", "datetime"), ("At__c", "time")]:
        org.add_field("Contact", FieldSpec(name, kind))
    plus_two = timezone(timedelta(hours=2))
    rows = [
        {"LastName": "old", "Seen__c": datetime(999, 1, 2, 3, 4, 5, 6_000), "At__c": None},
        {
            "LastName": "aware",
            "Seen__c": datetime(2026, 1, 1, 1, 0, tzinfo=plus_two),
            "At__c": time(1, 30, 0, 250_000, tzinfo=plus_two),
        },
        {"LastName": "naive", "Seen__c": None, "At__c": time(9, 15)},
    ]
    bulk, transport = recording_bulk(org)
    with bulk:
        bulk.insert("Contact", rows, api=api, gzip=False, progress=None)
    (body,) = transport.uploads()
    assert body.decode().splitlines()[1:] == [
        "old,0999-01-02T03:04:05.006Z,#N/A",
        "aware,2025-12-31T23:00:00.000Z,23:30:00.250Z",
        "naive,#N/A,09:15:00.000Z",
    ]


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_text_utf8_cannot_encode_and_unmovable_datetimes_are_refused_naming_the_field(
    api: str,
) -> None:
    org = org_with_external_id()
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    cases: list[tuple[object, str]] = [
        ("bad \ud800 text", "row 3, field 'FirstName': the text holds a lone surrogate"),
        (early, "row 3, field 'FirstName': 0001-01-01T00:00:00[+]05:00 is out of range"),
    ]
    bulk, transport = recording_bulk(org)
    with bulk:
        for value, message in cases:
            rows: list[dict[str, object]] = [{"LastName": "x", "FirstName": "y"}] * 2
            with pytest.raises(errors.InvalidInputError, match=message):
                bulk.insert("Contact", [*rows, {"LastName": "x", "FirstName": value}], api=api)
        with pytest.raises(errors.InvalidInputError, match="field name holds a lone surrogate"):
            bulk.insert("Contact", [{"LastName": "x", "F\udc00": "y"}], api=api)
    assert transport.sent == []


@pytest.mark.parametrize("api", ["bulk1", "bulk2"])
def test_a_csv_file_whose_lines_end_in_two_ways_is_refused(api: str, tmp_path: Path) -> None:
    org = org_with_external_id()
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"FirstName,LastName\nAda,Lovelace\r\nAlan,Turing\r\n")
    bulk, transport = recording_bulk(org)
    with bulk:
        for source in (path, io.BytesIO(path.read_bytes())):
            with pytest.raises(errors.InvalidInputError, match="ends with CRLF but the header"):
                bulk.insert("Contact", source, api=api, progress=None)
    assert transport.sent == []
