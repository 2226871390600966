"""The CSV a load reads and the reports it writes: blank lines, encodings, sizes, paths, pipes."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from pathlib import Path

import pytest

from sfbulk_sdk.cli import data
from tests.cli.conftest import Cli, InProcess

#: This checkout, first on the path of the ``sfbulk`` processes these tests start.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _one_line(done: object, code: int, *words: str) -> str:
    err = str(getattr(done, "stderr", ""))
    assert getattr(done, "returncode", None) == code, err
    assert err.startswith("sfbulk: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "unexpected" not in err, err
    for word in words:
        assert word in err, err
    return err


def _names(cli: InProcess, tag: str) -> dict[str, str]:
    """Name -> Id of the Accounts whose name starts with ``tag``."""
    done = cli("query", f"SELECT Id, Name FROM Account WHERE Name LIKE '{tag}%'", "-o", "-")
    assert done.returncode == 0, done.stderr
    return {r["Name"]: r["Id"] for r in _csv(done.stdout)}


def test_a_blank_line_does_not_shift_the_report_rows(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    reports = ("--error-file", "e.csv", "--success-file", "s.csv")
    (cli.home / "f.csv").write_text(
        "Name,NumberOfEmployees\n\nBLK-A,1\n\nBLK-B,notanumber\nBLK-C,3\n\n"
    )
    done = cli("insert", "Account", "f.csv", *reports)
    assert done.returncode == 1, done.stderr
    bad = _csv((cli.home / "e.csv").read_text())
    assert [list(r.values())[:2] for r in bad] == [["BLK-B", "notanumber"]]
    assert bad[0]["sf__Error"].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD")
    ok = _csv((cli.home / "s.csv").read_text())
    assert [r["Name"] for r in ok] == ["BLK-A", "BLK-C"]
    ids = _names(cli, "BLK-")
    assert {r["Name"]: r["sf__Id"] for r in ok} == ids  # each row has its own record's id

    # a Bulk 2.0 update pairs its rows with their outcomes in the same way
    (cli.home / "f.csv").write_text(
        f"Id,NumberOfEmployees\n{ids['BLK-A']},5\n\n\n{ids['BLK-C']},x\n"
    )
    done = cli("update", "Account", "f.csv", "--api", "bulk2", *reports)
    assert done.returncode == 1, done.stderr
    ok = _csv((cli.home / "s.csv").read_text())
    bad = _csv((cli.home / "e.csv").read_text())
    assert [(r["Id"], r["NumberOfEmployees"], r["sf__Id"]) for r in ok] == [
        (ids["BLK-A"], "5", ids["BLK-A"])
    ]
    assert [(r["Id"], r["NumberOfEmployees"]) for r in bad] == [(ids["BLK-C"], "x")]


def test_report_paths_are_checked_before_anything_is_sent(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    (cli.home / "f.csv").write_text("Name\nRPT-A\n")
    (cli.home / "adir").mkdir()
    for option, target, words in [
        ("--error-file", "adir", "--error-file adir is a directory"),
        ("--success-file", "missing/s.csv", "no directory missing"),
        ("--success-file", "f.csv", "is the input file"),
    ]:
        done = cli("insert", "Account", "f.csv", option, target)
        _one_line(done, 2, words)
    history = cli.home / "jobs.jsonl"
    history.mkdir()  # the job history cannot be appended to
    _one_line(cli("insert", "Account", "f.csv"), 2, "jobs.jsonl cannot be written")
    history.rmdir()
    assert _names(cli, "RPT-") == {}  # nothing was loaded
    assert not history.exists()


def test_a_report_not_written_after_the_load_names_the_jobs(
    inproc: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    (cli.home / "f.csv").write_text("Name\nLATE-A\nLATE-B\n")

    def disk_full(name: str, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data.files, "write_text", disk_full)
    done = cli("insert", "Account", "f.csv", "--error-file", "e.csv", "--json")
    err = _one_line(done, 6, "the load itself completed", "2 rows, 2 succeeded, 0 failed")
    assert "--error-file e.csv was not written: No space left on device" in err
    shown = json.loads(done.stdout)
    assert str(shown["jobs"][0]) in err and shown["succeeded"] == 2
    assert sorted(_names(cli, "LATE-")) == ["LATE-A", "LATE-B"]
    history = (cli.home / "jobs.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in history] == shown["jobs"]  # still remembered


def test_bad_input_is_one_usage_line_naming_the_file(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    (cli.home / "latin1.csv").write_bytes(b"Name,Phone\nCaf\xe9,1\n")
    _one_line(cli("insert", "Account", "latin1.csv"), 2, "latin1.csv", "not valid utf-8", "byte 14")
    (cli.home / "long.csv").write_text("Name,Description\nLONG-A,short\nLONG-B," + "x" * 131_073)
    _one_line(cli("insert", "Account", "long.csv"), 2, "long.csv", "CSV record 2 (line 3)", "131")
    (cli.home / "adir").mkdir()
    _one_line(cli("insert", "Account", "adir"), 2, "adir is a directory")
    done = cli("insert", "Account", "-", input="")
    err = _one_line(done, 2, "stdin is empty")
    assert "sfbulk-" not in err and "input.csv" not in err  # no internal temp file named
    _one_line(cli("insert", "Account", "-", input="Name\n\n"), 2, "stdin has a CSV header but no")
    assert _names(cli, "LONG-") == {} and _names(cli, "Caf") == {}


def test_a_named_pipe_is_read_like_stdin(inproc: InProcess, tmp_path: Path) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as handle:  # blocks until sfbulk opens the pipe
            handle.write("Name\nFIFO-A\nFIFO-B\n")

    writer = threading.Thread(target=feed)
    writer.start()
    done = cli("insert", "Account", str(fifo), "--json")
    if writer.is_alive():  # the pipe was never opened: open it, so that the writer ends
        fifo.read_bytes()
    writer.join()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["succeeded"] == 2
    assert sorted(_names(cli, "FIFO-")) == ["FIFO-A", "FIFO-B"]


def test_dev_stdin_is_read_by_a_process(cli: Cli, inproc: InProcess) -> None:
    assert inproc("login").returncode == 0
    mine = {"PYTHONPATH": str(ROOT)}
    done = cli("insert", "Account", "/dev/stdin", "--json", input="Name\nDEV-A\n", env=mine)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["succeeded"] == 1
    assert list(_names(inproc, "DEV-")) == ["DEV-A"]
