"""Values reach the org exactly as given, through either API.

``None`` clears a field (sent as ``#N/A``, which the org reads as null); an
empty string is sent as empty; text with quotes, separators and every kind of
line break, a bare ``\\r`` included, arrives unchanged. (With ``\\n`` line
endings the :mod:`csv` writer leaves a bare ``\\r`` unquoted, and Salesforce
then reads it as a line break; bodies are written with ``\\r\\n`` so that it is
quoted.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
