# GENERATED from sfbulk_sdk/_async/bulk2.py by scripts/unasync.py: do not edit.
"""The async client's Bulk API 2.0 half: ingest and query jobs, their results.

Requests go through the same flows as Bulk 1.0 (:mod:`sfbulk_sdk.core.flow`):
the session is read per request, a 401 ``INVALID_SESSION_ID`` refreshes it once
and repeats the request (mid-download too: the page is read again and the
records already handed out are skipped), and results are read with the job's
own API version and column delimiter, which the client learns from the job.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import cast

from typing_extensions import Unpack

from ..core import bulk2, bulk2_flows, flow
from ..core.bulk2 import IngestOptions
from ..core.bulk2_results import IngestResult, parse_result
from ..core.csvsplit import CsvSource, Limits, split_csv
from ..core.decoders import QueryRecord
from ..core.policy import PollPolicy
from ..errors import InvalidInputError, ProtocolError
from ..models.bulk2 import (
    Bulk2Operation,
    ColumnDelimiter,
    IngestJobInfo,
    LineEnding,
    QueryJobInfo,
)
from .bulk1 import Bulk1Client
from .driver import flatten

__all__ = ["Bulk2Client"]

#: More than Salesforce processes in a day: a Bulk 2.0 job has no record cap of its own.
_NO_RECORD_CAP = 150_000_000


def _version(job: IngestJobInfo | QueryJobInfo) -> str | None:
    """The job's API version as the calls on it spell it; a reply giving one that no API
    version can be is the server's fault, not the caller's (ProtocolError)."""
    version = job.api_version
    if version is None:
        return None
    if not (math.isfinite(version) and 1.0 <= version < 1000.0):
        raise ProtocolError(
            f"a Bulk 2.0 job reply gives an API version that is none: {version:.4g}"
        )
    return f"{version:.1f}"


def _line_ending(data: bytes) -> LineEnding:
    """The line ending the data's first record uses (what the job must declare)."""
    end = data.find(b"\n")
    return LineEnding.CRLF if end > 0 and data[end - 1 : end] == b"\r" else LineEnding.LF


class Bulk2Client(Bulk1Client):
    """The Bulk API 2.0 calls of :class:`~sfbulk_sdk.Bulk`."""

    def _learn(self, job: IngestJobInfo | QueryJobInfo) -> None:
        # A reply that leaves a setting out (a PATCH reply names no columnDelimiter)
        # keeps what an earlier reply said; what no reply said is asked for when needed.
        if job.id is not None:
            known = self._bulk2_jobs.get(job.id, (None, None))
            version = _version(job) or known[0]
            delimiter = job.column_delimiter.char if job.column_delimiter else known[1]
            self._bulk2_jobs[job.id] = (version, delimiter)

    def _ingest(self, call: flow.CallSpec[IngestJobInfo]) -> IngestJobInfo:
        job = self._call(call)
        self._learn(job)
        return job

    def _query(self, call: flow.CallSpec[QueryJobInfo]) -> QueryJobInfo:
        job = self._call(call)
        self._learn(job)
        return job

    def _job_format(self, job_id: str, kind: str) -> tuple[str | None, str]:
        known = self._bulk2_jobs.get(job_id, (None, None))
        if None in known:
            if kind == "ingest":
                self.get_ingest_job(job_id)
            else:
                self.get_query_job(job_id)
            known = self._bulk2_jobs.get(job_id, (None, None))
        return known[0], known[1] or ColumnDelimiter.COMMA.char

    # ------------------------------------------------------------------ ingest jobs

    def create_ingest_job(
        self, operation: Bulk2Operation | str, sobject: str, **options: Unpack[IngestOptions]
    ) -> IngestJobInfo:
        """Open a Bulk 2.0 ingest job (``POST jobs/ingest``, state ``Open``)."""
        return self._ingest(bulk2.create_ingest_job(operation, sobject, **options))

    def create_ingest_job_with_data(
        self,
        operation: Bulk2Operation | str,
        sobject: str,
        data: bytes,
        **options: Unpack[IngestOptions],
    ) -> IngestJobInfo:
        """Create a job and upload its CSV in one multipart request (≤ 100,000 characters)."""
        call = bulk2.create_ingest_job_with_data(operation, sobject, data, **options)
        return self._ingest(call)

    def upload_job_data(
        self,
        job_id: str,
        data: bytes,
        *,
        max_bytes: int = bulk2.MAX_UPLOAD_BYTES,
        gzip: bool = False,
    ) -> None:
        """Upload a job's CSV (``PUT .../batches``; once per job, as Salesforce allows)."""
        self._call(bulk2.upload_job_data(job_id, data, max_bytes=max_bytes, gzip=gzip))

    def upload_complete(self, job_id: str) -> IngestJobInfo:
        """Mark the job's data complete (``UploadComplete``): Salesforce starts processing."""
        return self._ingest(bulk2.upload_complete(job_id))

    def abort_ingest_job(self, job_id: str) -> IngestJobInfo:
        """Abort an ingest job."""
        return self._ingest(bulk2.abort_ingest_job(job_id))

    def get_ingest_job(self, job_id: str) -> IngestJobInfo:
        """An ingest job's current state and counters."""
        return self._ingest(bulk2.get_ingest_job(job_id))

    def delete_ingest_job(self, job_id: str) -> None:
        """Delete an ingest job (once it is no longer Open)."""
        self._call(bulk2.delete_ingest_job(job_id))
        self._bulk2_jobs.pop(job_id, None)

    def wait_for_ingest_job(
        self, job_id: str, *, poll: PollPolicy | None = None, raise_on_failure: bool = True
    ) -> IngestJobInfo:
        """Poll until the job is JobComplete, Failed or Aborted (``Failed`` raises
        :class:`~sfbulk_sdk.errors.JobFailedError` unless ``raise_on_failure`` is false)."""
        job = self._driver.run(
            bulk2_flows.wait_for_job(
                bulk2.get_ingest_job(job_id),
                policy=poll or self.config.poll,
                ctx=self._ctx,
                raise_on_failure=raise_on_failure,
            )
        )
        self._learn(job)
        return job

    def ingest_csv(
        self,
        operation: Bulk2Operation | str,
        sobject: str,
        source: CsvSource,
        *,
        max_bytes: int = bulk2.MAX_UPLOAD_BYTES,
        gzip: bool = False,
        **options: Unpack[IngestOptions],
    ) -> list[IngestJobInfo]:
        """Load CSV input through as many jobs as its size needs; return them (UploadComplete).

        The input is cut at whole records into jobs of at most ``max_bytes``
        encoded bytes (default 100 MB, Salesforce's guidance), each with the
        header; the jobs' ``lineEnding`` follows the data's own line ending
        unless given. Nothing is created before the input is known to be CSV
        the delimiter can read.
        """
        delimiter = ColumnDelimiter(options.get("column_delimiter", "COMMA")).char
        jobs: list[IngestJobInfo] = []
        limits = Limits(_NO_RECORD_CAP, max_bytes, max_bytes)
        pieces = split_csv(source, limits=limits, delimiter=delimiter)
        for piece in pieces:
            settings = dict(options)
            settings.setdefault("line_ending", _line_ending(piece.data))
            job = self.create_ingest_job(operation, sobject, **settings)  # type: ignore[arg-type]
            assert job.id is not None
            self.upload_job_data(job.id, piece.data, max_bytes=max_bytes, gzip=gzip)
            jobs.append(self.upload_complete(job.id))
        if not jobs:
            raise InvalidInputError("the CSV input holds no records: nothing to load")
        return jobs

    def iter_ingest_results(self, job_id: str, kind: str) -> Iterator[IngestResult]:
        """Stream a finished job's ``successful``, ``failed`` or ``unprocessed`` records.

        Rows come in Salesforce's order, which does not follow the input;
        :class:`~sfbulk_sdk.core.bulk2_results.RowIndex` joins them back to
        input rows where the operation allows it.
        """
        version, delimiter = self._job_format(job_id, "ingest")
        records = cast(
            "Generator[QueryRecord, None]",
            self._driver.stream(
                bulk2_flows.ingest_result_records(
                    job_id, kind, api_version=version, delimiter=delimiter, ctx=self._ctx
                )
            ),
        )
        try:
            for record in records:
                yield parse_result(kind, record)
        finally:
            records.close()

    # ------------------------------------------------------------------ query jobs

    def create_query_job(
        self,
        soql: str,
        *,
        query_all: bool = False,
        column_delimiter: ColumnDelimiter | str = ColumnDelimiter.COMMA,
        line_ending: LineEnding | str = LineEnding.LF,
    ) -> QueryJobInfo:
        """Start a Bulk 2.0 query job (``query``, or ``queryAll`` with deleted rows)."""
        call = bulk2.create_query_job(
            soql, query_all=query_all, column_delimiter=column_delimiter, line_ending=line_ending
        )
        return self._query(call)

    def get_query_job(self, job_id: str) -> QueryJobInfo:
        """A query job's current state."""
        return self._query(bulk2.get_query_job(job_id))

    def abort_query_job(self, job_id: str) -> QueryJobInfo:
        """Abort a query job (only before it completes)."""
        return self._query(bulk2.abort_query_job(job_id))

    def delete_query_job(self, job_id: str) -> None:
        """Delete a finished query job and its results."""
        self._call(bulk2.delete_query_job(job_id))
        self._bulk2_jobs.pop(job_id, None)

    def wait_for_query_job(
        self, job_id: str, *, poll: PollPolicy | None = None, raise_on_failure: bool = True
    ) -> QueryJobInfo:
        """Poll until the query job is JobComplete, Failed or Aborted."""
        job = self._driver.run(
            bulk2_flows.wait_for_job(
                bulk2.get_query_job(job_id),
                policy=poll or self.config.poll,
                ctx=self._ctx,
                raise_on_failure=raise_on_failure,
            )
        )
        self._learn(job)
        return job

    def iter_query_job_results(
        self,
        job_id: str,
        *,
        max_records: int = bulk2.DEFAULT_MAX_RECORDS,
        parallel_pages: int = 1,
    ) -> Iterator[QueryRecord]:
        """Stream every record of a finished query job.

        With ``parallel_pages`` 1 pages are read one after another by locator,
        ``max_records`` rows each, streamed from the socket; above 1 the pages
        are listed with ``/resultPages`` (API 58.0+) and downloaded in a sliding
        window, up to that many at once (a new one starts as soon as one ends),
        records still handed out in page order, each once. Memory stays bounded
        by one network chunk (locator) or ``2 * parallel_pages`` pages held as
        they came, gzip-compressed (``/resultPages``).
        """
        records = cast(
            "Generator[QueryRecord, None]",
            flatten(
                self._query_batches(job_id, max_records=max_records, parallel_pages=parallel_pages)
            ),
        )
        try:
            for record in records:
                yield record
        finally:
            records.close()  # releases the open response at once

    def _query_batches(
        self, job_id: str, *, max_records: int, parallel_pages: int
    ) -> Iterator[list[QueryRecord]]:
        """:meth:`iter_query_job_results` a decoded chunk (a list of records) at a time."""
        if isinstance(parallel_pages, bool) or not isinstance(parallel_pages, int):
            raise InvalidInputError("parallel_pages must be a positive integer")
        if parallel_pages < 1:
            raise InvalidInputError("parallel_pages must be a positive integer")
        version, delimiter = self._job_format(job_id, "query")
        if parallel_pages > 1:
            reading = bulk2_flows.query_records_by_pages(
                job_id,
                api_version=version,
                width=parallel_pages,
                delimiter=delimiter,
                ctx=self._ctx,
            )
        else:
            reading = bulk2_flows.query_records(
                job_id,
                api_version=version,
                max_records=max_records,
                delimiter=delimiter,
                ctx=self._ctx,
            )
        batches = cast("Generator[list[QueryRecord], None]", self._driver.batches(reading))
        try:
            for batch in batches:
                yield batch
        finally:
            batches.close()
