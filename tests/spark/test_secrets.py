"""No secret in a plan's serialised form, in Spark's event log or in its output.

The secrets are the org password and security token (environment variables
on the driver and executors) and the session id the run shared (read from the
Redis store). The event log and the console output (the JVM's log and every
executor Python worker's output, see ``conftest._output_to``) are read after
a read and a write of this test's own; each is first shown to hold the run
(the SOQL, the object), so the check looks where the secrets would be.
"""

from __future__ import annotations

import json
import pickle

import pytest
from pyspark.sql import SparkSession
from spark_world import Org, SparkDirs

from sfbulk_sdk.errors import InvalidInputError
from sfbulk_sdk.plans import plan_query
from sfbulk_sdk.spark import connection_from_options, write_plan_from_options
from sfbulk_sdk.spark.source import SfBulkDataSource
from sfbulk_sdk.testing import DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")

SOQL = "SELECT Id, Name, Title FROM Contact WHERE Title LIKE 'C-001%'"


def _session_id(options: dict[str, str]) -> str:
    with connection_from_options(options).connect() as client:
        session = client._driver._manager().get()  # from the store: no login
        return session.session_id.get_secret_value()


def _secrets(options: dict[str, str]) -> list[str]:
    return [DEFAULT_PASSWORD, DEFAULT_SECURITY_TOKEN, _session_id(options)]


def test_plans_serialise_without_a_secret(
    spark: SparkSession, fake_org: Org, options: dict[str, str]
) -> None:
    connection = connection_from_options(options)
    with connection.connect() as client:
        plan = plan_query(client, connection, SOQL, page_records=10)
    write = write_plan_from_options({**options, "object": "Lead"}, ("LastName", "Company"))
    reader = SfBulkDataSource({**options, "soql": SOQL}).reader(
        SfBulkDataSource({**options, "soql": SOQL}).schema()
    )
    forms = {
        "read plan json": plan.to_json().encode(),
        "read plan pickle": pickle.dumps(plan),
        "write plan json": write.to_json().encode(),
        "write plan pickle": pickle.dumps(write),
        "spark partitions": pickle.dumps(list(reader.partitions())),
    }
    assert len(plan.partitions) == 10
    assert json.loads(plan.to_json())["connection"]["auth"]["username"] == options["username"]
    for secret in _secrets(options):
        for name, form in forms.items():
            assert secret.encode() not in form, f"a secret is in the {name}"


@pytest.mark.parametrize("option", ["password", "securityToken", "clientSecret", "sessionId"])
def test_a_secret_given_as_an_option_is_refused(option: str, options: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError, match="environment"):
        connection_from_options({**options, option: "hunter2"})


def test_a_store_address_with_a_password_is_refused(options: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError, match="SFBULK_STORE_PASSWORD"):
        connection_from_options({**options, "store": "redis://:hunter2@127.0.0.1:6379/0"})


def test_no_secret_in_the_event_log_or_the_executor_output(
    spark: SparkSession, fake_org: Org, options: dict[str, str], spark_dirs: SparkDirs
) -> None:
    rows = spark.read.format("sfbulk").options(**options).option("soql", SOQL).load().collect()
    assert len(rows) == 100
    leads = spark.createDataFrame(
        [("Secret Test", "Nowhere Ltd")], "LastName string, Company string"
    )
    leads.write.format("sfbulk").options(**options).option("object", "Lead").mode("append").save()

    events = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in spark_dirs.events.rglob("*")
        if path.is_file()
    )
    output = spark_dirs.output.read_text(encoding="utf-8", errors="replace")
    # The log holds the run: its SQL executions (plans) and its tasks.
    assert "SparkListenerSQLExecutionStart" in events
    assert "SparkListenerTaskEnd" in events
    assert output  # the JVM and the workers wrote there
    for secret in _secrets(options):
        assert secret not in events
        assert secret not in output
