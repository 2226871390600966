"""The CSV batch splitter: records (not lines), exact limits, nothing lost, lazy input.

(Splitting a file, ``sfbulk_sdk.csvfiles``, is in ``tests/csvfiles/``; batches as the
fake org receives them are in ``test_csv_batches_in_org.py``.)
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from sfbulk_sdk.core.csvsplit import (
    BATCH_LIMITS,
    MAX_BATCH_BYTES,
    MAX_BATCH_CHARS,
    MAX_BATCH_RECORDS,
    CsvBatch,
    Limits,
    csv_batches_from_records,
    format_csv_value,
    scan_csv,
    split_csv,
)
from sfbulk_sdk.errors import InvalidInputError
from tests.conftest import read_fixture

# --------------------------------------------------------------------------- helpers


def rows_of(batch: CsvBatch) -> list[list[str]]:
    """The parsed rows of a batch, header included."""
    return list(csv.reader(io.StringIO(batch.text, newline=""), strict=True))


def data_rows(batches: list[CsvBatch]) -> list[list[str]]:
    return [row for batch in batches for row in rows_of(batch)[1:]]


def check_batches(
    batches: list[CsvBatch],
    header_raw: str,
    *,
    limits: Limits,
) -> None:
    """Limits respected, header repeated, numbering continuous, and every cut forced."""
    max_records, max_bytes, max_chars = limits.max_records, limits.max_bytes, limits.max_chars
    header = header_raw.encode()
    expected_first = 1
    for index, batch in enumerate(batches):
        assert batch.index == index
        assert batch.first_record == expected_first
        assert batch.data.startswith(header)
        assert 1 <= batch.records <= max_records
        assert batch.size == len(batch.data) <= max_bytes
        assert batch.chars == len(batch.text) <= max_chars
        assert len(rows_of(batch)) == batch.records + 1
        expected_first = batch.last_record + 1
    # Greedy: a batch was closed only because its successor's first record did not fit.
    for before, after in itertools.pairwise(batches):
        first = rows_raw(after)[0]
        assert (
            before.records == max_records
            or before.size + len(first.encode()) > max_bytes
            or before.chars + len(first) > max_chars
        )


def rows_raw(batch: CsvBatch) -> list[str]:
    """The raw text of each data record of a batch (header dropped)."""
    text = batch.text
    lines = io.StringIO(text, newline="")
    out: list[str] = []
    taken: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            taken.append(line)
            yield line

    for _ in csv.reader(feed(), strict=True):
        out.append("".join(taken))
        taken.clear()
    return out[1:]


UNICODE = "aZ09 ,;\"'\n\r\t#éßø中文😀\u2028"


def random_value(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.15:
        return ""
    if kind < 0.3:
        return str(rng.randint(-(10**6), 10**6))
    return "".join(rng.choice(UNICODE) for _ in range(rng.randint(1, 30)))


def render_row(values: list[str], quote_all: bool, terminator: str) -> str:
    """One CSV row. (Python < 3.13's csv.writer leaves a bare CR unquoted, so not that.)"""

    def field(value: str) -> str:
        if quote_all or any(c in value for c in ',"\r\n') or (value == "" and len(values) == 1):
            return '"' + value.replace('"', '""') + '"'
        return value

    return ",".join(field(v) for v in values) + terminator


def random_csv(rng: random.Random, n_records: int, n_fields: int) -> tuple[str, list[list[str]]]:
    header = [f"Field{i}__c" for i in range(n_fields)]
    rows = [[random_value(rng) for _ in range(n_fields)] for _ in range(n_records)]
    terminator = rng.choice(["\n", "\r\n"])
    quote_all = rng.random() < 0.5
    text = "".join(render_row(row, quote_all, terminator) for row in [header, *rows])
    if rng.random() < 0.3:  # no line break after the last record
        text = text[: -len(terminator)]
    return text, [header, *rows]


def chunked(data: str | bytes, rng: random.Random) -> Iterator[str | bytes]:
    position = 0
    while position < len(data):
        step = rng.randint(1, 40)
        yield data[position : position + step]
        position += step


# --------------------------------------------------------------------------- basics


def test_records_not_lines() -> None:
    text = 'Name,Description\n"Acme","line one\nline two"\nGlobex,"say ""hi"""\r\nInitech,\n'
    batches = list(split_csv(text, limits=Limits(max_records=2)))
    assert [b.records for b in batches] == [2, 1]
    assert (
        batches[0].text == 'Name,Description\n"Acme","line one\nline two"\nGlobex,"say ""hi"""\r\n'
    )
    assert batches[1].text == "Name,Description\nInitech,\n"
    assert data_rows(batches) == [
        ["Acme", "line one\nline two"],
        ["Globex", 'say "hi"'],
        ["Initech", ""],
    ]
    assert [(b.first_record, b.last_record) for b in batches] == [(1, 2), (3, 3)]
    assert "line one" not in repr(batches[0])  # the data is not in the repr


def test_recorded_upsert_request_body() -> None:
    raw = read_fixture("requests/bulk1_batch_upsert_request_jorgevaldivia.csv")
    (batch,) = split_csv(raw)
    assert batch.data == raw
    assert batch.records == 2
    singles = list(split_csv(raw, limits=Limits(max_records=1)))
    header = raw.split(b"\n", 1)[0] + b"\n"
    assert [b.data for b in singles] == [
        header + b"12345,This is a test video,\n",
        header + b"23456,A second test!,true\n",
    ]


def test_quoted_line_breaks_and_escaped_quotes_across_chunks() -> None:
    text = 'A,B\n"x\r\ny""\n""z",2\n"""",3\n'
    for size in range(1, len(text) + 1):
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        batches = list(split_csv(pieces, limits=Limits(max_records=1)))
        assert [b.text for b in batches] == ['A,B\n"x\r\ny""\n""z",2\n', 'A,B\n"""",3\n']


def test_bytes_chunks_split_inside_utf8_characters() -> None:
    text = 'Name\n"é😀中"\nß\n'
    raw = text.encode()
    for size in range(1, len(raw) + 1):
        pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
        batches = list(split_csv(pieces))
        assert len(batches) == 1
        assert batches[0].data == raw
        assert batches[0].chars == len(text)


def test_text_and_binary_streams() -> None:
    text = 'a,b\n1,"multi\r\nline"\n2,3\n'
    from_text = list(split_csv(io.StringIO(text, newline=""), limits=Limits(max_records=1)))
    from_bytes = list(split_csv(io.BytesIO(text.encode()), limits=Limits(max_records=1)))
    assert [b.data for b in from_text] == [b.data for b in from_bytes]
    assert data_rows(from_text) == [["1", "multi\r\nline"], ["2", "3"]]


def test_blank_lines_byte_order_mark_and_empty_input() -> None:
    assert list(split_csv("")) == []
    assert list(split_csv(b"")) == []
    assert list(split_csv("Name,Id\n")) == []  # a header and no records: nothing to send
    assert list(split_csv([])) == []
    (batch,) = split_csv("\ufeffName\n\nAcme\n\r\n\nGlobex")
    assert batch.text == "Name\nAcme\nGlobex"
    (batch,) = split_csv(b"\xef\xbb\xbfName\nAcme\n")
    assert batch.text == "Name\nAcme\n"


def test_other_input_encoding_is_uploaded_as_utf8() -> None:
    raw = "Name\nCafé Müller\n".encode("latin-1")
    (batch,) = split_csv([raw], encoding="latin-1")
    assert batch.data == "Name\nCafé Müller\n".encode()


# --------------------------------------------------------------------------- limits


def test_exactly_10000_records_fit_in_one_batch() -> None:
    body = "Id\n" + "".join(f"{i}\n" for i in range(MAX_BATCH_RECORDS))
    (batch,) = split_csv(body)
    assert batch.records == MAX_BATCH_RECORDS
    batches = list(split_csv(body + "last\n"))
    assert [b.records for b in batches] == [MAX_BATCH_RECORDS, 1]
    assert batches[1].text == "Id\nlast\n"
    assert batches[1].first_record == MAX_BATCH_RECORDS + 1


def test_exactly_10_mb_fits_in_one_batch() -> None:
    """The real limit: header (2 bytes) + 4,999 x 2,000 + 1,998 = 10,000,000 bytes."""
    record = "x" * 1999 + "\n"
    body = "h\n" + record * 4999 + "y" * 1997 + "\n"
    assert len(body.encode()) == MAX_BATCH_BYTES == MAX_BATCH_CHARS
    (batch,) = split_csv(body)
    assert batch.size == MAX_BATCH_BYTES
    assert batch.records == 5000
    batches = list(split_csv(body[:-1] + "y\n"))  # one byte more
    assert [b.records for b in batches] == [4999, 1]
    assert batches[0].size == MAX_BATCH_BYTES - 1998
    assert batches[1].text == "h\n" + "y" * 1998 + "\n"


def test_byte_limit_boundary_with_small_limits() -> None:
    header = "Name\n"  # 5 bytes
    record = "abcd\n"  # 5 bytes
    body = header + record * 10
    assert [b.records for b in split_csv(body, limits=Limits(max_bytes=50))] == [9, 1]
    assert [b.records for b in split_csv(body, limits=Limits(max_bytes=55))] == [10]
    assert [b.records for b in split_csv(body, limits=Limits(max_bytes=54))] == [9, 1]
    assert [b.size for b in split_csv(body, limits=Limits(max_bytes=25))] == [25, 25, 15]


def test_bytes_and_characters_are_separate_limits() -> None:
    body = "N\n" + "é\n" * 6  # each record: 2 characters, 3 bytes
    by_bytes = list(split_csv(body, limits=Limits(max_bytes=11, max_chars=1000)))
    assert [b.records for b in by_bytes] == [3, 3]
    assert [b.size for b in by_bytes] == [11, 11]
    by_chars = list(split_csv(body, limits=Limits(max_bytes=1000, max_chars=8)))
    assert [b.records for b in by_chars] == [3, 3]
    assert [b.chars for b in by_chars] == [8, 8]
    assert [b.records for b in split_csv(body, limits=Limits(max_bytes=10, max_chars=8))] == [
        2,
        2,
        2,
    ]


def test_record_too_large_for_any_batch_is_named() -> None:
    body = "Name\nok\n" + '"' + "x" * 50 + '"\nafter\n'
    with pytest.raises(InvalidInputError, match=r"CSV record 2 \(line 3\)"):
        list(split_csv(body, limits=Limits(max_bytes=40)))
    with pytest.raises(InvalidInputError, match=r"CSV record 2 \(line 3\)"):
        scan_csv(body, limits=Limits(max_bytes=40))
    # Fits exactly with the header (5 bytes + 53 bytes).
    assert [b.records for b in split_csv(body, limits=Limits(max_bytes=58))] == [1, 1, 1]


def test_oversized_record_is_refused_without_reading_it_all() -> None:
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        yield 'Name\nfine\n"unclosed'
        while True:
            pulled += 1
            if pulled > 100:
                raise AssertionError("the splitter kept reading an impossible record")
            yield "more text\n"

    batches = split_csv(endless(), limits=Limits(max_chars=200))
    with pytest.raises(InvalidInputError, match=r"CSV record 2 \(line 3\).*200 characters"):
        list(batches)
    assert pulled <= 25


def test_unterminated_quote_at_end_is_malformed() -> None:
    with pytest.raises(InvalidInputError, match=r"CSV record 2 \(line 3\) is malformed"):
        list(split_csv('Name\nok\n"open\nstill open'))


@pytest.mark.parametrize(
    "body",
    ['Name,Id\n"quoted"junk,1\n', "Name\nbare\rcarriage\n"],
)
def test_malformed_records(body: str) -> None:
    with pytest.raises(InvalidInputError, match=r"CSV record 1 \(line 2\) is malformed"):
        list(split_csv(body))


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"UTF-8|utf-8"):
        list(split_csv([b"Name\n", b"\xff\xfe\n"]))
    with pytest.raises(InvalidInputError, match="ends inside"):
        list(split_csv([b"Name\n\xc3"]))
    with pytest.raises(InvalidInputError, match="mixes"):
        list(split_csv(["Name\n", b"x\n"]))  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="int"):
        list(split_csv([1, 2]))  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="encoding"):
        list(split_csv(b"x", encoding="no-such-codec"))


@pytest.mark.parametrize("name", ["max_records", "max_bytes", "max_chars"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_limits_must_be_positive_integers(name: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match=name):
        Limits(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("limits", [10_000, (1, 2, 3), None])
def test_limits_must_be_a_limits_value(limits: object) -> None:
    """The three limits travel as one value; anything else is refused by every entry point."""
    for call in (
        lambda: split_csv("a\n1\n", limits=limits),  # type: ignore[arg-type]
        lambda: scan_csv("a\n1\n", limits=limits),  # type: ignore[arg-type]
        lambda: csv_batches_from_records([{"a": 1}], limits=limits),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInputError, match="limits must be a Limits value"):
            call()


# --------------------------------------------------------------------------- property-style


@pytest.mark.parametrize("seed", range(150))
def test_random_csv_round_trips_exactly(seed: int) -> None:
    rng = random.Random(seed)
    text, rows = random_csv(rng, rng.randint(0, 120), rng.randint(1, 5))
    header_line = _first_record_raw(text)
    longest = max((len(r.encode()) for r in _all_records_raw(text)), default=0)
    limits = Limits(
        max_records=rng.randint(1, 40),
        max_bytes=len(header_line.encode()) + longest + rng.randint(0, 400),
        max_chars=len(header_line) + longest + rng.randint(0, 400),
    )
    source: object = rng.choice(
        [text, text.encode(), list(chunked(text, rng)), list(chunked(text.encode(), rng))]
    )
    batches = list(
        split_csv(
            source,  # type: ignore[arg-type]
            limits=limits,
        )
    )
    check_batches(batches, header_line, limits=limits)
    # Nothing lost, nothing duplicated, nothing altered: rows and raw text.
    assert data_rows(batches) == rows[1:]
    assert "".join(batch.text[len(header_line) :] for batch in batches) == text[len(header_line) :]
    summary = scan_csv(text, limits=limits)
    assert summary.fields == tuple(rows[0])
    assert summary.records == len(rows) - 1
    assert summary.batches == len(batches)


def _all_records_raw(text: str) -> list[str]:
    return rows_raw(CsvBatch(text.encode(), 0, 0, 0, 0))


def _first_record_raw(text: str) -> str:
    lines = io.StringIO(text, newline="")
    taken: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            taken.append(line)
            yield line

    next(csv.reader(feed()))
    return "".join(taken)


# --------------------------------------------------------------------------- laziness


def test_input_is_read_lazily() -> None:
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        yield "Id\n"
        for i in itertools.count():
            pulled += 1
            yield f"{i}\n"

    batches = split_csv(endless(), limits=Limits(max_records=100))
    first, second = itertools.islice(batches, 2)
    assert (first.records, second.records) == (100, 100)
    assert second.text.splitlines()[1:3] == ["100", "101"]
    assert pulled <= 201


# --------------------------------------------------------------------------- records


def test_records_from_dicts() -> None:
    records = [
        {"FirstName": "Ada", "LastName": 'Love"lace', "Active__c": True, "Score__c": None},
        {"FirstName": "Alan", "LastName": "Turing", "Active__c": False},
        {"LastName": "Hopper\nGrace", "Score__c": 1.5},
    ]
    (batch,) = csv_batches_from_records(records)
    assert batch.text == (
        '"FirstName","LastName","Active__c","Score__c"\n'
        '"Ada","Love""lace","true",""\n'
        '"Alan","Turing","false",""\n'
        '"","Hopper\nGrace","","1.5"\n'
    )
    assert batch.records == 3
    parsed = list(csv.DictReader(io.StringIO(batch.text, newline="")))
    assert parsed[2]["LastName"] == "Hopper\nGrace"


def test_records_with_field_list_and_rows() -> None:
    (batch,) = csv_batches_from_records([("1", "x")], fields=["Id", "Name"])
    assert batch.text == '"Id","Name"\n"1","x"\n'
    (batch,) = csv_batches_from_records([["Id", "Name"], [1, None], [2, "b"]])
    assert batch.text == '"Id","Name"\n"1",""\n"2","b"\n'
    (batch,) = csv_batches_from_records([{"Name": "a", "Id": 1}], fields=["Id", "Name"])
    assert batch.text == '"Id","Name"\n"1","a"\n'
    (batch,) = csv_batches_from_records([{"A": 1}], line_terminator="\r\n")
    assert batch.text == '"A"\r\n"1"\r\n'
    assert list(csv_batches_from_records([])) == []
    assert list(csv_batches_from_records([], fields=["Id"])) == []


def test_record_errors_name_the_record() -> None:
    with pytest.raises(InvalidInputError, match=r"record 2 has fields not in the header"):
        list(csv_batches_from_records([{"A": 1}, {"A": 2, "B": 3}]))
    with pytest.raises(InvalidInputError, match=r"record 1 has 1 values for 2 fields"):
        list(csv_batches_from_records([["A", "B"], ["only"]]))
    with pytest.raises(InvalidInputError, match=r"record 3, field 'Amount'.*nan"):
        list(csv_batches_from_records([{"Amount": 1.0}, {"Amount": 2}, {"Amount": float("nan")}]))
    with pytest.raises(InvalidInputError, match=r"record 1, field 'Account'.*Parent"):
        list(csv_batches_from_records([{"Account": {"ExtId__c": "1"}}]))
    with pytest.raises(InvalidInputError, match="mappings or sequences"):
        list(csv_batches_from_records(["Id"]))  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="no field names"):
        list(csv_batches_from_records([{}]))
    with pytest.raises(InvalidInputError, match=r"repeats field names: \['Id'\]"):
        list(csv_batches_from_records([["Id", "Name", "Id"]]))
    with pytest.raises(InvalidInputError, match="no field names"):
        list(csv_batches_from_records([[1]], fields=[]))
    with pytest.raises(InvalidInputError, match="line_terminator"):
        csv_batches_from_records([{"A": 1}], line_terminator="\r")


def test_records_are_cut_at_the_limits_and_serialised_lazily() -> None:
    made = 0

    def people() -> Iterator[dict[str, object]]:
        nonlocal made
        for i in itertools.count():
            made += 1
            yield {"Id": i, "Name": f"person {i}"}

    first, second = itertools.islice(
        csv_batches_from_records(people(), limits=Limits(max_records=3)), 2
    )
    assert (first.records, second.records) == (3, 3)
    assert made <= 7
    assert data_rows([first, second]) == [[str(i), f"person {i}"] for i in range(6)]
    header = '"Id","Name"\n'
    sized = list(
        csv_batches_from_records(
            ({"Id": i, "Name": "n"} for i in range(10)),
            limits=Limits(max_bytes=len(header) + 3 * 8),
        )
    )
    assert [b.records for b in sized] == [3, 3, 3, 1]
    assert all(b.size <= len(header) + 24 for b in sized)
    with pytest.raises(InvalidInputError, match="record 2 does not fit"):
        list(csv_batches_from_records([{"A": "x"}, {"A": "y" * 100}], limits=Limits(max_bytes=30)))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
        (Decimal("1.10"), "1.10"),
        (Decimal("1E+3"), "1000"),
        (date(2026, 1, 31), "2026-01-31"),
        (datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=timezone.utc), "2026-01-31T12:00:00.123Z"),
        (
            datetime(2026, 1, 31, 12, 0, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-31T10:00:00.000Z",
        ),
        (datetime(2026, 1, 31, 12, 0), "2026-01-31T12:00:00.000Z"),
        (time(9, 30), "09:30:00.000Z"),
        ("#N/A", "#N/A"),
        ("  spaced  ", "  spaced  "),
    ],
)
def test_format_csv_value(value: object, text: str) -> None:
    assert format_csv_value(value) == text


@pytest.mark.parametrize(
    "value", [float("inf"), float("nan"), Decimal("NaN"), b"raw", [1], {"a": 1}, (1,), {1}]
)
def test_format_csv_value_refuses(value: object) -> None:
    with pytest.raises(InvalidInputError):
        format_csv_value(value)


def test_defaults_are_salesforce_limits() -> None:
    assert (MAX_BATCH_RECORDS, MAX_BATCH_BYTES, MAX_BATCH_CHARS) == (
        10_000,
        10_000_000,
        10_000_000,
    )
    # One Limits value carries the three; its defaults are one Bulk API 1.0 batch.
    assert BATCH_LIMITS == Limits() == Limits(10_000, 10_000_000, 10_000_000)
