"""What the data commands write: query outputs, an empty result, pipes, ``job list --limit``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cli.conftest import SFBULK, Cli, InProcess

#: This checkout, first on the path of the ``sfbulk`` processes these tests start.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _one_line(done: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("sfbulk: error: ") and done.stderr.count("\n") == 1
    assert words in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_failed_query_leaves_the_output_file_as_it_was(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    out = cli.home / "out"
    out.mkdir()
    (out / "exists.csv").write_text("kept\n")
    done = cli("-q", "query", "SELECT Idd FROM Account", "-o", "out/exists.csv")
    assert done.returncode == 4, done.stderr
    assert (out / "exists.csv").read_text() == "kept\n"
    assert sorted(p.name for p in out.iterdir()) == ["exists.csv"]  # no temp file left
    done = cli("query", "SELECT Id FROM Account", "-o", "out/exists.csv")
    assert done.returncode == 0, done.stderr
    assert (out / "exists.csv").read_text().startswith("Id\n")
    assert sorted(p.name for p in out.iterdir()) == ["exists.csv"]
    _one_line(cli("query", "SELECT Id FROM Account", "-o", "out"), 2, "--output out is a directory")
    _one_line(cli("query", "SELECT Id FROM Account", "-o", "nope/x.csv"), 2, "no directory nope")


def test_an_empty_result_still_has_its_header(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    none = "FROM Contact WHERE LastName = 'no such contact'"
    for api in ("bulk1", "bulk2"):
        done = cli(
            "query", f"SELECT Id, LastName, Account.Name {none}", "--api", api, "-o", "z.csv"
        )
        assert done.returncode == 0, done.stderr
        assert (cli.home / "z.csv").read_text() == "Id,LastName,Account.Name\n"
    done = cli("query", f"SELECT Id {none}", "--format", "jsonl", "-o", "-")
    assert done.returncode == 0 and done.stdout == ""


def test_job_list_limit_is_at_least_one(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    for name in ("LIM-A", "LIM-B"):
        assert cli("insert", "Account", "-", input=f"Name\n{name}\n").returncode == 0
    for limit in ("0", "-1"):
        _one_line(cli("job", "list", "--limit", limit), 2, "--limit")
    done = cli("job", "list", "--limit", "1", "--json")
    assert done.returncode == 0 and len(json.loads(done.stdout)["jobs"]) == 1


def _closed_pipe() -> int:
    """The write end of a pipe whose read end is already closed (``| head`` gone)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_a_broken_pipe_ends_quietly_and_a_closed_stdout_is_one_line(
    cli: Cli, inproc: InProcess
) -> None:
    assert inproc("login").returncode == 0
    done = inproc("insert", "Account", "-", "--json", input="Name\nPIPE-A\n")
    job_id = json.loads(done.stdout)["jobs"][0]
    env = {**cli.env, "PYTHONPATH": str(ROOT)}
    for args in (
        ("query", "SELECT Id, Name FROM Account"),
        ("job", "results", job_id),
        ("job", "status", job_id, "--json"),
    ):
        write_end = _closed_pipe()
        try:
            done = subprocess.run([*SFBULK, *args], stdout=write_end, stderr=subprocess.PIPE,
                                  text=True, env=env, cwd=cli.home, timeout=120)  # fmt: skip
        finally:
            os.close(write_end)
        assert (done.returncode, done.stderr) == (141, ""), (args, done.stderr)
    for args in (("query", "SELECT Id FROM Account"), ("job", "status", job_id, "--json")):
        done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *SFBULK, *args],
                              capture_output=True, text=True, env=env, cwd=cli.home,
                              timeout=120)  # fmt: skip
        _one_line(done, 2, "standard output is closed")


def test_the_summary_shows_file_names_as_typed_not_as_markup(inproc: InProcess) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    done = cli("query", "SELECT Id FROM Account", "-o", "[red]x.csv")
    assert done.returncode == 0, done.stderr
    assert (cli.home / "[red]x.csv").is_file() and "[red]x.csv" in done.stderr


def test_unusable_output_and_ca_files_are_named(inproc: InProcess, tmp_path: Path) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    # /proc takes no new file, not even from root: the output's temp file cannot be made
    done = cli("query", "SELECT Id FROM Account", "-o", "/proc/sfbulk-out.csv")
    _one_line(done, 2, "--output /proc/sfbulk-out.csv cannot be written")
    not_pem = tmp_path / "hostname"
    not_pem.write_text("not a certificate\n")
    done = cli("query", "SELECT Id FROM Account", env={"SFBULK_CA_FILE": str(not_pem)})
    _one_line(done, 2, f"--ca-file {not_pem} holds no usable certificate")
