"""Loads, queries and jobs through ``sfbulk`` against ``sfbulk fake-org`` over HTTPS."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN
from tests.cli.conftest import Cli, InProcess


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _session_ids(home: Path) -> list[str]:
    """Every session id the file store holds (to look for it in what sfbulk printed)."""
    found = []
    for path in (home / "sessions").glob("*"):
        if path.suffix in ("", ".json"):
            try:
                data = json.loads(path.read_text())
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("session", {}), dict):
                value = data.get("session", {}).get("session_id") or data.get("session_id")
                if value:
                    found.append(value)
    return found


def _insert(cli: Cli | InProcess, path: Path, tag: str) -> tuple[int, dict[str, object]]:
    """Four Accounts named ``<tag>Acme`` ... (one without a name: refused)."""
    path.write_text(
        f"Name,Industry\n{tag}Acme,Banking\n,Retail\n{tag}Beta,Energy\n{tag}Gamma,Energy\n"
    )
    done = cli(
        "insert", "Account", str(path), "--batch-size", "2",
        "--success-file", "ok.csv", "--error-file", "bad.csv", "--json",
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_login_insert_query_results_logout_as_processes(cli: Cli, tmp_path: Path) -> None:
    code, shown = cli.json("login")
    assert code == 0 and shown["logged_in"] is True and shown["auth"] == "soap"
    assert str(shown["instance_url"]).startswith("https://127.0.0.1:")
    profile = (cli.home / "profile.json").read_text()
    assert DEFAULT_PASSWORD not in profile and '"auth": "soap"' in profile

    code, load = _insert(cli, tmp_path / "accounts.csv", "P1")
    assert code == 1  # one row failed
    assert (load["rows"], load["succeeded"], load["failed"], load["api"]) == (4, 3, 1, "bulk1")
    assert load["failures"] == [
        {"row": 1, "id": None, "error": "REQUIRED_FIELD_MISSING:Required fields are missing: "
         "[Name]:Name --"}
    ]  # fmt: skip
    ok = _csv((cli.home / "ok.csv").read_text())
    assert [r["Name"] for r in ok] == ["P1Acme", "P1Beta", "P1Gamma"]
    assert all(r["sf__Id"].startswith("001") and r["sf__Created"] == "true" for r in ok)
    bad = _csv((cli.home / "bad.csv").read_text())
    assert [(r["Industry"], r["sf__Error"].split(":")[0]) for r in bad] == [
        ("Retail", "REQUIRED_FIELD_MISSING")
    ]
    job_id = str(load["jobs"][0])  # type: ignore[index]

    soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'P1%'"
    done = cli("--debug", "query", soql, "-o", "out.csv")  # debug logs: checked for secrets too
    assert done.returncode == 0, done.stderr
    assert "HTTP Request" in done.stderr
    rows = _csv((cli.home / "out.csv").read_text())
    assert sorted(r["Name"] for r in rows) == ["P1Acme", "P1Beta", "P1Gamma"]

    done = cli("job", "results", job_id, "-o", "-")
    assert done.returncode == 1  # the job had a failed row
    outcomes = _csv(done.stdout)
    assert [o["success"] for o in outcomes] == ["true", "false", "true", "true"]

    secrets = [DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, *_session_ids(cli.home)]
    assert len(secrets) == 3  # the stored session id was found, and is looked for below
    code, out = cli.json("logout")
    assert code == 0 and out["revoked"] is True and out["forgotten"] is True
    done = cli("query", "SELECT Id FROM Account")
    assert done.returncode == 3 and "not logged in" in done.stderr
    printed = "\n".join(cli.seen)
    for secret in secrets:
        assert secret not in printed


def test_stdin_loads_queries_and_jobs(inproc: InProcess, tmp_path: Path) -> None:
    cli = inproc
    assert cli("login").returncode == 0
    code, load = _insert(cli, tmp_path / "accounts.csv", "P2")
    assert code == 1
    job_id = str(load["jobs"][0])  # type: ignore[index]
    mine = "FROM Account WHERE Name LIKE 'P2%'"
    done = cli("query", f"SELECT Id, Name {mine} AND Industry = 'Energy'", "--format",
               "jsonl", "-o", "-", "--api", "bulk1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    energy = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(r["Name"] for r in energy) == ["P2Beta", "P2Gamma"]
    done = cli("query", f"SELECT Id {mine}", "--pk-chunking", "2", "-o", "c.csv", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["records"] == 3
    ids = {r["Name"][2:]: r["Id"] for r in energy}
    acme = _csv((tmp_path / "home" / "ok.csv").read_text())[0]["sf__Id"]

    update = f"Id,Industry\n{acme},Chemicals\n001000000000000AAA,Retail\n"
    done = cli("update", "Account", "-", "--api", "bulk2", "--json", input=update)
    assert done.returncode == 1
    assert (json.loads(done.stdout)["succeeded"], json.loads(done.stdout)["failed"]) == (1, 1)
    upsert = f"Id,Name\n{ids['Beta']},P2Beta Renamed\n"
    done = cli("upsert", "Account", "-", "--external-id", "Id", "--json", input=upsert)
    assert done.returncode == 0, done.stdout
    done = cli("delete", "Account", "-", "--serial", "--json", input=f"Id\n{ids['Gamma']}\n")
    assert done.returncode == 0 and json.loads(done.stdout)["succeeded"] == 1
    done = cli("query", f"SELECT Name, Industry {mine}", "-o", "-")
    assert sorted(done.stdout.splitlines()[1:]) == ["P2Acme,Chemicals", "P2Beta Renamed,Energy"]
    done = cli("hard-delete", "Account", "-", "--json", input=f"Id\n{acme}\n")
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["operation"] == "hardDelete"
    done = cli("query", f"SELECT Name {mine}", "--all", "-o", "-")
    assert "P2Acme" not in done.stdout and "P2Beta Renamed" in done.stdout
    assert "P2Gamma" in done.stdout  # deleted, in the recycle bin: only --all shows it

    done = cli("job", "list", "--json")
    assert done.returncode == 0
    listed = json.loads(done.stdout)["jobs"]
    assert [j["operation"] for j in listed] == [
        "insert", "update", "upsert", "delete", "hardDelete",
    ]  # fmt: skip
    done = cli("job", "status", job_id, "--json")
    status = json.loads(done.stdout)
    assert done.returncode == 0 and status["state"] == "Closed" and status["records_failed"] == 1
    done = cli("job", "wait", job_id, "--json")
    waited = json.loads(done.stdout)
    assert done.returncode == 1 and (waited["succeeded"], waited["failed"]) == (3, 1)
    bulk2_job = str(listed[1]["id"])
    done = cli("job", "status", bulk2_job, "--json")
    assert json.loads(done.stdout)["api"] == "bulk2" and json.loads(done.stdout)["state"] == (
        "JobComplete"
    )
    done = cli("job", "abort", job_id, "--json")  # Bulk 1.0 aborts a closed job too
    assert done.returncode == 0 and json.loads(done.stdout)["state"] == "Aborted"
    done = cli("job", "status", "750000000000000AAA")
    assert done.returncode == 4 and "no job 750000000000000AAA" in done.stderr


def test_stored_session_without_secrets_then_expired(inproc: InProcess) -> None:
    """After login the secrets may go: the stored session serves until it ends (exit 3)."""
    cli = inproc
    assert cli("login").returncode == 0
    bare = {"SFBULK_PASSWORD": "", "SFBULK_SECURITY_TOKEN": ""}
    done = cli("query", "SELECT Id FROM Account", "-o", "-", env=bare)
    assert done.returncode == 0, done.stderr
    assert cli("logout").returncode == 0
    done = cli("query", "SELECT Id FROM Account", env=bare)
    assert done.returncode == 3


def test_usage_errors_are_one_line(inproc: InProcess) -> None:
    cli = inproc
    for args, code, words in [
        (("insert", "Account", "missing.csv"), 2, "no such file: missing.csv"),
        (("upsert", "Account", "-"), 2, "upsert needs --external-id"),
        (("query", "SELECT Id FROM Account", "--format", "xml"), 2, "csv or jsonl"),
        (("frobnicate",), 2, "No such command"),
        (("insert", "Account"), 2, "Missing argument"),
        (("job", "status", "750000000000000AAA"), 3, "not logged in"),
    ]:
        done = cli(*args)
        assert done.returncode == code, (args, done.stderr)
        assert done.stderr.startswith("sfbulk: error: ") and done.stderr.count("\n") == 1, (
            done.stderr
        )
        assert words in done.stderr and "Traceback" not in done.stderr
