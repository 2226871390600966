"""The encoder's plain-row path writes exactly what the csv module writes.

Rows of strings and integers are formatted without the csv writer when no value
needs quoting; whether that path or the writer wrote a block, every body must be
byte for byte the csv module's output (header included), for every delimiter
and line ending a load uses, with values that hold delimiters, quotes, line
breaks, ``%`` and empty strings.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfbulk_sdk.core import encode
from sfbulk_sdk.core.csvbatch import Limits
from sfbulk_sdk.core.encode import RecordEncoder

#: Characters that make csv quote a value, or could confuse a format string.
_TRICKY = st.sampled_from([",", ";", "\t", "|", '"', "\r", "\n", "%", "%s", " ", "", "é"])
_TEXT = st.lists(st.one_of(_TRICKY, st.text(max_size=3)), max_size=3).map("".join)
_VALUE = st.one_of(_TEXT, st.integers(min_value=-(10**12), max_value=10**12))


def _csv_text(fields: list[str], rows: list[tuple[object, ...]], delimiter: str, end: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=end)
    writer.writerow(fields)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(min_value=1, max_value=4),
    data=st.data(),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    end=st.sampled_from(["\r\n", "\n"]),
)
def test_bodies_are_what_csv_writes(
    width: int, data: st.DataObject, delimiter: str, end: str
) -> None:
    fields = [f"F{i}" for i in range(width)]
    rows = data.draw(st.lists(st.tuples(*[_VALUE] * width), min_size=1, max_size=30))
    encoder = RecordEncoder(
        fields,
        limits=Limits(10_000, 10**8, 10**8),
        delimiter=delimiter,
        line_ending=end,
    )
    bodies = list(encoder.bodies(rows))
    assert len(bodies) == 1 and bodies[0].rows == len(rows)
    text = bodies[0].data.decode("utf-8")
    if end == "\n" and any(isinstance(v, str) and "\r" in v for row in rows for v in row):
        return  # a bare CR with LF endings is written quoted on purpose (csv would not)
    assert text == _csv_text(fields, rows, delimiter, end)


def test_plain_rows_of_a_million_row_shape_match_csv() -> None:
    fields = ["Name", "Count", "Site"]
    rows = [(f"Account {n}", n, "Head office") for n in range(2_500)]
    rows[1_234] = ("Comma, Inc.", 7, 'say "hi"')  # one block falls back to the writer
    encoder = RecordEncoder(fields, limits=Limits(1_000, 10**8, 10**8))
    bodies = list(encoder.bodies(rows))
    assert [b.rows for b in bodies] == [1_000, 1_000, 500]
    joined = "".join(b.data.decode("utf-8") for b in bodies)
    header = _csv_text(fields, [], ",", "\n")
    expected = "".join(
        _csv_text(fields, rows[start : start + 1_000], ",", "\n") for start in (0, 1_000, 2_000)
    )
    assert joined == expected
    assert joined.count(header) == 3


#: Values whose type changes from block to block: the encoder remembers which
#: columns held integers, and must still write every block as csv does.
_ANY_PLAIN = st.one_of(_TEXT, st.integers(min_value=-(10**6), max_value=10**6))


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    block=st.integers(min_value=1, max_value=6),
    key=st.sampled_from([None, "F0", "F2"]),
)
def test_blocks_whose_column_types_change_are_what_csv_writes(
    data: st.DataObject, block: int, key: str | None
) -> None:
    fields = ["F0", "F1", "F2"]
    column = st.sampled_from([_TEXT, st.integers(-(10**6), 10**6), _ANY_PLAIN])
    kinds = data.draw(st.lists(st.tuples(column, column, column), min_size=1, max_size=8))
    rows: list[tuple[object, ...]] = []
    for a, b, c in kinds:  # a run of rows per kind: columns switch between text and ints
        rows += data.draw(st.lists(st.tuples(a, b, c), min_size=1, max_size=2 * block))
    encoder = RecordEncoder(fields, limits=Limits(10_000, 10**8, 10**8), key=key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(encode, "_BLOCK", block)
        bodies = list(encoder.bodies(rows))
    assert len(bodies) == 1 and bodies[0].rows == len(rows)
    if any(isinstance(v, str) and "\r" in v for row in rows for v in row):
        return  # a bare CR with LF endings is written quoted on purpose (csv would not)
    assert bodies[0].data.decode("utf-8") == _csv_text(fields, rows, ",", "\n")
    if key is not None:
        index = fields.index(key)
        assert bodies[0].keys == [str(row[index]) for row in rows]
