"""The ``sfbulk`` Python data source (PySpark 4 ``pyspark.sql.datasource``).

Who does what:

* ``schema()`` (driver): the query's fields, typed by the object's ``describe``;
* ``partitions()`` (driver): :func:`~sfbulk_sdk.plans.plan_query` runs the query
  job and lists one partition per result page (Bulk 2.0) or PK-chunk result
  file (Bulk 1.0);
* ``read()`` (executors): each partition streamed by its own client;
* ``writer()`` (driver): the DataFrame's column types checked, before any job;
* ``write()`` (executors): each task's rows (Arrow batches, so timestamps keep
  their instant) into its own ``Open`` Bulk 2.0 jobs;
* ``commit()`` / ``abort()`` (driver): start and wait for the jobs of the tasks
  that succeeded, or abort them all (:mod:`sfbulk_sdk.plans.write`).

Every client is built from the plan's public settings and shares the session
through the store: one login for the whole job.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession
from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    DataSourceWriter,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import (
    BooleanType,
    ByteType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NullType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
    VarcharType,
)

from ..errors import InvalidInputError
from ..plans.columns import Column, match_columns
from ..plans.read import ReadPartition, ReadPlan, plan_columns, plan_query, read_partition
from ..plans.write import WritePlan, WriteTask, abort_write, commit_write, write_partition
from .options import check_options, connection_from_options, read_settings, write_plan_from_options

if TYPE_CHECKING:
    import pyarrow as pa

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
#: The Spark types a write sends (as text: numbers, booleans, dates, UTC instants).
_WRITABLE: tuple[type[DataType], ...] = (
    StringType,
    CharType,
    VarcharType,
    BooleanType,
    ByteType,
    ShortType,
    IntegerType,
    LongType,
    FloatType,
    DoubleType,
    DecimalType,
    DateType,
    TimestampType,
    TimestampNTZType,
    NullType,
)


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


def check_writable(schema: StructType) -> None:
    """Refuse a column a Bulk CSV field cannot hold (struct, map, array, binary...)."""
    for item in schema.fields:
        if not isinstance(item.dataType, _WRITABLE):
            raise InvalidInputError(
                f"column {item.name!r} is {item.dataType.simpleString()}, which the sfbulk "
                "source cannot write: it writes string, boolean, numeric, date and timestamp "
                "columns (cast the column, or turn it into text first, e.g. with to_json)"
            )


def _arrow_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[object, ...]]:
    """The rows of Arrow batches; a timestamp column as aware UTC datetimes.

    Arrow carries a ``timestamp`` as its instant, so nothing depends on the
    executor's or the session's time zone; a ``timestamp_ntz`` (no time zone)
    arrives naive and is written as UTC, as the SDK writes naive datetimes.
    """
    import pyarrow as pa

    for batch in batches:
        columns = []
        for column in batch.columns:
            kind = column.type
            if pa.types.is_timestamp(kind) and kind.tz is not None:
                column = column.cast(pa.timestamp(kind.unit, tz="UTC"))
            columns.append(column.to_pylist())
        yield from zip(*columns, strict=True)


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
            match_columns([c.name for c in plan.columns], self._columns)
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
        plan = replace(plan, columns=self._columns)
        # Each partition carries the plan without the list of all partitions.
        light = replace(plan, partitions=())
        return [_Partition(light, part) for part in plan.partitions]

    def read(self, partition: InputPartition | None) -> Iterator[tuple[object, ...]]:
        if partition is None or (
            not isinstance(partition, _Partition) and getattr(partition, "value", 0) is None
        ):
            return  # no partition planned (no row matched): Spark reads one, InputPartition(None)
        if not isinstance(partition, _Partition):
            raise InvalidInputError(f"not an sfbulk partition: {type(partition).__name__}")
        with partition.plan.connection.connect() as client:
            yield from read_partition(client, partition.plan, partition.part)


class _Commit(WriterCommitMessage):
    def __init__(self, task: WriteTask) -> None:
        self.task = task


class _Writer(DataSourceArrowWriter):
    def __init__(self, plan: WritePlan) -> None:
        self._plan = plan

    def write(self, iterator: Iterator[pa.RecordBatch]) -> WriterCommitMessage:
        from pyspark import TaskContext

        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        rows = _arrow_rows(iterator)
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

    def __init__(self, options: MutableMapping[str, str]) -> None:
        # Spark creates the source at load() and save(): the options are
        # checked then, before any request (see sfbulk_sdk.spark.options).
        super().__init__(options)
        check_options(options)

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
        check_writable(schema)
        plan = write_plan_from_options(dict(self.options), tuple(schema.fieldNames()))
        return _Writer(plan)
