"""Bulk 2.0 ingest results read as blocks of rows into a load's columns.

:class:`ResultRows` is driven by hand (each ``ReadChunk`` answered with a
piece of the file, cut anywhere: inside a quoted value, inside a UTF-8
character); the sinks are fed blocks as the reader hands them over.
"""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfbulk_sdk.core import bulk2_outcomes
from sfbulk_sdk.core import flow as f
from sfbulk_sdk.core.bulk2_outcomes import JobRows, Joiner, ResultRows, appender, outcome_sink
from sfbulk_sdk.core.outcomes import LoadResult
from sfbulk_sdk.errors import ProtocolError

ID = "001" + "A" * 15


def _file(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def _read(reader: ResultRows, chunks: list[bytes]) -> int:
    """Run one read of ``reader`` over ``chunks`` (then the end of the body)."""
    flow = reader.read(httpx.Response(200, headers={"content-type": "text/csv"}))
    step = f.start(flow)
    for chunk in [*chunks, b""]:
        assert isinstance(step, f.ReadChunk), step
        step = f.resume(flow, f.Reply(chunk))
    assert isinstance(step, f.Done)
    return int(step.value)  # type: ignore[call-overload]


def _collector() -> tuple[list[tuple[list[str], list[list[str]]]], ResultRows]:
    taken: list[tuple[list[str], list[list[str]]]] = []
    return taken, ResultRows(lambda r: r, ",", lambda h, rows: taken.append((h, rows)))


def test_rows_are_whole_however_the_body_is_cut() -> None:
    rows = [[ID, "true", "Ünïcode name"], ["", "false", 'two\nlines, "quoted"']] * 3
    body = _file(["sf__Id", "sf__Created", "Name"], rows)
    for size in (1, 2, 3, 7, 64):
        taken, reader = _collector()
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        assert _read(reader, chunks) == len(rows)
        assert {tuple(h) for h, _ in taken} == {("sf__Id", "sf__Created", "Name")}
        assert [row for _, block in taken for row in block] == rows


def test_a_repeated_request_skips_the_rows_already_taken() -> None:
    body = _file(["sf__Id", "sf__Created"], [[f"id{n}", "true"] for n in range(5)])
    taken, reader = _collector()
    flow = reader.read(httpx.Response(200))
    step = f.start(flow)
    assert isinstance(step, f.ReadChunk)
    cut = body.index(b'"id2"')
    step = f.resume(flow, f.Reply(body[:cut]))
    with pytest.raises(ProtocolError, match="dropped"):  # the connection drops mid-file
        f.resume(flow, f.Reply(error=ProtocolError("dropped")))
    assert reader.delivered == 2
    assert _read(reader, [body]) == 5  # the file again, from the top
    assert [row[0] for _, block in taken for row in block] == [f"id{n}" for n in range(5)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'"sf__Id","sf__Created"\n"a"\n', "not as wide"),
        (b'"sf__Id"\n"\xff"\n', "not UTF-8"),
        (b"<html><body>sorry</body></html>\n", "markup"),
        (b'"sf__Id"\n"open\n', "inside a quoted value"),
        (b'"sf__Id"\n"a"b""\n', "malformed"),
    ],
)
def test_a_file_that_is_not_a_result_file_is_refused(body: bytes, message: str) -> None:
    _, reader = _collector()
    with pytest.raises(ProtocolError, match=message):
        _read(reader, [body])


def test_an_insert_takes_its_successes_a_block_at_a_time_in_arrival_order() -> None:
    result = LoadResult("insert", "Account", "bulk2", rows_known=False)
    first = result.grow(4)
    job = JobRows("750x", range(first, first + 3), [])  # rows 0-2; row 3 is another job's
    joiner = Joiner([job], None)
    sink = outcome_sink("successful", job, joiner, result, ["Name"], {}, "unused")
    header = ["sf__Id", "sf__Created", "Name"]
    sink(header, [[ID, "true", "a"], ["001" + "B" * 15, "false", "b"]])
    sink(header, [["001" + "C" * 15, "true", "c"], ["001" + "D" * 15, "true", "extra"]])
    assert result.ids() == [ID, "001" + "B" * 15, "001" + "C" * 15, None]  # no 4th row taken
    assert result.flags() == (b"\x01\x01\x01\x00", b"\x01\x00\x01\x00")
    assert result.unanswered() == [3]


def test_failures_are_joined_by_key_and_lock_failures_keep_their_values() -> None:
    result = LoadResult("update", "Account", "bulk2")
    result.grow(3)
    job = JobRows("750y", range(3), ["id0", "id1", "id2"])
    joiner = Joiner([job], "Id")
    locked: dict[int, list[str]] = {}
    failed = outcome_sink("failed", job, joiner, result, ["Id", "Name"], locked, "unused")
    header = ["sf__Id", "sf__Error", "Id", "Name"]
    failed(
        header, [["id2", "UNABLE_TO_LOCK_ROW:busy:", "id2", "c"], ["", "X:bad:Name", "id0", "a"]]
    )
    done = outcome_sink("successful", job, joiner, result, ["Id", "Name"], locked, "unused")
    done(["sf__Id", "sf__Created", "Id", "Name"], [["id1", "false", "id1", "b"]])
    assert [(o.success, [e.status_code for e in o.errors]) for o in result] == [
        (False, ["X"]),
        (True, []),
        (False, ["UNABLE_TO_LOCK_ROW"]),
    ]
    assert locked == {2: ["id2", "c"]}
    assert result.lock_failures() == [2]


def test_a_reattached_job_appends_its_rows_and_says_why_the_unprocessed_failed() -> None:
    result = LoadResult("insert", "Account", "bulk2", rows_known=False)
    appender("successful", result)(["sf__Id", "sf__Created"], [[ID, "true"]])
    appender("failed", result)(["sf__Id", "sf__Error"], [["", "E:no:"]])
    appender("unprocessed", result)(["Name"], [["z"]])
    assert [(o.id, o.success, o.error.split(":")[0]) for o in result] == [
        (ID, True, ""),
        (None, False, "E"),
        (None, False, "NOT_PROCESSED"),
    ]


def test_a_block_of_successes_pads_odd_ids_and_replaces_earlier_failures() -> None:
    result = LoadResult("upsert", "Account", "bulk2", size=3)
    result.record(1, "", False, False, "UNABLE_TO_LOCK_ROW:busy:")
    result.succeed_block(0, ["short", "x" * 20, ID], b"\x00\x01\x00")
    assert result.ids() == ["short", "x" * 18, ID]
    assert result.ok and result.failed_rows() == [] and result.created_count == 1
    with pytest.raises(ProtocolError):
        result.succeed_block(2, [ID, ID], b"\x01\x01")  # past the last row


_ECHO = st.text(alphabet=st.sampled_from(["a", ",", ";", '"', "\n", "\r", " ", "é"]), max_size=6)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.from_regex(r"001[A-Za-z0-9]{15}", fullmatch=True), st.booleans(), _ECHO),
        min_size=1,
        max_size=40,
    ),
    delimiter=st.sampled_from([",", ";", "|"]),
    end=st.sampled_from(["\n", "\r\n"]),
    quoting=st.sampled_from([csv.QUOTE_ALL, csv.QUOTE_MINIMAL]),
    size=st.integers(min_value=1, max_value=200),
)
def test_ids_and_flags_read_without_csv_are_what_csv_reads(
    rows: list[tuple[str, bool, str]], delimiter: str, end: str, quoting: int, size: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=end)
    writer.writerow(["sf__Id", "sf__Created", "Name"])
    if quoting == csv.QUOTE_MINIMAL and end == "\n":  # csv would leave a bare CR unquoted
        rows = [(i, c, name.replace("\r", "")) for i, c, name in rows]
    writer.writerows([(i, str(c).lower(), name) for i, c, name in rows])
    body = out.getvalue().encode("utf-8")
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    got = {lead: _pairs(chunks, delimiter, lead) for lead in (False, True)}
    assert got[True] == got[False] == [(i, str(c).lower()) for i, c, _ in rows]


def _pairs(chunks: list[bytes], delimiter: str, lead: bool) -> list[tuple[str, str]]:
    taken: list[tuple[str, str]] = []
    reader = ResultRows(
        lambda r: r, delimiter, lambda h, b: taken.extend((r[0], r[1]) for r in b), lead=lead
    )
    _read(reader, chunks)
    return taken


def test_a_file_as_salesforce_writes_it_is_read_without_csv_after_its_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [[f"001{n:015d}", "true", f"Account {n}", "x, y"] for n in range(3000)]
    body = _file(["sf__Id", "sf__Created", "Name", "Site"], rows)
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    calls: list[int] = []
    real = bulk2_outcomes._Rows._csv

    def counted(self: bulk2_outcomes._Rows, text: str) -> bulk2_outcomes.Rows:
        calls.append(len(text))
        return real(self, text)

    monkeypatch.setattr(bulk2_outcomes._Rows, "_csv", counted)
    assert _pairs(chunks, ",", lead=True) == [(r[0], r[1]) for r in rows]
    assert len(calls) == 1  # the first block only, which holds the header
    assert _pairs(chunks, ",", lead=False) == [(r[0], r[1]) for r in rows]
    assert len(calls) == 1 + len(chunks)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
@pytest.mark.parametrize(
    "echo",
    [
        '\n"001000000000000BBB","true",x',  # a continuation that looks like a record start
        '\n001000000000000BBB","true"',
        '",\n"001000000000000BBB","false"\n',
        "\n",
        '"\n"',
    ],
)
def test_a_value_spanning_lines_never_reads_as_a_record_of_its_own(echo: str, end: str) -> None:
    """The fast path counts one match of ``"id","flag"`` per line start; a value that
    spans lines, whatever it holds, must not add a record (csv's reading wins)."""
    rows = [("001000000000000AAA", "true", echo), ("001000000000000CCC", "false", "plain")]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=end)
    writer.writerow(["sf__Id", "sf__Created", "Name"])
    writer.writerows(rows)
    body = out.getvalue().encode("utf-8")
    for size in (7, 64, len(body)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        assert _pairs(chunks, ",", lead=True) == [(r[0], r[1]) for r in rows]


def test_a_key_joins_within_its_own_job_and_each_row_takes_one_result() -> None:
    first, second = (
        JobRows("750a", range(2), ["k1", "k2"]),
        JobRows("750b", range(2, 4), ["k1", "k3"]),
    )
    joiner = Joiner([first, second], "Id")
    header = ["sf__Id", "sf__Created", "Id"]
    # The second job's results read first: its k1 is its own row 2, not the first job's row 0.
    assert joiner.rows(second, header, [["x", "true", "k1"], ["y", "true", "k3"]]) == [2, 3]
    assert joiner.rows(first, header, [["z", "true", "k1"]]) == [0]
    # A key answered twice, or one the job never sent, joins no row.
    assert joiner.rows(first, header, [["z", "true", "k1"], ["w", "true", "k3"]]) == [None, None]
    assert joiner.rows(first, header, [["v", "true", "k2"]]) == [1]
