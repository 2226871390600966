"""Bulk 1.0 batch results read in columns, and the csv reading they fall back to.

The fast reading takes the file as Salesforce writes it (every value quoted,
one line a result); any other file goes through :mod:`csv`. Both must give the
same outcomes, and both refuse a file with the wrong number of results.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfbulk_sdk.core.outcomes import LoadResult
from sfbulk_sdk.errors import ProtocolError

HEADER = '"Id","Success","Created","Error"\n'


def result_file(rows: list[tuple[str, bool, bool, str]], quoting: int = csv.QUOTE_ALL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator="\n")
    writer.writerow(["Id", "Success", "Created", "Error"])
    for record_id, ok, created, error in rows:
        writer.writerow([record_id, str(ok).lower(), str(created).lower(), error])
    return out.getvalue()


def outcomes(result: LoadResult) -> list[tuple[object, ...]]:
    return [(o.id, o.success, o.created, o.error) for o in result]


outcome = st.one_of(
    st.tuples(
        st.from_regex(r"001[A-Za-z0-9]{15}", fullmatch=True),
        st.just(True),
        st.booleans(),
        st.just(""),
    ),
    st.tuples(
        st.just(""),
        st.just(False),
        st.just(False),
        st.from_regex(r"[A-Z_]{3,20}:[^\x00\r\n]{0,30}:[A-Za-z]{0,8}", fullmatch=True),
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(outcome, min_size=1, max_size=60))
def test_columns_and_csv_read_the_same_outcomes(rows: list[tuple[str, bool, bool, str]]) -> None:
    fast = LoadResult("insert", "Account", "bulk1", size=len(rows))
    fast.add_bulk1_results(0, len(rows), result_file(rows).encode())
    slow = LoadResult("insert", "Account", "bulk1", size=len(rows))
    slow.add_bulk1_results(0, len(rows), result_file(rows, csv.QUOTE_MINIMAL))  # csv path
    assert outcomes(fast) == outcomes(slow)
    assert [o.success for o in fast] == [r[1] for r in rows]
    assert [o.id for o in fast] == [r[0] or None for r in rows] == fast.ids() == slow.ids()
    assert fast.failed_rows() == [i for i, r in enumerate(rows) if not r[1]]


def test_a_quoted_quote_and_a_multiline_error_are_read_whole() -> None:
    rows = [
        ("001000000000000AAA", True, True, ""),
        ("", False, False, 'FIELD_CUSTOM_VALIDATION_EXCEPTION:say "no":Name'),
        ("", False, False, "REQUIRED_FIELD_MISSING:a:Name\nDUPLICATE_VALUE:b:Id"),
    ]
    result = LoadResult("insert", "Account", "bulk1", size=3)
    result.add_bulk1_results(0, 3, result_file(rows).encode())
    assert result[1].errors[0].message == 'say "no"'
    assert [e.status_code for e in result[2].errors] == [
        "REQUIRED_FIELD_MISSING",
        "DUPLICATE_VALUE",
    ]
    assert result[0].id == "001000000000000AAA" and result[0].created


def test_rows_land_after_first_row_and_a_bom_is_dropped() -> None:
    rows = [(f"001{n:015d}", True, n % 2 == 0, "") for n in range(5)]
    result = LoadResult("insert", "Account", "bulk1", size=8)
    result.add_bulk1_results(3, 5, b"\xef\xbb\xbf" + result_file(rows).encode())
    assert result.ids() == [None, None, None, *(r[0] for r in rows)]
    assert [o.created for o in result][3:] == [True, False, True, False, True]
    assert result.unanswered() == [0, 1, 2]


@pytest.mark.parametrize("count", [2, 4])
def test_a_wrong_number_of_results_is_refused(count: int) -> None:
    rows = [(f"001{n:015d}", True, True, "") for n in range(count)]
    result = LoadResult("insert", "Account", "bulk1", size=3)
    with pytest.raises(ProtocolError, match="batch of 3 records"):
        result.add_bulk1_results(0, 3, result_file(rows).encode())


@pytest.mark.parametrize(
    "body",
    [b"", b'"Name","Other"\n"a","b"\n', b"\xff\xfe" + HEADER.encode(), HEADER.encode() + b'"a\n'],
)
def test_what_is_not_a_result_file_is_refused(body: bytes) -> None:
    result = LoadResult("insert", "Account", "bulk1", size=1)
    with pytest.raises(ProtocolError):
        result.add_bulk1_results(0, 1, body)


@pytest.mark.parametrize("created", [True, False])
@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_an_all_success_file_is_read_whole(created: bool, line_end: str) -> None:
    rows = [(f"001{n:015d}", True, created, "") for n in range(1200)]
    body = result_file(rows).replace("\n", line_end).encode()
    result = LoadResult("upsert", "Account", "bulk1", size=1200)
    result.add_bulk1_results(0, 1200, body)
    assert result.ids() == [r[0] for r in rows]
    assert result.ok and result.created_count == (1200 if created else 0)


def test_an_id_of_another_shape_takes_the_careful_reading() -> None:
    rows = [("001000000000000AAA", True, True, ""), ("a,b", True, True, ""), ("", True, True, "")]
    result = LoadResult("insert", "Account", "bulk1", size=3)
    result.add_bulk1_results(0, 3, result_file(rows).encode())
    assert [o.id for o in result] == ["001000000000000AAA", "a,b", None]


def test_ids_of_any_shape_stay_on_their_rows_on_every_path() -> None:
    """An id with a line break, one too long, one too short, none: ``ids()`` (one split
    of every row's id slot) still gives each row its own id, as reading a row does."""
    odd = ["001000000000000AAA", "a\nb", "0" * 30, "x", "", "001000000000001AAA"]
    result = LoadResult("insert", "Account", "bulk1", size=0)
    first = result.grow(len(odd))
    for row, record_id in enumerate(odd):
        result.record(first + row, record_id, bool(record_id), False, "" if record_id else "E:m:")
    block = result.grow(len(odd))
    result.succeed_block(block, [i or "y" for i in odd], bytes(len(odd)))
    csv_rows = [(i, True, True, "") for i in odd]
    later = result.grow(len(odd))
    result.add_bulk1_results(later, len(odd), result_file(csv_rows).encode())
    expected = ["001000000000000AAA", "a b", "0" * 18, "x", None, "001000000000001AAA"]
    assert result.ids() == [o.id for o in result]
    assert result.ids() == expected + [i or "y" for i in expected] + expected
    plain = LoadResult("insert", "Account", "bulk1", size=3)
    plain.succeed_block(0, [f"001{n:015d}" for n in range(3)], b"\x01" * 3)
    assert plain.ids() == [f"001{n:015d}" for n in range(3)] == [o.id for o in plain]
    assert LoadResult("insert", "Account", "bulk1").ids() == []
