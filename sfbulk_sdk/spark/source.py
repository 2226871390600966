"""The ``sfbulk`` Python data source (PySpark 4 ``pyspark.sql.datasource``).

Who does what:

* ``schema()`` (driver): the query's fields, typed by the object's ``describe``;
* ``partitions()`` (driver): :func:`~sfbulk_sdk.plans.plan_query` runs the query
  job and lists one partition per result page (Bulk 2.0) or PK-chunk result
  file (Bulk 1.0);
* ``read()`` (executors): each partition streamed by its own client;
* ``write()`` (executors): each task's rows into its own ``Open`` Bulk 2.0 jobs;
* ``commit()`` / ``abort()`` (driver): start and wait for the jobs of the tasks
  that succeeded, or abort them all (:mod:`sfbulk_sdk.plans.write`).

Every client is built from the plan's public settings and shares the session
through the store: one login for the whole job.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from pyspark.sql import SparkSession
from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceWriter,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    Row,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from ..errors import InvalidInputError
from ..plans.columns import Column
from ..plans.read import ReadPartition, ReadPlan, plan_columns, plan_query, read_partition
from ..plans.write import WritePlan, WriteTask, abort_write, commit_write, write_partition
from .options import connection_from_options, read_settings, write_plan_from_options

__all__ = ["SfBulkDataSource", "register"]

_SPARK_TYPES: dict[str, DataType] = {
    "string": StringType(),
    "boolean": BooleanType(),
    "int": IntegerType(),
    "bigint": LongType(),
    "double": DoubleType(),
    "date": DateType(),
    "timestamp": TimestampType(),
}
_COLUMN_TYPES = {type(v): k for k, v in _SPARK_TYPES.items()}


def register(spark: SparkSession) -> None:
    """Make ``spark.read.format("sfbulk")`` and ``df.write.format("sfbulk")`` available."""
    spark.dataSource.register(SfBulkDataSource)


def spark_schema(columns: Sequence[Column]) -> StructType:
    """The Spark schema of a plan's columns."""
    return StructType([StructField(c.name, _SPARK_TYPES[c.type], True) for c in columns])


def columns_of(schema: StructType) -> tuple[Column, ...]:
    """The plan columns of a Spark schema (only the types a plan can carry)."""
    columns = []
    for item in schema.fields:
        kind = _COLUMN_TYPES.get(type(item.dataType))
        if kind is None:
            raise InvalidInputError(
                f"column {item.name!r} is {item.dataType.simpleString()}; the sfbulk source "
                f"reads {sorted(_SPARK_TYPES)}"
            )
        columns.append(Column(item.name, kind))
    return tuple(columns)


class _Partition(InputPartition):
    """A read partition, carrying its whole (secret-free) plan to the executor."""

    def __init__(self, plan: ReadPlan, part: ReadPartition) -> None:
        super().__init__(part.index)
        self.plan = plan
        self.part = part


class _Reader(DataSourceReader):
    def __init__(self, options: dict[str, str], columns: tuple[Column, ...]) -> None:
        self._options = options
        self._columns = columns

    def partitions(self) -> Sequence[InputPartition]:
        settings = read_settings(self._options)
        if settings.plan is not None:
            plan = ReadPlan.from_json(settings.plan)
        else:
            assert settings.soql is not None
            connection = connection_from_options(self._options)
            with connection.connect() as client:
                plan = plan_query(
                    client,
                    connection,
                    settings.soql,
                    api=settings.api,
                    page_records=settings.page_records,
                    pk_chunk_size=settings.pk_chunk_size,
                    query_all=settings.query_all,
                    columns=self._columns,
                )
        if [c.name for c in plan.columns] != [c.name for c in self._columns]:
            raise InvalidInputError("the schema's columns differ from the plan's")
        plan = replace(plan, columns=self._columns)
        # Each partition carries the plan without the list of all partitions.
        light = replace(plan, partitions=())
        return [_Partition(light, part) for part in plan.partitions]

    def read(self, partition: InputPartition) -> Iterator[tuple[object, ...]]:
        assert isinstance(partition, _Partition)
        with partition.plan.connection.connect() as client:
            yield from read_partition(client, partition.plan, partition.part)


class _Commit(WriterCommitMessage):
    def __init__(self, task: WriteTask) -> None:
        self.task = task


class _Writer(DataSourceWriter):
    def __init__(self, plan: WritePlan) -> None:
        self._plan = plan

    def write(self, iterator: Iterator[Row]) -> WriterCommitMessage:
        from pyspark import TaskContext

        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        rows = (tuple(row) for row in iterator)
        with self._plan.connection.connect() as client:
            return _Commit(write_partition(client, self._plan, partition, rows))

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        tasks = [m.task for m in messages if isinstance(m, _Commit)]
        with self._plan.connection.connect() as client:
            commit_write(client, self._plan, tasks)

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        tasks = [m.task for m in messages if isinstance(m, _Commit)]
        with self._plan.connection.connect() as client:
            abort_write(client, tasks)


class SfBulkDataSource(DataSource):
    """The ``sfbulk`` data source: options as :mod:`sfbulk_sdk.spark.options` reads them."""

    @classmethod
    def name(cls) -> str:
        return "sfbulk"

    def schema(self) -> StructType:
        options = dict(self.options)
        settings = read_settings(options)
        if settings.plan is not None:
            return spark_schema(ReadPlan.from_json(settings.plan).columns)
        assert settings.soql is not None
        with connection_from_options(options).connect() as client:
            return spark_schema(plan_columns(client, settings.soql))

    def reader(self, schema: StructType) -> DataSourceReader:
        return _Reader(dict(self.options), columns_of(schema))

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        if overwrite:
            raise InvalidInputError(
                "the sfbulk data source appends (insert, update, upsert, delete): use "
                "mode('append'); it never deletes what is already in the org"
            )
        plan = write_plan_from_options(dict(self.options), tuple(schema.fieldNames()))
        return _Writer(plan)
