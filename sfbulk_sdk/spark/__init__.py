"""``sfbulk``: a Spark data source over the Bulk API, one login for the whole cluster.

Needs the ``spark`` extra (``pip install 'sfbulk-sdk[spark]'``: PySpark 4 and
pyarrow). Register it once per Spark session, then read and write::

    from sfbulk_sdk.spark import register

    register(spark)
    df = (spark.read.format("sfbulk")
          .option("soql", "SELECT Id, Name FROM Account")
          .option("loginUrl", "https://login.salesforce.com")
          .option("username", "etl@example.com")
          .option("store", "redis://sessions.internal:6379/0")
          .load())

Secrets never go in options: they are read from environment variables on the
driver and on every executor (``SFBULK_PASSWORD``, ``SFBULK_SECURITY_TOKEN``,
``SFBULK_CLIENT_SECRET``, ``SFBULK_STORE_PASSWORD``; the ``*Env`` options
rename them). See the "Scale out with Spark" page of the docs.
"""

from __future__ import annotations

from ..stores._common import missing_extra

with missing_extra(__name__, "pyspark", "spark"):
    import pyspark.sql.datasource  # noqa: F401 - the extra's presence, checked once

from .options import connection_from_options, read_settings, write_plan_from_options
from .source import SfBulkDataSource, register

__all__ = [
    "SfBulkDataSource",
    "connection_from_options",
    "read_settings",
    "register",
    "write_plan_from_options",
]
