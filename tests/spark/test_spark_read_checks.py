"""Reads that used to answer silently wrong: a schema unlike the query, no row at all."""

from __future__ import annotations

import pytest
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from spark_world import Org

from sfbulk_sdk.plans import plan_query
from sfbulk_sdk.spark import connection_from_options

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

ONE = "SELECT Id, Name FROM Account WHERE AccountNumber = 'A-000001'"


def _read(spark: SparkSession, options: dict[str, str], soql: str, schema: str) -> DataFrame:
    reader = spark.read.format("sfbulk").options(**options).option("soql", soql)
    return reader.schema(schema).load()


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ("Id string, Nmae string", "missing Name (selected by the query); extra Nmae (not sel"),
        ("Id string, Name string, Phone string", "extra Phone (not selected by the query)"),
        ("Id string", "missing Name (selected by the query)"),
        ("Id string, Name string, name string", "given twice name"),
    ],
)
def test_a_schema_unlike_the_query_is_refused_naming_the_fields(
    spark: SparkSession, fake_org: Org, options: dict[str, str], schema: str, problem: str
) -> None:
    before = len(fake_org.control.get("/_fake/bulk2/jobs").json())
    with pytest.raises(PySparkException) as raised:
        _read(spark, options, ONE, schema).collect()
    message = str(raised.value)
    assert "InvalidInputError: the schema's columns are not the query's fields: " in message
    assert problem in message
    assert len(fake_org.control.get("/_fake/bulk2/jobs").json()) == before  # no query job


def test_field_names_match_whatever_their_case(
    spark: SparkSession, options: dict[str, str]
) -> None:
    """Salesforce field names are case-insensitive: the results (under ``Id``,
    ``Name``) fill the columns however the schema or the SOQL spell them."""
    given = _read(spark, options, ONE, "name string, ID string").collect()
    assert [tuple(row) for row in given] == [("Account 1", given[0].ID)]
    assert given[0].ID and given[0].ID.startswith("001")

    soql = "SELECT id, NAME FROM Account WHERE AccountNumber = 'A-000001'"
    inferred = spark.read.format("sfbulk").options(**options).option("soql", soql).load()
    assert inferred.columns == ["id", "NAME"]
    assert [tuple(row) for row in inferred.collect()] == [(given[0].ID, "Account 1")]


def test_a_plan_read_refuses_a_schema_unlike_its_columns(
    spark: SparkSession, options: dict[str, str]
) -> None:
    connection = connection_from_options(options)
    with connection.connect() as client:
        plan = plan_query(client, connection, ONE)
    reader = spark.read.format("sfbulk").option("plan", plan.to_json())
    with pytest.raises(PySparkException, match="extra Nmae"):
        reader.schema("Id string, Nmae string").load().collect()
    assert reader.schema("NAME string, id string").load().collect()[0].NAME == "Account 1"


@pytest.mark.parametrize("api", ["bulk2", "bulk1"])
def test_a_query_matching_no_row_reads_as_an_empty_dataframe(
    spark: SparkSession, options: dict[str, str], api: str
) -> None:
    soql = "SELECT Id, Name FROM Account WHERE Name = 'no such account'"
    df = spark.read.format("sfbulk").options(**options).option("soql", soql).option("api", api)
    loaded = df.load()
    assert loaded.columns == ["Id", "Name"]
    assert loaded.collect() == []
    assert loaded.count() == 0
