"""What a write sends for each value: nulls that clear, instants in UTC, no Python repr.

The Spark session runs in ``SPARK_TIME_ZONE`` (not UTC, see ``conftest``), so a
timestamp written from local wall-clock time would land hours off.
"""

from __future__ import annotations

import uuid

import pytest
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from spark_world import SPARK_TIME_ZONE, Org

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")


def _lead(org: Org, last_name: str) -> dict[str, object]:
    (lead,) = [r for r in org.records("Lead") if r.get("LastName") == last_name]
    return lead


@pytest.mark.parametrize("operation", ["update", "upsert"])
def test_a_null_clears_the_field_on_update_and_upsert(
    spark: SparkSession, fake_org: Org, options: dict[str, str], operation: str
) -> None:
    name = f"Null {operation} {uuid.uuid4().hex[:8]}"
    fake_org.control.post(
        "/_fake/records/Lead",
        json=[{"LastName": name, "Company": "Co", "Title": "Old title", "Description": "Kept"}],
    ).raise_for_status()
    lead_id = _lead(fake_org, name)["Id"]
    df = spark.createDataFrame([(lead_id, None, "")], "Id string, Title string, Description string")

    writer = df.write.format("sfbulk").options(**options).option("object", "Lead")
    writer = writer.option("operation", operation)
    if operation == "upsert":
        writer = writer.option("externalIdField", "Id")
    writer.mode("append").save()

    lead = _lead(fake_org, name)
    assert lead.get("Title") is None  # null: cleared
    assert lead.get("Description") == "Kept"  # empty string: left as it was


def test_timestamps_are_written_as_their_utc_instant_whatever_the_time_zone(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    assert spark.conf.get("spark.sql.session.timeZone") == SPARK_TIME_ZONE
    tag = uuid.uuid4().hex[:8]
    df = spark.sql(
        f"SELECT 'TZ {tag}' AS LastName, 'Co' AS Company,"
        " timestamp'2024-03-01 10:00:00.250' AS EmailBouncedDate"  # 10:00 New York
        f" UNION ALL SELECT 'NTZ {tag}', 'Co', timestamp_ntz'2024-07-01 10:00:00'"
    )
    assert dict(df.dtypes)["EmailBouncedDate"] == "timestamp"
    ntz = spark.sql(
        f"SELECT 'Wall {tag}' AS LastName, 'Co' AS Company,"
        " timestamp_ntz'2024-07-01 10:00:00' AS EmailBouncedDate"
    )
    assert dict(ntz.dtypes)["EmailBouncedDate"] == "timestamp_ntz"

    for frame in (df, ntz):
        frame.write.format("sfbulk").options(**options).option("object", "Lead").mode(
            "append"
        ).save()

    assert _lead(fake_org, f"TZ {tag}")["EmailBouncedDate"] == "2024-03-01T15:00:00.250Z"
    # (2024-07-01 10:00 New York, in summer time, is 14:00 UTC)
    assert _lead(fake_org, f"NTZ {tag}")["EmailBouncedDate"] == "2024-07-01T14:00:00.000Z"
    # A timestamp_ntz has no time zone: it is written as UTC, as the SDK writes a naive datetime.
    assert _lead(fake_org, f"Wall {tag}")["EmailBouncedDate"] == "2024-07-01T10:00:00.000Z"


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("named_struct('a', 1)", "struct<a:int>"),
        ("map('k', 'v')", "map<string,string>"),
        ("array('a', 'b')", "array<string>"),
        ("cast('abc' AS binary)", "binary"),
    ],
)
def test_a_column_no_csv_field_can_hold_is_refused_before_any_job(
    spark: SparkSession, fake_org: Org, options: dict[str, str], expression: str, shown: str
) -> None:
    before = len(fake_org.bulk2_jobs())
    df = spark.sql(f"SELECT 'Typed' AS Name, {expression} AS Description")

    with pytest.raises(PySparkException) as raised:
        df.write.format("sfbulk").options(**options).option("object", "Campaign").mode(
            "append"
        ).save()

    message = str(raised.value)
    assert f"InvalidInputError: column 'Description' is {shown}, which the sfbulk source" in (
        message
    )
    assert len(fake_org.bulk2_jobs()) == before
    assert not [r for r in fake_org.records("Campaign") if r.get("Name") == "Typed"]
