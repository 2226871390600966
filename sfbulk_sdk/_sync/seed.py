# GENERATED from sfbulk_sdk/_async/seed.py by scripts/unasync.py: do not edit.
"""The seed's API on the async client: ``login``, ``job_create``, ``batch_create`` ...

clearcode's ``sfbulk`` kept "the current job" on the client; these methods do
the same, typed, over the explicit Bulk API 1.0 calls of
:class:`~sfbulk_sdk._sync.bulk1.Bulk1Client`.
"""

from __future__ import annotations

from os import PathLike

from typing_extensions import Unpack

from .._base import FacadeState, check_sandbox_flag, check_seed_max_records, filter_invalid
from ..core import states
from ..core.bulk1 import JobSettings
from ..core.csvbatch import Limits
from ..models.enums import Operation
from ..models.jobs import BatchInfo, JobInfo
from ..models.query import QueryBatchResult
from ..models.results import BatchResult
from ..models.session import Session
from .bulk1 import Bulk1Client

__all__ = ["SeedFacade"]


class SeedFacade(Bulk1Client):
    """The seed-compatible calls of :class:`~sfbulk_sdk.Bulk`."""

    @property
    def bulk_server(self) -> str | None:
        """The instance URL (seed API), e.g. ``https://na15.salesforce.com/``."""
        session = self.session
        return None if session is None else session.instance_url + "/"

    @property
    def sessionid(self) -> str | None:
        """The current session id (seed API). Never printed by ``repr``."""
        session = self.session
        return None if session is None else session.session_id.get_secret_value()

    @property
    def current_job(self) -> JobInfo | None:
        """The facade's current job (the seed API's "the job")."""
        return self._facade.job

    def login(
        self,
        username: str,
        password: str,
        security_token: str = "",
        sandbox: bool = False,
        *,
        login_url: str | None = None,
    ) -> Session:
        """Log in with SOAP ``login()`` (seed API).

        Fills :attr:`bulk_server` and :attr:`sessionid`. The seed's fourth
        argument was the API version; here it is ``sandbox``, so anything but
        a bool there is refused rather than read as ``sandbox=True``."""
        from ..auth.soap import SoapLogin

        check_sandbox_flag(sandbox)
        auth = SoapLogin(
            username,
            password,
            security_token,
            sandbox=sandbox,
            login_url=login_url,
            api_version=self.config.api_version,
        )
        if self._driver.sessions is not None:
            self._driver.sessions.close()
        return self._use_auth(auth).get()

    def job_create(
        self,
        operation: Operation | str,
        sobject: str,
        external_id_field: str | None = None,
        **settings: Unpack[JobSettings],
    ) -> JobInfo:
        """Create the facade's current job (seed API).

        ``settings`` are those of :meth:`create_job` (``content_type``,
        ``concurrency_mode``, ``pk_chunking``, ...). ``pk_chunking`` splits a
        query job by Id ranges; :meth:`job_is_completed` and :meth:`batch_result`
        count the original ``NotProcessed`` batch as done."""
        job = self.create_job(operation, sobject, external_id_field=external_id_field, **settings)
        self._facade = FacadeState(job=job)
        return job

    def batch_create(self, data: bytes | str) -> BatchInfo:
        """Add one batch to the current job (seed API)."""
        job_id = self._facade.require_job_id()
        info = self.add_batch(job_id, data)
        self._facade.batch_ids.append(info.id)
        return info

    def batch_create_from_csv(
        self, path: str | PathLike[str], max_records: int = 10_000
    ) -> list[BatchInfo]:
        """Split a CSV file into batches (quoted multi-line fields kept whole) and add them."""
        from ..csvfiles import iter_csv_file_batches

        limits = Limits(max_records=check_seed_max_records(max_records))
        return [self.batch_create(batch) for batch in iter_csv_file_batches(path, limits=limits)]

    def job_is_completed(self) -> bool:
        """True once every batch of the current job is finished (seed API).

        A job without batches has nothing to wait for: True, as in the seed,
        so that its ``while not job_is_completed()`` loop ends."""
        batches = self.list_batches(self._facade.require_job_id())
        return states.all_batches_done(batches)

    def batch_status(self) -> dict[str, BatchInfo]:
        """Every batch of the current job by id (seed API)."""
        return {b.id: b for b in self.list_batches(self._facade.require_job_id())}

    def batch_result(self, only_invalid: bool = False) -> dict[str, BatchResult | QueryBatchResult]:
        """Results by batch id (seed API): :class:`BatchResult` for ingest jobs,
        :class:`QueryBatchResult` (all records) for query jobs."""
        job = self._facade.require_job()
        job_id = self._facade.require_job_id()
        is_query = job.operation is not None and job.operation.is_query
        out: dict[str, BatchResult | QueryBatchResult] = {}
        for batch in self.list_batches(job_id):
            if not states.batch_has_results(batch):
                continue  # a PK-chunked original holds no results
            if is_query:
                ids = self.get_query_result_ids(job_id, batch.id)
                stream = self.iter_query_results(job_id, batch.id, result_ids=ids)
                records = [record for record in stream]
                out[batch.id] = QueryBatchResult(batch_id=batch.id, result_ids=ids, records=records)
            else:
                result = self.get_batch_results(job_id, batch.id)
                out[batch.id] = filter_invalid(result) if only_invalid else result
        return out

    def job_close(self) -> JobInfo:
        """Close the current job (seed API)."""
        closed = self.close_job(self._facade.require_job_id())
        self._facade.job = closed
        return closed
