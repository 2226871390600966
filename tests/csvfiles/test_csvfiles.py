"""CSV files cut into batches (``sfbulk_sdk.csvfiles``): read lazily in chunks, the whole
file checked before the first batch unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfbulk_sdk.core.csvsplit import Limits, split_csv
from sfbulk_sdk.csvfiles import iter_csv_file_batches, split_csv_file
from sfbulk_sdk.errors import InvalidInputError


def test_split_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    content = 'LastName,Notes\r\n"Doe","a\r\nb"\r\nRoe,\r\n"Poe","ü"\r\n'
    path.write_bytes(content.encode())
    batches = list(split_csv_file(path, limits=Limits(max_records=2), chunk_size=3))
    assert [b.text for b in batches] == [
        'LastName,Notes\r\n"Doe","a\r\nb"\r\nRoe,\r\n',
        'LastName,Notes\r\n"Poe","ü"\r\n',
    ]
    assert list(iter_csv_file_batches(path, limits=Limits(max_records=2))) == [
        b.data for b in batches
    ]
    assert list(split_csv_file(str(path), check_first=False)) == list(split_csv(content))


def test_split_csv_file_checks_everything_before_the_first_batch(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Name\n" + "ok\n" * 50 + "x" * 100 + "\n", encoding="utf-8")
    checked = split_csv_file(path, limits=Limits(max_bytes=60))
    with pytest.raises(InvalidInputError, match=r"CSV record 51 \(line 52\)"):
        next(checked)  # nothing was produced
    unchecked = split_csv_file(path, limits=Limits(max_bytes=60), check_first=False)
    assert next(unchecked).records == 18
    with pytest.raises(InvalidInputError, match="CSV record 51"):
        list(unchecked)


def test_split_csv_file_opens_the_file_lazily(tmp_path: Path) -> None:
    batches = split_csv_file(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError):
        next(batches)


def test_split_csv_file_refuses_limits_that_are_not_one_value(tmp_path: Path) -> None:
    """The limits are one Limits value; a bare number is refused at the call, before any read."""
    with pytest.raises(InvalidInputError, match="limits must be a Limits value, not int"):
        split_csv_file(tmp_path / "missing.csv", limits=2)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="max_records must be a positive integer"):
        split_csv_file(tmp_path / "missing.csv", limits=Limits(max_records=0))
