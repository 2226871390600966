"""Property: any records split into upload bodies that respect every limit, losing nothing.

Records of arbitrary text (any Unicode outside surrogates: multi-byte
characters, quotes, commas, semicolons, line breaks of every kind, big
fields), ``None`` and numbers are cut into Bulk 1.0 batches or Bulk 2.0 jobs
under small random limits. Every body is measured on its exact bytes: at most
``max_records`` records, ``max_chars`` characters and ``max_bytes`` UTF-8
bytes, the header included. Parsing the bodies back and concatenating them
gives exactly the input, each record whole and once, and each body says where
in the input it starts. A record that cannot fit on its own is refused,
naming its row, before any body is produced. CSV files are cut the same way.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfbulk_sdk import inputs
from sfbulk_sdk.core.csvsplit import split_csv
from sfbulk_sdk.core.encode import NULL, EncodedBody
from sfbulk_sdk.errors import InvalidInputError

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIELDS = ["Name", "Description", "Amount"]
#: Characters that stress CSV: quotes, separators, every line break, multi-byte text.
_TRICKY = st.sampled_from(['"', ",", ";", "\n", "\r", "\r\n", "\t", " ", "é", "€", "𝄞", "中"])
_text = st.lists(_TRICKY | st.characters(exclude_categories=("Cs",)), max_size=40).map(
    "".join
) | st.text(alphabet='xé€𝄞"\n,', min_size=100, max_size=400)
_value = st.none() | _text | st.integers(-(10**15), 10**15)
_records = st.lists(st.tuples(_text, _value, _value), min_size=1, max_size=60)
_limits = st.builds(
    inputs.Limits,
    max_records=st.integers(1, 25),
    max_bytes=st.integers(40, 1_500),
    max_chars=st.integers(40, 1_500),
)


def _expected(record: tuple[object, ...]) -> list[str]:
    return [NULL if v is None else str(v) for v in record]


def _parse(body: EncodedBody) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(body.data.decode("utf-8"), newline="")))
    assert rows[0] == FIELDS
    return rows[1:]


def _body_fits(body: EncodedBody, limits: inputs.Limits) -> None:
    assert 1 <= body.rows <= limits.max_records
    assert len(body.data) <= limits.max_bytes  # the exact UTF-8 bytes, header included
    assert len(body.data.decode("utf-8")) <= limits.max_chars


def _alone_fits(record: tuple[object, ...], limits: inputs.Limits) -> bool:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=inputs.LINE_ENDING)
    writer.writerow(FIELDS)
    writer.writerow(_expected(record))
    text = out.getvalue()
    return len(text) <= limits.max_chars and len(text.encode("utf-8")) <= limits.max_bytes


@PROPERTY
@given(_records, _limits, st.sampled_from(["mappings", "sequences"]))
def test_records_round_trip_exactly_through_bodies_within_every_limit(
    records: list[tuple[object, ...]], limits: inputs.Limits, shape: str
) -> None:
    given_records: object = (
        [dict(zip(FIELDS, r, strict=True)) for r in records] if shape == "mappings" else records
    )
    too_big = [n for n, r in enumerate(records, 1) if not _alone_fits(r, limits)]
    if too_big:
        with pytest.raises(InvalidInputError, match=r"row \d+ does not fit") as refused:
            inputs.prepare(given_records, limits=limits, fields=FIELDS)
        named = int(str(refused.value).split()[1])
        assert named in too_big  # a row that really is too big on its own
        return
    prepared = inputs.prepare(given_records, limits=limits, fields=FIELDS)
    bodies = list(prepared.bodies)
    assert prepared.fields == FIELDS and prepared.total == len(records)
    start = 0
    for body in bodies:
        _body_fits(body, limits)
        assert body.first_row == start
        start += body.rows
    back = [row for body in bodies for row in _parse(body)]
    assert back == [_expected(r) for r in records]  # nothing lost, repeated, split or changed
    assert start == len(records)


@PROPERTY
@given(_records, _limits)
def test_join_keys_follow_their_records_into_each_body(
    records: list[tuple[object, ...]], limits: inputs.Limits
) -> None:
    keyed = [(f"K{n}", *r[1:]) for n, r in enumerate(records)]  # Name as the join key
    if not all(_alone_fits(r, limits) for r in keyed):
        return
    bodies = list(inputs.prepare(keyed, limits=limits, fields=FIELDS, key="Name").bodies)
    for body in bodies:
        assert body.keys == [row[0] for row in _parse(body)]
    assert [k for body in bodies for k in body.keys] == [r[0] for r in keyed]


def _csv_lines(records: list[tuple[object, ...]], ending: str) -> list[str]:
    """The header and each record as a CSV file writes them (one string each)."""
    # With ``\n`` lines, only quoting every value keeps a bare ``\r`` unambiguous.
    quoting = csv.QUOTE_ALL if ending == "\n" else csv.QUOTE_MINIMAL
    lines = []
    for values in [FIELDS, *(_expected(r) for r in records)]:
        out = io.StringIO()
        csv.writer(out, lineterminator=ending, quoting=quoting).writerow(values)
        lines.append(out.getvalue())
    return lines


@settings(PROPERTY, max_examples=80)
@given(_records, _limits, st.sampled_from(["\n", "\r\n"]), st.lists(st.integers(1, 300)))
def test_a_csv_file_is_cut_at_whole_records_within_every_limit(
    records: list[tuple[object, ...]], limits: inputs.Limits, ending: str, cuts: list[int]
) -> None:
    header, *lines = _csv_lines(records, ending)
    data = (header + "".join(lines)).encode("utf-8")
    chunks, at = [], 0
    for size in cuts:  # read in arbitrary pieces, as from a file or a socket
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    cut = split_csv(chunks, limits=limits)
    alone = [header + line for line in lines]
    if not all(
        len(t) <= limits.max_chars and len(t.encode("utf-8")) <= limits.max_bytes for t in alone
    ):
        with pytest.raises(InvalidInputError):
            list(cut)
        return
    back: list[list[str]] = []
    for batch in cut:
        assert 1 <= batch.records <= limits.max_records
        assert len(batch.data) <= limits.max_bytes
        assert len(batch.data.decode("utf-8")) <= limits.max_chars
        rows = list(csv.reader(io.StringIO(batch.data.decode("utf-8"), newline="")))
        assert rows[0] == FIELDS and len(rows) - 1 == batch.records
        back += rows[1:]
    assert back == [_expected(r) for r in records]
