"""Options: an unknown or misspelled one is refused at ``load()`` / ``save()``, before any job.

Spark lower-cases option names on their way to the source; the errors still
name the options as the docs spell them, and never a secret's value.
"""

from __future__ import annotations

import pytest
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from spark_world import Org

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

SOQL = "SELECT Id FROM Account WHERE AccountNumber LIKE 'A-00000%'"


def _reader(spark: SparkSession, options: dict[str, str]) -> DataFrameReader:
    return spark.read.format("sfbulk").options(**options).option("soql", SOQL)


def _leads(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([("Option test", "Co")], "LastName string, Company string")


def _jobs(org: Org) -> int:
    return len(org.control.get("/_fake/bulk2/jobs").json()) + len(
        org.control.get("/_fake/jobs").json()
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("pageRecord", "500", "no option 'pagerecord'; did you mean 'pageRecords'?"),
        ("query_all", "true", "no option 'query_all'; did you mean 'queryAll'?"),
        ("pageRecords", "-5", "option 'pageRecords' must be a whole number from 1 to 1,000,000"),
        ("pkChunkSize", "500", "option 'pkChunkSize' is for api=bulk1"),
        ("api", "bulk3", "option 'api' must be one of bulk2, bulk1, not 'bulk3'"),
        ("object", "Lead", "option 'object' is for writes"),
    ],
)
def test_a_read_option_mistake_is_refused_at_load(
    spark: SparkSession,
    fake_org: Org,
    options: dict[str, str],
    name: str,
    value: str,
    message: str,
) -> None:
    before = _jobs(fake_org)
    with pytest.raises(PySparkException) as raised:
        _reader(spark, options).option(name, value).load()  # no action
    assert f"InvalidInputError: the sfbulk data source has {message}" in str(
        raised.value
    ) or f"InvalidInputError: {message}" in str(raised.value)
    assert _jobs(fake_org) == before


def test_with_a_user_schema_the_options_are_checked_before_any_job(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    """With ``.schema(...)`` Spark creates the source at the first action, not at
    ``load()``: the options are checked then, still before any request."""
    before = _jobs(fake_org)
    reader = _reader(spark, options).schema("Id string").option("api", "bulk1")
    loaded = reader.option("pkChunkSize", "0").load()
    with pytest.raises(PySparkException, match="option 'pkChunkSize' must be a whole number"):
        loaded.collect()
    assert _jobs(fake_org) == before


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("rowPerJob", "10", "no option 'rowperjob'; did you mean 'rowsPerJob'?"),
        ("operaton", "delete", "no option 'operaton'; did you mean 'operation'?"),
        ("rowsPerJob", "0", "option 'rowsPerJob' must be a whole number from 1 to 150,000,000"),
        ("pageRecords", "10", "option 'pageRecords' is for reads"),
    ],
)
def test_a_write_option_mistake_is_refused_before_any_job(
    spark: SparkSession,
    fake_org: Org,
    options: dict[str, str],
    name: str,
    value: str,
    message: str,
) -> None:
    before = _jobs(fake_org)
    leads = len(fake_org.records("Lead"))
    writer = _leads(spark).write.format("sfbulk").options(**options).option("object", "Lead")
    with pytest.raises(PySparkException) as raised:
        writer.option(name, value).mode("append").save()
    assert message in str(raised.value)
    assert _jobs(fake_org) == before
    assert len(fake_org.records("Lead")) == leads


@pytest.mark.parametrize("name", ["client_secret", "apiKey", "storePassword", "accessToken"])
def test_an_option_that_looks_like_a_secret_is_refused_without_its_value(
    spark: SparkSession, options: dict[str, str], name: str
) -> None:
    with pytest.raises(PySparkException) as raised:
        _reader(spark, options).option(name, "hunter2-value").load()
    message = str(raised.value)
    assert f"option {name.lower()!r} looks like a secret" in message
    assert "environment variable" in message
    assert "hunter2" not in message


def test_enum_options_are_case_insensitive(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    read = _reader(spark, options).option("api", "Bulk1").option("auth", "SOAP").load()
    assert read.count() == 10
    before = len(fake_org.records("Lead"))
    _leads(spark).write.format("sfbulk").options(**options).option("object", "Lead").option(
        "operation", "INSERT"
    ).option("auth", "Soap").mode("append").save()
    assert len(fake_org.records("Lead")) == before + 1
