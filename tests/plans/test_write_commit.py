"""Committing a write plan on the fake org, no Spark: the summary, and the error carrying it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sfbulk_sdk import testing as fake
from sfbulk_sdk.errors import InvalidJobError
from sfbulk_sdk.plans import (
    AuthSpec,
    ConnectionSpec,
    StoreSpec,
    WriteCommitError,
    WriteFailedError,
    WritePlan,
    WriteSummary,
    commit_write,
    write_partition,
)
from tests.org_clients import org_bulk

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")


def _plan(tmp_path: Path, *, failed_rows: bool = True) -> WritePlan:
    connection = ConnectionSpec(
        AuthSpec("soap", "https://login.salesforce.com", username=fake.DEFAULT_USERNAME),
        StoreSpec(str(tmp_path / "sessions")),
    )
    return WritePlan(
        connection,
        "Campaign",
        "insert",
        ("Name", "Description"),
        rows_per_job=40,
        failed_rows_path=str(tmp_path / "failed") if failed_rows else None,
    )


def _rows(first: int, count: int) -> list[tuple[object, ...]]:
    # Every tenth campaign has no Name, which the org requires.
    return [(None if i % 10 == 0 else f"C {i}", f"K-{i}") for i in range(first, first + count)]


def test_a_clean_commit_returns_the_summary_of_every_job(tmp_path: Path) -> None:
    org = fake.FakeOrg()
    with org_bulk(org) as bulk:
        plan = _plan(tmp_path)
        rows = [(f"C {i}", f"K-{i}") for i in range(90)]
        task = write_partition(bulk, plan, 0, rows)
        summary = commit_write(bulk, plan, [task])
    assert isinstance(summary, WriteSummary)
    assert len(summary.job_ids) == 3 and (summary.processed, summary.failed) == (90, 0)
    assert summary.failing_jobs == ()
    assert [summary.details[job_id] for job_id in summary.job_ids] == [(40, 0), (40, 0), (10, 0)]


def test_failed_rows_raise_an_error_that_carries_the_load_summary(tmp_path: Path) -> None:
    org = fake.FakeOrg()
    with org_bulk(org) as bulk:
        plan = _plan(tmp_path)
        tasks = [write_partition(bulk, plan, 0, _rows(1, 45)), None]  # a task that failed
        tasks.append(write_partition(bulk, plan, 2, _rows(100, 30)))
        with pytest.raises(WriteFailedError) as raised:
            commit_write(bulk, plan, tasks)
    error = raised.value
    summary = error.summary
    assert len(summary.job_ids) == 3 and (summary.processed, summary.failed) == (75, 7)
    assert (error.processed, error.failed) == (75, 7)
    # Only the jobs with failed rows are named: jobs 1 and 3 (rows 10, 20, 30, 40; 100, 110, 120).
    assert error.job_ids == list(summary.failing_jobs) == [summary.job_ids[0], summary.job_ids[2]]
    assert summary.details[summary.job_ids[1]] == (5, 0)
    assert str(error).startswith("7 of 75 rows failed in Bulk 2.0 jobs ")
    assert all(job_id in str(error) for job_id in error.job_ids)
    assert error.failed_rows_path is not None and error.failed_rows_path in str(error)
    (written,) = Path(error.failed_rows_path).glob("failed-*.csv")
    with written.open(encoding="utf-8", newline="") as handle:
        failed = list(csv.DictReader(handle))
    assert sorted(row["Description"] for row in failed) == sorted(
        f"K-{i}" for i in (10, 20, 30, 40, 100, 110, 120)
    )
    assert {row["sf__Job"] for row in failed} == set(error.job_ids)


def test_without_a_failed_rows_path_the_error_says_where_nothing_went(tmp_path: Path) -> None:
    org = fake.FakeOrg()
    with org_bulk(org) as bulk:
        plan = _plan(tmp_path, failed_rows=False)
        task = write_partition(bulk, plan, 0, _rows(5, 10))
        with pytest.raises(WriteFailedError, match=r"^1 of 10 rows failed in Bulk 2\.0 jobs \w+$"):
            commit_write(bulk, plan, [task])


def test_a_commit_failing_partway_says_which_jobs_loaded_and_which_were_aborted(
    tmp_path: Path,
) -> None:
    """The second job's UploadComplete is refused: the first was started (its rows
    load, no rollback), the second and third are aborted unstarted; the error says so."""
    org = fake.FakeOrg()
    with org_bulk(org) as bulk:
        plan = _plan(tmp_path)
        task = write_partition(bulk, plan, 0, [(f"C {i}", f"K-{i}") for i in range(100)])
        first, second, third = task.job_ids
        org.inject_fault(
            f"/jobs/ingest/{second}/?$",
            method="PATCH",
            status=400,
            exception_code="INVALIDJOB",
            message="injected: job refused",
        )
        with pytest.raises(WriteCommitError) as raised:
            commit_write(bulk, plan, [task])
        states = {job_id: bulk.get_ingest_job(job_id).state for job_id in task.job_ids}
    error = raised.value
    assert error.started == {first: ("JobComplete", (40, 0))}
    assert error.aborted == (second, third)
    assert error.processed == 40
    assert isinstance(error.__cause__, InvalidJobError)
    message = str(error)
    assert "injected: job refused" in message
    assert f"started and not rolled back: {first} JobComplete (40 rows processed, 0 failed)" in (
        message
    )
    assert f"aborted unstarted, nothing loaded: {second}, {third}" in message
    assert "\n" not in message
    assert [s.value if s else None for s in states.values()] == [
        "JobComplete",
        "Aborted",
        "Aborted",
    ]
    assert org.count("Campaign") == 40


def test_nulls_are_sent_as_na_so_that_an_update_clears_the_field(tmp_path: Path) -> None:
    org = fake.FakeOrg()
    with org_bulk(org) as bulk:
        plan = _plan(tmp_path)
        summary = commit_write(bulk, plan, [write_partition(bulk, plan, 0, [("C 1", "old")])])
        (job_id,) = summary.job_ids
        (created,) = list(bulk.iter_ingest_results(job_id, "successful"))
        update = WritePlan(plan.connection, "Campaign", "update", ("Id", "Description"))
        task = write_partition(bulk, update, 0, [(created.id, None)])
        assert commit_write(bulk, update, [task]).processed == 1
    (row,) = org.records("Campaign")
    assert row.get("Description") is None
