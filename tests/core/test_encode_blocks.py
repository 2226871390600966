"""The record encoder's block fast path: exact limits, exact round trips, named errors.

Rows are written a block at a time and only the block that reaches a limit row
by row; these tests cross block edges on purpose (more rows than a block, limits
that fall inside a block) and check every body against the three limits and the
whole input against what the bodies hold.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfbulk_sdk.core import encode
from sfbulk_sdk.core.csvbatch import Limits
from sfbulk_sdk.core.encode import RecordEncoder, rows_of_mappings
from sfbulk_sdk.errors import InvalidInputError

FIELDS = ["Name", "Note", "Count"]


def decoded(bodies: list[encode.EncodedBody]) -> list[list[str]]:
    rows: list[list[str]] = []
    for body in bodies:
        reader = csv.reader(io.StringIO(body.data.decode("utf-8"), newline=""))
        assert next(reader) == FIELDS  # every body starts with the header
        got = list(reader)
        assert len(got) == body.rows
        rows.extend(got)
    return rows


def check_limits(bodies: list[encode.EncodedBody], records: int, size: int, chars: int) -> None:
    expected_first = 0
    for body in bodies:
        assert body.first_row == expected_first
        assert 1 <= body.rows <= records
        assert len(body.data) <= size
        assert len(body.data.decode("utf-8")) <= chars
        expected_first += body.rows


texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
rows_strategy = st.lists(st.tuples(texts, texts, st.integers(-(10**6), 10**6)), max_size=1500)


@settings(max_examples=20, deadline=None)
@given(
    rows=rows_strategy,
    records=st.integers(1, 3000),
    size=st.integers(200, 40_000),
)
def test_any_rows_round_trip_within_every_limit(
    rows: list[tuple[str, str, int]], records: int, size: int
) -> None:
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=records, max_bytes=size, max_chars=size - 10)
    )
    bodies = list(encoder.bodies(rows))
    check_limits(bodies, records, size, size - 10)
    assert decoded(bodies) == [[a, b, str(c)] for a, b, c in rows]


def test_a_limit_inside_a_block_cuts_exactly_there() -> None:
    rows = [(f"n{i:04d}", "x", i % 10) for i in range(2500)]
    line = len("n0000,x,0\n")
    header = len("Name,Note,Count\n")
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=header + 1234 * line, max_chars=10**9)
    )
    bodies = list(encoder.bodies(rows))
    assert [b.rows for b in bodies] == [1234, 1234, 32]
    assert decoded(bodies) == [[a, b, str(c)] for a, b, c in rows]


def test_multibyte_text_is_cut_on_its_bytes() -> None:
    rows = [("é" * 10, "ü", 1)] * 1500  # 10 + 1 characters, 22 bytes of values a row
    per_row = len(("é" * 10 + ",ü,1\n").encode())
    header = len("Name,Note,Count\n")
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=header + 700 * per_row, max_chars=10**9)
    )
    bodies = list(encoder.bodies(rows))
    assert [b.rows for b in bodies] == [700, 700, 100]
    assert all(len(b.data) <= header + 700 * per_row for b in bodies)


def test_record_cap_and_keys_follow_the_rows() -> None:
    rows = [(f"k{i}", "", i) for i in range(2345)]
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=1000, max_bytes=10**7, max_chars=10**7), key="Name"
    )
    bodies = list(encoder.bodies(rows))
    assert [b.rows for b in bodies] == [1000, 1000, 345]
    assert [k for b in bodies for k in b.keys] == [f"k{i}" for i in range(2345)]


def test_a_ragged_row_deep_in_a_block_is_named() -> None:
    rows: list[tuple[object, ...]] = [("a", "b", 1)] * 1500
    rows[1200] = ("a", "b")
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**7, max_chars=10**7)
    )
    with pytest.raises(InvalidInputError, match=r"row 1201 has 2 values for 3 fields"):
        list(encoder.bodies(rows))


def test_a_bad_value_deep_in_a_block_is_named() -> None:
    rows: list[tuple[object, ...]] = [("a", None, 1.5)] * 1500
    rows[1499] = ("a", "b", float("nan"))
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**7, max_chars=10**7)
    )
    with pytest.raises(InvalidInputError, match=r"row 1500, field 'Count'"):
        list(encoder.bodies(rows))


def test_mixed_blocks_are_formatted_only_where_needed() -> None:
    rows = [("a", None, 1.5), ("b", "plain", 2), ("c", True, 10**20)] * 700
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**7, max_chars=10**7)
    )
    got = decoded(list(encoder.bodies(rows)))
    assert got[:3] == [["a", "#N/A", "1.5"], ["b", "plain", "2"], ["c", "true", str(10**20)]]
    assert len(got) == 2100


def test_a_row_too_big_alone_is_refused_naming_it() -> None:
    rows = [("a", "b", 1)] * 1100 + [("x" * 500, "b", 1)]
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**6, max_chars=300)
    )
    with pytest.raises(InvalidInputError, match=r"row 1101 does not fit .* characters"):
        list(encoder.bodies(rows))
    by_bytes = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=300, max_chars=10**6)
    )
    with pytest.raises(InvalidInputError, match=r"row 1101 does not fit .* bytes"):
        list(by_bytes.bodies(rows))


def test_mappings_fast_and_slow_blocks_give_the_same_rows() -> None:
    full = [{"Name": f"n{i}", "Note": "x", "Count": i} for i in range(2100)]
    partial = [dict(r) for r in full]
    del partial[1500]["Note"]  # one block goes mapping by mapping
    fast = list(rows_of_mappings(full, FIELDS))
    slow = list(rows_of_mappings(partial, FIELDS))
    assert fast == [(f"n{i}", "x", i) for i in range(2100)]
    assert slow[1500] == ("n1500", None, 1500)
    assert slow[:1500] == fast[:1500] and slow[1501:] == fast[1501:]
    assert list(rows_of_mappings([{"Name": "a"}], ["Name"])) == [("a",)]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"Name": "a", "Note": "b", "Count": 1, "Other": 2}, r"row 1101 has fields .*'Other'"),
        (["a", "b", 1], r"row 1101 is of type list, not a mapping"),
    ],
)
def test_a_bad_mapping_deep_in_the_input_is_named(record: object, message: str) -> None:
    records: list[object] = [{"Name": "a", "Note": "b", "Count": 1}] * 1100 + [record]
    with pytest.raises(InvalidInputError, match=message):
        list(rows_of_mappings(records, FIELDS))  # type: ignore[arg-type]


def test_a_bare_carriage_return_is_quoted_and_read_back() -> None:
    # Python's csv leaves a lone CR unquoted when lines end in LF; Salesforce would
    # read it as a line break and split the record.
    rows = [("a\rb", "\r", 1), ("plain", "x", 2)] * 600
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**7, max_chars=10**7)
    )
    bodies = list(encoder.bodies(rows))
    assert b'"a\rb","\r",1\n' in bodies[0].data
    assert decoded(bodies) == [[a, b, str(c)] for a, b, c in rows]


class _Shown(str):
    """Text whose ``str()`` says something else: csv writes its text."""

    def __str__(self) -> str:
        return "shown"


@pytest.mark.parametrize("other", [2, None], ids=["plain-block", "formatted-block"])
def test_a_str_subclass_is_written_as_its_text(other: object) -> None:
    rows = [(_Shown("text"), "b", other)] * 1200
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**7, max_chars=10**7), key="Name"
    )
    bodies = list(encoder.bodies(rows))
    assert {row[0] for row in decoded(bodies)} == {"text"}
    assert {key for body in bodies for key in body.keys} == {"text"}
    assert encode.format_value(_Shown("text")) == "text"


@pytest.mark.parametrize("first", [1, None], ids=["plain-block", "formatted-block"])
def test_an_integer_too_long_for_text_is_named(first: object) -> None:
    rows: list[tuple[object, ...]] = [("a", first, 1)] * 1500
    rows[1300] = ("a", "b", 10**5000)
    encoder = RecordEncoder(
        FIELDS, limits=Limits(max_records=10_000, max_bytes=10**8, max_chars=10**8)
    )
    with pytest.raises(InvalidInputError, match=r"row 1301, field 'Count': .*too many digits"):
        list(encoder.bodies(rows))


def test_plain_and_formatted_blocks_give_the_same_keys_and_bodies() -> None:
    plain = [(f"n{i}", f"note {i}", i) for i in range(2500)]
    # The same rows, each block made to take the checked path by one bool in its last row.
    mixed: list[tuple[object, ...]] = list(plain)
    for end in range(999, 2500, 1000):
        mixed[end] = (plain[end][0], plain[end][1], True)
    limits = Limits(max_records=1200, max_bytes=10**7, max_chars=10**7)
    fast = list(RecordEncoder(FIELDS, limits=limits, key="Name").bodies(plain))
    slow = list(RecordEncoder(FIELDS, limits=limits, key="Name").bodies(mixed))
    assert [b.keys for b in fast] == [b.keys for b in slow]
    assert [b.rows for b in fast] == [b.rows for b in slow] == [1200, 1200, 100]
    assert decoded(fast)[999] == ["n999", "note 999", "999"]
    assert decoded(slow)[999] == ["n999", "note 999", "true"]
