"""Reading through ``spark.read.format("sfbulk")`` on a real local Spark.

Each run starts with a store key of its own, so the fake org's login counter
shows exactly what the run cost: one login for the driver and all executors.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql.types import (
    DoubleType,
    IntegerType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from spark_world import ACCOUNTS, CONTACTS, Org

from sfbulk_sdk.plans import plan_query
from sfbulk_sdk.spark import connection_from_options

SOQL = "SELECT Id, Name, AccountNumber, NumberOfEmployees, AnnualRevenue, CreatedDate FROM Account"


def test_reads_200000_accounts_once_each_in_parallel_with_one_login(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    before = fake_org.logins()
    df = spark.read.format("sfbulk").options(**options).option("soql", SOQL).load()

    assert df.schema == StructType(
        [
            StructField("Id", StringType(), True),
            StructField("Name", StringType(), True),
            StructField("AccountNumber", StringType(), True),
            StructField("NumberOfEmployees", IntegerType(), True),
            StructField("AnnualRevenue", DoubleType(), True),
            StructField("CreatedDate", TimestampType(), True),
        ]
    )
    rows = df.collect()
    assert df.rdd.getNumPartitions() >= 4
    assert len(rows) == ACCOUNTS
    assert len({row.Id for row in rows}) == ACCOUNTS
    assert {row.AccountNumber for row in rows} == {f"A-{i:06d}" for i in range(ACCOUNTS)}
    sample = next(row for row in rows if row.AccountNumber == "A-001234")
    assert sample.NumberOfEmployees == 1234
    assert sample.AnnualRevenue == 1234 * 10.5
    assert sample.CreatedDate is not None
    assert fake_org.logins() - before == 1


def test_bulk1_pk_chunks_become_partitions(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    before = fake_org.logins()
    df = (
        spark.read.format("sfbulk")
        .options(**options)
        .option("soql", "SELECT Id, LastName, Title FROM Contact")
        .option("api", "bulk1")
        .option("pkChunkSize", "5000")
        .load()
    )
    titles = [row.Title for row in df.collect()]
    assert df.rdd.getNumPartitions() == CONTACTS // 5000
    assert sorted(titles) == [f"C-{i:05d}" for i in range(CONTACTS)]
    assert fake_org.logins() - before == 1


def test_session_expired_mid_job_costs_one_more_login_across_executors(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    """The driver plans (login 1); the org then expires every session; four
    executors read eight pages at once, each finding the shared session
    rejected: one of them logs in again under the store's lock, the others
    take its session (login 2, and no more)."""
    before = fake_org.logins()
    connection = connection_from_options(options)
    with connection.connect() as client:
        plan = plan_query(
            client, connection, "SELECT Id, Title FROM Contact", page_records=CONTACTS // 8
        )
    assert len(plan.partitions) == 8
    assert fake_org.expire_sessions() >= 1

    df = spark.read.format("sfbulk").option("plan", plan.to_json()).load()
    titles = [row.Title for row in df.collect()]

    assert len(titles) == CONTACTS
    assert len(set(titles)) == CONTACTS
    assert fake_org.logins() - before == 2
