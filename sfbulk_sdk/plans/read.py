"""Read plans: a query as a list of independent, serialisable partitions.

The driver runs :func:`plan_query`: it starts the query job, waits for it and
lists its results, one :class:`ReadPartition` per piece:

* **Bulk 2.0** (``api="bulk2"``, the default): one partition per result page
  that ``GET jobs/query/{id}/resultPages`` (API 58.0+) lists, ``page_records``
  rows each (the last one fewer);
* **Bulk 1.0 PK chunking** (``api="bulk1"``): the job splits itself into one
  batch per ``pk_chunk_size`` Id range; one partition per result file of
  each finished batch.

Any worker then runs :func:`read_partition` on its partition with a client it
opened from the plan's :class:`~sfbulk_sdk.plans.ConnectionSpec`: one streamed
GET per partition, records converted to the plan's column types. A partition
can be read again (a retried task): result pages and files stay readable for
as long as the job exists (7 days).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Literal, cast

from ..core import bulk2, flow, states
from ..core.bulk1 import PkChunking
from ..core.decoders import QueryRecord
from ..errors import InvalidInputError, ProtocolError
from ..models.bulk2 import ColumnDelimiter
from ..models.enums import ContentType, Operation
from .columns import (
    Column,
    columns_for,
    describe_types,
    match_columns,
    query_fields,
    query_object,
    rows_converter,
)
from .connection import ConnectionSpec

if TYPE_CHECKING:
    from ..client import Bulk

__all__ = ["ReadApi", "ReadPartition", "ReadPlan", "plan_query", "read_partition"]

ReadApi = Literal["bulk2", "bulk1"]


@dataclass(frozen=True)
class ReadPartition:
    """One piece of a query's results that a worker reads alone.

    ``kind`` ``bulk2_page``: ``path`` is the page URL ``/resultPages`` gave.
    ``kind`` ``bulk1_result``: the result file ``result_id`` of batch ``batch_id``.
    """

    index: int
    kind: Literal["bulk2_page", "bulk1_result"]
    job_id: str
    api_version: str | None
    path: str | None = None
    batch_id: str | None = None
    result_id: str | None = None
    delimiter: str = ","


@dataclass(frozen=True)
class ReadPlan:
    """A planned query: the connection, the columns and the partitions (no secret)."""

    connection: ConnectionSpec
    soql: str
    api: ReadApi
    job_id: str
    columns: tuple[Column, ...]
    partitions: tuple[ReadPartition, ...]

    def to_json(self) -> str:
        """The plan as JSON, for another process or a later run."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ReadPlan:
        """The plan :meth:`to_json` wrote."""
        try:
            data = json.loads(text)
            return cls(
                connection=ConnectionSpec.from_dict(data["connection"]),
                soql=str(data["soql"]),
                api=data["api"],
                job_id=str(data["job_id"]),
                columns=tuple(Column(**c) for c in data["columns"]),
                partitions=tuple(ReadPartition(**p) for p in data["partitions"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(f"not a read plan: {exc}") from None


def _check_size(value: int, name: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidInputError(f"{name} must be a whole number from 1 to {most:,}, not {value!r}")
    return value


def _job_id(value: str | None) -> str:
    if not value:
        raise ProtocolError("Salesforce answered a job creation without the job's id")
    return value


def plan_columns(
    client: Bulk, soql: str, columns: tuple[Column, ...] | None = None
) -> tuple[Column, ...]:
    """The given columns (checked against the query's fields, see
    :func:`~sfbulk_sdk.plans.columns.match_columns`), or the query's fields typed
    by the object's ``describe``."""
    fields = query_fields(soql)
    if columns is not None:
        return match_columns(fields, columns)
    types = client._call(describe_types(query_object(soql)))
    return columns_for(fields, types)


def plan_query(
    client: Bulk,
    connection: ConnectionSpec,
    soql: str,
    *,
    api: ReadApi = "bulk2",
    page_records: int = 50_000,
    pk_chunk_size: int = 100_000,
    query_all: bool = False,
    columns: tuple[Column, ...] | None = None,
) -> ReadPlan:
    """Run the query job with ``client`` (the driver's) and list its partitions."""
    if api not in ("bulk2", "bulk1"):
        raise InvalidInputError(f"api must be 'bulk2' or 'bulk1', not {api!r}")
    planned = plan_columns(client, soql, columns)
    if api == "bulk2":
        size = _check_size(page_records, "page_records", 1_000_000)
        job_id, parts = _bulk2_pages(client, soql, size, query_all=query_all)
    else:
        size = _check_size(pk_chunk_size, "pk_chunk_size", 250_000)
        job_id, parts = _bulk1_chunks(client, soql, size, query_all=query_all)
    return ReadPlan(connection, soql, api, job_id, planned, parts)


def _bulk2_pages(
    client: Bulk, soql: str, page_records: int, *, query_all: bool
) -> tuple[str, tuple[ReadPartition, ...]]:
    job_id = _job_id(client.create_query_job(soql, query_all=query_all).id)
    job = client.wait_for_query_job(job_id)
    version = None if job.api_version is None else f"{job.api_version:.1f}"
    delimiter = (job.column_delimiter or ColumnDelimiter.COMMA).char
    pages: list[bulk2.ResultPage] = []
    listing = replace(
        bulk2.result_pages(job_id, api_version=version), query={"maxRecords": str(page_records)}
    )
    while True:
        found, next_url = client._call(listing)
        pages.extend(found)
        if next_url is None:
            break
        listing = bulk2.result_pages(job_id, next_url=next_url, api_version=version)
    parts = tuple(
        ReadPartition(i, "bulk2_page", job_id, version, path=page.path, delimiter=delimiter)
        for i, page in enumerate(pages)
    )
    return job_id, parts


def _bulk1_chunks(
    client: Bulk, soql: str, chunk: int, *, query_all: bool
) -> tuple[str, tuple[ReadPartition, ...]]:
    operation = Operation.QUERY_ALL if query_all else Operation.QUERY
    job = client.create_job(
        operation,
        query_object(soql),
        content_type=ContentType.CSV,
        pk_chunking=PkChunking(chunk_size=chunk),
    )
    job_id = _job_id(job.id)
    client.add_batch(job_id, soql)
    batches = client.wait_for_job(job_id)
    client.close_job(job_id)
    parts: list[ReadPartition] = []
    for batch in batches:
        if not states.batch_has_results(batch):
            continue  # the original batch of a PK-chunked job holds no results
        for result_id in client.get_query_result_ids(job_id, batch.id):
            parts.append(
                ReadPartition(
                    len(parts),
                    "bulk1_result",
                    job_id,
                    client.api_version,
                    batch_id=batch.id,
                    result_id=result_id,
                )
            )
    return job_id, tuple(parts)


def iter_partition_records(client: Bulk, part: ReadPartition) -> Iterator[QueryRecord]:
    """The raw records of one partition, streamed (no type conversion)."""
    if part.kind == "bulk2_page":
        if part.path is None:
            raise InvalidInputError("a bulk2_page partition needs its page path")
        call = bulk2.ResultPage(part.path).call(part.api_version)
        reader = flow.RecordStream(call.parse, part.delimiter)
        records = cast(
            "Iterator[QueryRecord]",
            client._driver.stream(flow.exchange(call, client._ctx, reader)),
        )
        yield from records
        return
    if part.batch_id is None or part.result_id is None:
        raise InvalidInputError("a bulk1_result partition needs its batch and result ids")
    yield from client.iter_query_results(part.job_id, part.batch_id, result_ids=[part.result_id])


def read_partition(
    client: Bulk, plan: ReadPlan, part: ReadPartition
) -> Iterator[tuple[object, ...]]:
    """The rows of one partition as tuples in the plan's column order and types."""
    to_row = rows_converter(plan.columns)
    for record in iter_partition_records(client, part):
        yield to_row(cast("Mapping[str, object]", record))
