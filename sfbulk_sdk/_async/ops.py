"""Loads and queries in one call, over either Bulk API: ``insert``, ``upsert``, ``query`` ...

``await bulk.insert("Contact", rows)`` encodes the rows into batches (Bulk 1.0)
or jobs (Bulk 2.0) within every limit, uploads them ``concurrency`` at a time
(gzip-compressed by default), waits with backoff under one deadline, reads
every outcome into a :class:`~sfbulk_sdk.core.outcomes.LoadResult` in input
order, and sends rows that failed on a lock again. ``async for row in
bulk.query(soql)`` streams records across every result file or page.

Which API: ``api="auto"`` (the default) uses Bulk 1.0 for inserts, the only
API that ties every insert outcome to its input row, and Bulk 2.0 for the
other operations (outcomes joined by ``Id`` or external id), and Bulk 2.0 for
queries unless PK chunking is asked for (a Bulk 1.0 feature).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TYPE_CHECKING, TextIO, TypedDict, TypeVar, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import Unpack

from ..core import bulk1, bulk2, flow, frames
from ..core.bulk1 import PkChunking
from ..core.decoders import QueryRecord
from ..core.load_settings import (
    Api,
    LoadSettings,
    checked_settings,
    choose_api,
    count,
    flag,
    positive,
    sobject_name,
)
from ..core.policy import PollPolicy
from ..errors import BatchFailedError, InvalidInputError, NotFoundError
from ..models.enums import Operation
from ..records import AsyncRecordStream
from .bulk2 import AsyncBulk2Client

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from ..core.outcomes import LoadResult

__all__ = ["AsyncOps", "LoadSettings"]

M = TypeVar("M", bound=BaseModel)
_FROM = re.compile(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
#: Records validated into a model at a time.
_MODEL_CHUNK = 1000


#: Result pages downloading at once, at most.
_MAX_PAGES = 32


class _QueryArgs(TypedDict):
    query_all: bool
    api: Api
    pk_chunking: PkChunking | int | bool | None
    parallel_pages: int
    max_records: int
    poll: PollPolicy | None


def _query_checked(
    soql: object,
    *,
    model: object,
    query_all: object,
    api: object,
    pk_chunking: object,
    parallel_pages: object,
    max_records: object,
    poll: object,
) -> _QueryArgs:
    """The arguments of a query, checked (refused, before anything is sent, when they
    cannot work), with the result pages to read at once and the records per read."""
    _sobject_of(soql)
    if api not in ("auto", "bulk1", "bulk2"):
        raise InvalidInputError(f"api must be 'auto', 'bulk1' or 'bulk2', not {api!r}")
    if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise InvalidInputError(f"model must be a pydantic model class, not {model!r}")
    if not isinstance(query_all, bool):
        raise InvalidInputError(f"query_all must be True or False, not {query_all!r}")
    if poll is not None and not isinstance(poll, PollPolicy):
        raise InvalidInputError(f"poll must be a PollPolicy, not a {type(poll).__name__}")
    if pk_chunking is not None and not isinstance(pk_chunking, (bool, int, PkChunking)):
        raise InvalidInputError(
            f"pk_chunking must be True, a chunk size or a PkChunking, not {pk_chunking!r}"
        )
    if isinstance(pk_chunking, PkChunking):
        pk_chunking.header()  # checks the chunk size
    elif isinstance(pk_chunking, int) and not isinstance(pk_chunking, bool):
        PkChunking(chunk_size=pk_chunking).header()
    if pk_chunking and api == "bulk2":
        raise InvalidInputError("PK chunking is a Bulk 1.0 feature: use api='bulk1'")
    pages = 4 if parallel_pages is None else positive(parallel_pages, "parallel_pages", _MAX_PAGES)
    records = bulk2.DEFAULT_MAX_RECORDS
    if max_records is not None:
        records = positive(max_records, "max_records", 100_000_000)
        if parallel_pages not in (None, 1):
            raise InvalidInputError(
                "max_records sizes the pages read one after another; result pages read in "
                "parallel (parallel_pages) are sized by Salesforce: give one or the other"
            )
        pages = 1
    return _QueryArgs(
        query_all=query_all,
        api=api,
        pk_chunking=pk_chunking,
        parallel_pages=pages,
        max_records=records,
        poll=poll,
    )


def _outer(soql: str) -> str:
    """``soql`` with its quoted text and everything inside parentheses (subqueries,
    function arguments) blanked, so that only the outer query's words remain."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in soql:
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "'":
                quoted = False
            char = " "
        elif char == "'":
            quoted, char = True, " "
        elif char in "()":
            depth = depth + 1 if char == "(" else max(0, depth - 1)
            char = " "
        elif depth:
            char = " "
        out.append(char)
    return "".join(out)


def _sobject_of(soql: object) -> str:
    if not isinstance(soql, str) or not soql.strip():
        raise InvalidInputError("a query needs SOQL text (a non-empty string)")
    match = _FROM.search(_outer(soql))
    if match is None:
        raise InvalidInputError("the SOQL has no FROM clause naming the object")
    return match.group(1)


class AsyncOps(AsyncBulk2Client):
    """The one-call loads and queries of :class:`~sfbulk_sdk.AsyncBulk`."""

    # ------------------------------------------------------------------ loads

    async def load(
        self,
        operation: Operation | str,
        sobject: str,
        records: object,
        *,
        external_id_field: str | None = None,
        **settings: Unpack[LoadSettings],
    ) -> LoadResult:
        """Load ``records`` with ``operation``; one outcome per input row, in input order.

        ``records``: mappings, pydantic models, sequences (with ``fields``), a CSV
        file path or binary file, a pandas DataFrame or pyarrow Table, or (for
        delete) record ids. Sized inputs are checked whole before anything is
        sent. See :class:`LoadSettings` for the options.
        """
        # The load side is imported on the first load: a query never pays for it.
        from .. import inputs
        from ..core import loads
        from ..core.encode import RepeatedKeyError

        try:
            op = Operation(operation)
        except ValueError:
            raise InvalidInputError(f"unknown operation {operation!r}") from None
        if op.is_query:
            raise InvalidInputError("query is not a load: use query()")
        if op is Operation.UPSERT and (
            not isinstance(external_id_field, str) or not external_id_field.strip()
        ):
            raise InvalidInputError("upsert needs external_id_field (the external id field)")
        poll, hook = checked_settings(settings)
        api = choose_api(settings.get("api", "auto"), op, settings)
        options = loads.LoadOptions(
            operation=op,
            sobject=sobject_name(sobject),
            external_id_field=external_id_field,
            concurrency=positive(settings.get("concurrency", 4), "concurrency", 64),
            serial=flag(settings, "serial", False),
            gzip=flag(settings, "gzip", True),
            lock_retries=count(settings.get("lock_retries", 2), "lock_retries", 10),
            serial_retries=flag(settings, "serial_retries", True),
            poll=poll or self.config.poll,
        )
        ids = "Id" if op in (Operation.DELETE, Operation.HARD_DELETE) else None
        # The field each row needs: the Id (update, delete), the external id (upsert).
        required = (
            None
            if op is Operation.INSERT
            else (external_id_field if op is Operation.UPSERT else "Id")
        )
        prepared: inputs.Prepared | None = None
        if api == "bulk2":
            size = positive(
                settings.get("job_size", bulk2.MAX_UPLOAD_BYTES), "job_size", bulk2.MAX_UPLOAD_BYTES
            )
            limits = inputs.Limits(150_000_000, size, size)
            try:
                prepared = inputs.prepare(
                    records,
                    limits=limits,
                    fields=settings.get("fields"),
                    key=required,
                    ids_field=ids,
                    unit="job",
                )
            except RepeatedKeyError:
                if settings.get("api", "auto") != "auto" or settings.get("job_size"):
                    raise
                # Rows sharing a key cannot be told apart in Bulk 2.0's results: the
                # input is whole in hand (it was checked whole), so Bulk 1.0 loads it.
                api = "bulk1"
        if prepared is not None:
            options = dataclasses.replace(options, line_ending=prepared.line_ending)
            run = loads.bulk2_load(
                options, prepared.bodies, prepared.fields, key_column=prepared.key, ctx=self._ctx
            )
        else:
            size = positive(
                settings.get("batch_size", bulk1.BATCH_MAX_RECORDS), "batch_size", 10_000
            )
            limits = inputs.Limits(size, bulk1.BATCH_MAX_BYTES, bulk1.BATCH_MAX_CHARS)
            prepared = inputs.prepare(
                records,
                limits=limits,
                fields=settings.get("fields"),
                ids_field=ids,
                required=required,
            )
            run = loads.bulk1_load(options, prepared.bodies, prepared.fields, ctx=self._ctx)
        return await self._driver.run(flow.observe(run, hook))  # type: ignore[arg-type]

    async def insert(
        self, sobject: str, records: object, **settings: Unpack[LoadSettings]
    ) -> LoadResult:
        """Insert ``records`` (see :meth:`load`)."""
        return await self.load(Operation.INSERT, sobject, records, **settings)

    async def update(
        self, sobject: str, records: object, **settings: Unpack[LoadSettings]
    ) -> LoadResult:
        """Update ``records`` by ``Id`` (see :meth:`load`)."""
        return await self.load(Operation.UPDATE, sobject, records, **settings)

    async def upsert(
        self,
        sobject: str,
        records: object,
        external_id_field: str,
        **settings: Unpack[LoadSettings],
    ) -> LoadResult:
        """Upsert ``records`` by ``external_id_field`` (see :meth:`load`)."""
        return await self.load(
            Operation.UPSERT, sobject, records, external_id_field=external_id_field, **settings
        )

    async def delete(
        self, sobject: str, records: object, **settings: Unpack[LoadSettings]
    ) -> LoadResult:
        """Delete records (given as ids or as records with an ``Id``; see :meth:`load`)."""
        return await self.load(Operation.DELETE, sobject, records, **settings)

    async def hard_delete(
        self, sobject: str, records: object, **settings: Unpack[LoadSettings]
    ) -> LoadResult:
        """Delete records for good, bypassing the recycle bin (needs the permission)."""
        return await self.load(Operation.HARD_DELETE, sobject, records, **settings)

    async def job(
        self, job_id: str | Sequence[str], *, api: Api = "auto", poll: PollPolicy | None = None
    ) -> LoadResult:
        """Re-attach to an ingest job (or a load's Bulk 2.0 jobs: ``error.job_ids``) started
        earlier by any process; its result once done (see :func:`.loads.reattach_bulk2`)."""
        from ..core import loads

        ids = loads.job_ids(job_id)
        if api not in ("auto", "bulk1", "bulk2"):
            raise InvalidInputError(f"api must be 'auto', 'bulk1' or 'bulk2', not {api!r}")
        if poll is not None and not isinstance(poll, PollPolicy):
            raise InvalidInputError(f"poll must be a PollPolicy, not a {type(poll).__name__}")
        policy = poll or self.config.poll
        if api in ("auto", "bulk2"):
            try:
                return await self._driver.run(
                    loads.reattach_bulk2(ids, policy=policy, ctx=self._ctx)
                )
            except NotFoundError:
                await self._refuse_query_jobs(ids)
                if api == "bulk2" or len(ids) > 1:
                    raise
        return await self._driver.run(loads.reattach_bulk1(ids[0], policy=policy, ctx=self._ctx))

    async def _refuse_query_jobs(self, ids: Sequence[str]) -> None:
        """A Bulk 2.0 query job given where an ingest job is wanted: said as such (it is
        no missing job), not the 404 / ``Invalid job id`` of the ingest lookups."""
        for one in ids:
            try:
                await self.get_query_job(one)
            except NotFoundError:
                continue
            raise InvalidInputError(
                f"job {one} is a Bulk 2.0 query job, not a load: read its records with "
                "iter_query_job_results()"
            )

    # ------------------------------------------------------------------ queries

    async def _batches(
        self,
        soql: str,
        *,
        query_all: bool,
        api: Api,
        pk_chunking: PkChunking | int | bool | None,
        parallel_pages: int,
        max_records: int,
        poll: PollPolicy | None,
    ) -> AsyncIterator[list[QueryRecord]]:
        """The records ``soql`` selects, a decoded chunk (a list of records) at a time."""
        sobject = _sobject_of(soql)
        chosen = api if api != "auto" else ("bulk1" if pk_chunking else "bulk2")
        if chosen == "bulk1":
            chunking = (
                PkChunking(chunk_size=pk_chunking)
                if (isinstance(pk_chunking, int) and not isinstance(pk_chunking, bool))
                else pk_chunking
            )
            job = await self.create_job(
                "queryAll" if query_all else "query", sobject, pk_chunking=chunking
            )
            assert job.id is not None
            await self.add_batch(job.id, soql)
            await self.close_job(job.id)
            read: set[str] = set()
            for batch in await self.wait_for_job(job.id, poll=poll):
                if batch.id in read:
                    continue  # a batch listed twice: its records are read once
                read.add(batch.id)
                if batch.state.value == "Failed":
                    raise BatchFailedError(job.id, batch.id, batch.state_message)
                if batch.state.value == "NotProcessed":
                    continue  # a PK-chunked original holds no results
                chunks = self._result_batches(job.id, batch.id)
                try:
                    async for chunk in chunks:
                        yield chunk
                finally:
                    await chunks.aclose()  # type: ignore[attr-defined]
            return
        if chosen != "bulk2":
            raise InvalidInputError(f"api must be 'auto', 'bulk1' or 'bulk2', not {api!r}")
        if pk_chunking:
            raise InvalidInputError("PK chunking is a Bulk 1.0 feature: use api='bulk1'")
        query = await self.create_query_job(soql, query_all=query_all)
        assert query.id is not None
        query = await self.wait_for_query_job(query.id, poll=poll)
        assert query.id is not None
        version = query.api_version or float(self.config.api_version)
        pages = parallel_pages if version >= bulk2.RESULT_PAGES_VERSION else 1
        chunks = self._query_batches(query.id, max_records=max_records, parallel_pages=pages)
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    def query(
        self,
        soql: str,
        *,
        model: type[M] | None = None,
        query_all: bool = False,
        api: Api = "auto",
        pk_chunking: PkChunking | int | bool | None = None,
        parallel_pages: int | None = None,
        max_records: int | None = None,
        poll: PollPolicy | None = None,
    ) -> AsyncRecordStream[QueryRecord | M]:
        """Every record ``soql`` selects, one at a time, across all result files or pages.

        Records are dicts of strings (CSV) as Salesforce sends them; with
        ``model`` each is validated into that pydantic model (``""`` read as
        ``None``; dates, numbers and booleans converted), a thousand at a time.
        Memory stays bounded by a network chunk (or ``parallel_pages`` pages).
        A Bulk 2.0 query reads its result pages ``parallel_pages`` at a time
        (default 4, API 58.0+), or one after another ``max_records`` records at
        a time when that is given. Bad arguments are refused at once; nothing
        is sent until the first record is asked for; the stream's ``aclose()``
        (or leaving ``async with``) ends the downloads.
        """
        checked = _query_checked(
            soql,
            model=model,
            query_all=query_all,
            api=api,
            pk_chunking=pk_chunking,
            parallel_pages=parallel_pages,
            max_records=max_records,
            poll=poll,
        )
        batches = cast("AsyncGenerator[list[QueryRecord], None]", self._batches(soql, **checked))
        if model is None:
            return AsyncRecordStream(batches)
        return AsyncRecordStream(_validated(batches, model))

    def query_all(
        self, soql: str, *, model: type[M] | None = None, **options: object
    ) -> AsyncRecordStream[QueryRecord | M]:
        """:meth:`query` including deleted and archived records (``queryAll``)."""
        return self.query(soql, model=model, query_all=True, **options)  # type: ignore[arg-type]

    async def query_to_csv(self, soql: str, path: str | os.PathLike[str], **options: object) -> int:
        """Write every record ``soql`` selects to a CSV file, streaming; the row count.

        The file holds Salesforce's text as it comes (so ``model=`` does not apply).
        """
        if "model" in options:
            raise InvalidInputError(
                "query_to_csv writes the records' text as Salesforce sends it: model= does "
                "not apply (use query(model=...) to validate records)"
            )
        count = 0
        records = self.query(soql, **options)  # type: ignore[arg-type]
        with _writable_csv(path) as handle:
            writer: csv.DictWriter[str] | None = None
            try:
                async for record in records:
                    row: QueryRecord = record
                    if writer is None:
                        writer = csv.DictWriter(handle, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow(row)
                    count += 1
            finally:
                await records.aclose()
        return count

    async def query_to_pandas(self, soql: str, **options: object) -> pd.DataFrame:
        """Every record ``soql`` selects as a pandas DataFrame (the ``pandas`` extra).

        Takes :meth:`query`'s options (``model=`` gives typed columns); columns
        are filled as records stream in. Without the extra, a one-line error
        naming it is raised before anything is sent.
        """
        builder = frames.PandasBuilder()
        await self._fill(builder, soql, options)
        return builder.finish()

    async def query_to_arrow(self, soql: str, **options: object) -> pa.Table:
        """Every record ``soql`` selects as a pyarrow Table (the ``arrow`` extra)."""
        builder = frames.ArrowBuilder()
        await self._fill(builder, soql, options)
        return builder.finish()

    async def _fill(
        self, builder: frames.PandasBuilder | frames.ArrowBuilder, soql: str, options: object
    ) -> None:
        records = self.query(soql, **options)  # type: ignore[arg-type]
        try:
            async for record in records:
                builder.add(record)
        finally:
            await records.aclose()


def _writable_csv(path: str | os.PathLike[str]) -> TextIO:
    """The output file of ``query_to_csv`` (local disk: written as records come)."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidInputError(f"path must be a file path, not a {type(path).__name__}")
    try:
        return open(path, "w", newline="", encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write the CSV file {path!r}: {exc.strerror}") from exc


async def _validated(
    batches: AsyncGenerator[list[QueryRecord], None], model: type[M]
) -> AsyncGenerator[list[M], None]:
    """The chunks of records validated into ``model``, about a thousand at a time."""
    try:
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
        chunk: list[dict[str, object]] = []
        async for batch in batches:
            for record in batch:
                chunk.append({k: (None if v == "" else v) for k, v in record.items()})
            if len(chunk) >= _MODEL_CHUNK:
                yield _validate(adapter, chunk)
                chunk = []
        if chunk:
            yield _validate(adapter, chunk)
    finally:
        await batches.aclose()


def _validate(adapter: TypeAdapter[list[M]], chunk: list[dict[str, object]]) -> list[M]:
    if not chunk:
        return []
    try:
        return adapter.validate_python(chunk)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "a record"
        raise InvalidInputError(
            f"a query record does not fit the model: {where}: {first['msg']}"
        ) from None
