"""Writing through ``df.write.format("sfbulk")`` on a real local Spark.

Every task opens its own Bulk 2.0 jobs and leaves them ``Open``; only the
driver's ``commit()`` starts the jobs of the tasks Spark kept. These tests show
what that buys: a retried task loads nothing twice, failed rows come back as
a file and an error naming the jobs, a failed write aborts its jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pyspark import TaskContext
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, concat, lit, udf
from pyspark.sql.types import StringType
from spark_world import Org

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

ROWS = 200_000
#: The row at which partition 1's first attempt fails (40,000 rows into it).
FAIL_AT = 90_000


def _leads(spark: SparkSession, rows: int) -> DataFrame:
    return spark.range(0, rows, numPartitions=4).select(
        concat(lit("Lead "), col("id").cast("string")).alias("LastName"),
        lit("Spark Inc").alias("Company"),
        concat(lit("L-"), col("id").cast("string")).alias("Title"),
    )


@udf(returnType=StringType())
def fail_first_attempt(title: str) -> str:
    """Fails partition 1's first attempt at row FAIL_AT; the retry goes through."""
    context = TaskContext.get()
    if (
        context is not None
        and context.attemptNumber() == 0
        and context.partitionId() == 1
        and title == f"L-{FAIL_AT}"
    ):
        raise RuntimeError("injected failure in partition 1, attempt 0")
    return title


def _jobs_since(org: Org, known: set[object]) -> list[dict[str, object]]:
    return [job for job in org.bulk2_jobs() if job["id"] not in known]


def test_writes_200000_rows_once_each_though_a_task_failed_and_was_retried(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    before = fake_org.logins()
    known = {job["id"] for job in fake_org.bulk2_jobs()}
    df = _leads(spark, ROWS).withColumn("Title", fail_first_attempt(col("Title")))

    (
        df.write.format("sfbulk")
        .options(**options)
        .option("object", "Lead")
        .option("operation", "insert")
        .option("rowsPerJob", "10000")
        .mode("append")
        .save()
    )

    titles = [str(r["Title"]) for r in fake_org.records("Lead") if str(r["Title"]).startswith("L-")]
    assert len(titles) == ROWS
    assert set(titles) == {f"L-{i}" for i in range(ROWS)}
    jobs = _jobs_since(fake_org, known)
    complete = [job for job in jobs if job["state"] == "JobComplete"]
    # 4 partitions x 5 jobs of 10,000 rows were committed and ran ...
    assert len(complete) == ROWS // 10_000
    assert sum(int(str(job["numberRecordsProcessed"])) for job in complete) == ROWS
    # ... and the failed attempt's jobs (opened, data uploaded, 40,000 rows at
    # most) were never started: still Open (its worker was killed) or aborted.
    never_started = [job for job in jobs if job["state"] != "JobComplete"]
    assert 1 <= len(never_started) <= 4
    assert {job["state"] for job in never_started} <= {"Open", "Aborted"}
    assert all(int(str(job.get("numberRecordsProcessed", 0))) == 0 for job in never_started)
    assert fake_org.logins() - before == 1


def test_failed_rows_raise_with_job_and_counts_and_land_in_a_readable_file(
    spark: SparkSession, fake_org: Org, options: dict[str, str], tmp_path: Path
) -> None:
    # Every tenth campaign has no Name, which the org requires.
    df = spark.range(0, 2_000, numPartitions=2).select(
        concat(lit("Campaign "), col("id").cast("string")).alias("Name"),
        concat(lit("K-"), col("id").cast("string")).alias("Description"),
        (col("id") % 10 == 0).alias("broken"),
    )
    df = df.selectExpr("CASE WHEN broken THEN NULL ELSE Name END AS Name", "Description")
    failed_dir = tmp_path / "failed"

    with pytest.raises(PySparkException) as raised:
        (
            df.write.format("sfbulk")
            .options(**options)
            .option("object", "Campaign")
            .option("failedRowsPath", str(failed_dir))
            .mode("append")
            .save()
        )

    message = str(raised.value)
    assert "FailedError: 200 of 2,000 rows failed in Bulk 2.0 jobs" in message
    jobs = [job for job in fake_org.bulk2_jobs() if job["object"] == "Campaign"]
    failing = [job for job in jobs if int(str(job["numberRecordsFailed"])) > 0]
    assert failing and all(str(job["id"]) in message for job in failing)
    failed = spark.read.option("header", True).csv(str(failed_dir))
    assert failed.count() == 200
    assert {row["Description"] for row in failed.collect()} == {
        f"K-{i}" for i in range(0, 2_000, 10)
    }
    assert all(row["sf__Error"] for row in failed.collect())
    assert len([r for r in fake_org.records("Campaign") if r.get("Name")]) == 1_800


def _fail_for_good(control_url: str) -> Callable[[str], str]:
    """Fails partition 3 in every attempt at its last row, once the three other
    partitions have opened their 30 jobs (so that their tasks have succeeded
    when the write is given up)."""

    @udf(returnType=StringType())
    def fail(name: str) -> str:
        if name != "Opportunity 3999":
            return name
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=control_url, timeout=30) as control:
            while time.monotonic() < deadline:
                jobs = control.get("/_fake/bulk2/jobs").json()
                if sum(job["object"] == "Opportunity" for job in jobs) >= 30:
                    break
                time.sleep(0.2)
        time.sleep(2)  # their last commit messages reach the driver
        raise RuntimeError("injected failure in every attempt of partition 3")

    return fail


def test_a_write_that_fails_for_good_aborts_every_job_it_opened(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    fail = _fail_for_good(fake_org.url)
    df = spark.range(0, 4_000, numPartitions=4).select(
        fail(concat(lit("Opportunity "), col("id").cast("string"))).alias("Name"),
        lit("Prospecting").alias("StageName"),
        lit("2027-01-31").cast("date").alias("CloseDate"),
    )

    with pytest.raises(PySparkException, match="injected failure"):
        (
            df.write.format("sfbulk")
            .options(**options)
            .option("object", "Opportunity")
            .option("rowsPerJob", "100")
            .mode("append")
            .save()
        )

    jobs = [job for job in fake_org.bulk2_jobs() if job["object"] == "Opportunity"]
    aborted = [job for job in jobs if job["state"] == "Aborted"]
    # abort() aborted the jobs of the three tasks that had succeeded; the
    # failing task's own jobs were aborted or left Open, never started.
    assert len(aborted) >= 30
    assert {job["state"] for job in jobs} <= {"Aborted", "Open"}
    assert all(int(str(job.get("numberRecordsProcessed", 0))) == 0 for job in jobs)
    assert fake_org.records("Opportunity") == []
