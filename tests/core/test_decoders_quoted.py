"""The CSV decoder's split path for all-quoted results (``sfbulk_sdk.core.decoders``).

Salesforce quotes every value, so most chunks are split on their ``","`` and
line separators instead of being read by :mod:`csv`. These tests hold the
decoder to :mod:`csv`'s reading of the same body whatever the values (quotes,
delimiters, line breaks, a value that is a lone line break), the line ending,
the delimiter and the chunking, and show that the split path is the one taken
for plain all-quoted results.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfbulk_sdk.core import decoders
from sfbulk_sdk.errors import MalformedReplyError

# Values built from the characters that matter to the splitting.
_VALUE = st.text(alphabet=st.sampled_from(['"', ",", "\n", "\r", "|", "a", "é", " "]), max_size=6)


def _body(header: list[str], rows: list[list[str]], delimiter: str, ending: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator=ending)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _expected(body: bytes, delimiter: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), delimiter=delimiter)
    header = next(reader)
    return [dict(zip(header, row, strict=True)) for row in reader if row]


def _decode(body: bytes, size: int, delimiter: str = ",") -> list[dict[str, object]]:
    decoder = decoders.CsvRecordDecoder(delimiter)
    out: list[dict[str, object]] = []
    for at in range(0, len(body), size):
        out += decoder.feed(body[at : at + size])
    return out + decoder.close()


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 4),
    values=st.lists(_VALUE, max_size=40),
    delimiter=st.sampled_from([",", "|", "\t"]),
    ending=st.sampled_from(["\n", "\r\n"]),
    size=st.integers(1, 90),
)
def test_all_quoted_bodies_read_as_csv_reads_them(
    width: int, values: list[str], delimiter: str, ending: str, size: int
) -> None:
    header = [f"F{n}" for n in range(width)]
    cells = values[: len(values) - len(values) % width]
    rows = [cells[at : at + width] for at in range(0, len(cells), width)]
    body = _body(header, rows, delimiter, ending)
    assert _decode(body, size, delimiter) == _expected(body, delimiter)
    assert _decode(body, max(len(body), 1), delimiter) == _expected(body, delimiter)


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_value_that_is_a_line_break_or_a_delimiter_stays_one_value(ending: str) -> None:
    rows = [["a", "\n", "b"], [",", "\n", ","], ["\r\n", "", "x"], ["\n", "\n", "\n"]]
    body = _body(["A", "B", "C"], rows, ",", ending)
    expected = [dict(zip("ABC", row, strict=True)) for row in rows]
    for size in (1, 7, len(body)):
        assert _decode(body, size) == expected


def test_plain_all_quoted_results_are_split_not_read_by_csv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [[f"001{n:015d}", f"Account {n}", "", "x, y"] for n in range(6000)]
    body = _body(["Id", "Name", "Site", "Note"], rows, ",", "\n")
    calls = []
    real = csv.reader

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(decoders.csv, "reader", counting)
    decoded = _decode(body, 1 << 16)
    assert decoded == [dict(zip(["Id", "Name", "Site", "Note"], row, strict=True)) for row in rows]
    # Only the first chunk (the header) goes through csv; the other chunks are split.
    assert len(calls) == 1
    assert len(body) > 3 * (1 << 16)


def test_a_quote_out_of_place_is_still_refused() -> None:
    body = b'"Id","Name"\n' + b'"001","a"\n' * 50 + b'"002","a"x"y"\n"003","c"\n'
    for size in (64, len(body)):
        with pytest.raises(MalformedReplyError, match="malformed CSV"):
            _decode(body, size)


def test_a_short_row_among_quoted_rows_is_still_refused() -> None:
    body = b'"Id","Name"\n' + b'"001","a"\n' * 50 + b'"002"\n' + b'"003","c"\n'
    with pytest.raises(MalformedReplyError, match="1 values; the header has 2"):
        _decode(body, 64)


def test_a_byte_order_mark_split_across_chunks_is_dropped() -> None:
    body = '\ufeff"Id"\n"001"\n'.encode()
    assert _decode(body, 1) == [{"Id": "001"}]
    assert _decode(body, 2) == [{"Id": "001"}]


def test_a_character_cut_by_a_chunk_boundary_is_kept_whole() -> None:
    body = '"Id","Name"\n"001","Ünïcødé ✓"\n'.encode()
    for size in range(1, 8):
        assert _decode(body, size) == [{"Id": "001", "Name": "Ünïcødé ✓"}]


def test_bytes_that_are_not_utf8_are_refused_with_their_position() -> None:
    body = b'"Id"\n"00\xff1"\n'
    with pytest.raises(MalformedReplyError, match=r"not UTF-8 \(byte 8\)"):
        _decode(body, 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), max_size=12))
def test_a_record_is_built_as_dict_zip_builds_it_whatever_the_names(names: list[str]) -> None:
    """Records are built by a function written from the header's names; any names
    (quotes, backslashes, braces, line breaks, repeats, empty) give the same dict
    as ``dict(zip(header, row))``, in the same key order."""
    row = [f"value {i}" for i in range(len(names))]
    record = decoders.record_builder(tuple(names))(row)
    expected = dict(zip(names, row, strict=True))
    assert record == expected and list(record) == list(expected)


def test_a_header_that_looks_like_code_stays_a_name() -> None:
    names = ["Id", "__import__('os').system('exit 3')", "'}; x = {'", '"""', "\\", "a\nb"]
    body = _body(names, [list("123456")], ",", "\n")
    decoder = decoders.CsvRecordDecoder()
    records = decoder.feed(body) + decoder.close()
    assert records == [dict(zip(names, "123456", strict=True))]
    with pytest.raises(TypeError):
        decoders.record_builder((1,))  # type: ignore[arg-type]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_rows_whose_widths_make_up_for_each_other_are_refused(ending: str) -> None:
    """One row a value too long and the next a value too short: the quotes and the
    values add up to two full rows, but neither row is one; no record is made of
    them, and the error names the width."""
    names = ["Id", "Name", "Site"]
    lines = ['"Id","Name","Site"', '"1","a","b","c"', '"2","d"']
    decoder = decoders.CsvRecordDecoder()
    assert decoder.feed((lines[0] + ending).encode()) == []  # the header: later chunks go fast
    with pytest.raises(MalformedReplyError, match="4 values; the header has 3"):
        decoder.feed((ending.join(lines[1:]) + ending).encode())
    with pytest.raises(MalformedReplyError, match="2 values"):
        decoders.record_builder(tuple(names))(["1", "a"])
    assert decoders.record_builder(tuple(names))(["1", "a", "b"]) == dict(
        zip(names, ["1", "a", "b"], strict=True)
    )


def test_a_value_over_csvs_field_limit_is_refused_on_the_fast_path_too() -> None:
    limit = csv.field_size_limit()
    decoder = decoders.CsvRecordDecoder()
    assert decoder.feed(b'"Id","Name"\n') == []
    short = b"".join(b'"%d","name %d"\n' % (i, i) for i in range(limit // 10))
    assert len(short) > limit  # a chunk longer than the limit, of short values: read
    assert len(decoder.feed(short)) == limit // 10
    with pytest.raises(MalformedReplyError, match="field larger than field limit"):
        decoder.feed(b'"1","' + b"x" * (limit + 1) + b'"\n')
