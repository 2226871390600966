"""Bulk API 2.0 query jobs (spec §3.4): ``/services/data/v{version}/jobs/query[/...]``.

Create a job (its SOQL is checked at once), read, abort, delete and list jobs,
and read the results: ``results`` pages with ``Sforce-Locator`` /
``Sforce-NumberOfRecords`` (``maxRecords`` honoured; the locator ``null`` on
the last page) and, from API 58.0, ``resultPages``, whose page URLs cut the
rows exactly as following the locators does. A locator says where its page
starts and how many rows a page has, so a ``resultUrl`` gives the same rows
every time, and following its ``Sforce-Locator`` continues on the same pages.
"""

from __future__ import annotations

from ...models.bulk2 import Bulk2JobState, Bulk2Operation
from ..bulk2_jobs import QueryJob, query_info, query_page, status_name
from ..http import FakeResponse
from ..query import compile_query
from ..soql import SoqlError, parse_soql
from .bulk2_ingest import new_job
from .rest import (
    JobResource,
    JobRoutes,
    RestCall,
    RestFailure,
    abort,
    decode_locator,
    encode_locator,
    invalid_value,
    job_options,
    lists_own_jobs,
    operation_of,
    require_json,
)

__all__ = ["RESULT_PAGES_PER_REPLY", "ROUTES"]

#: How many page URLs one ``resultPages`` reply lists (spec §3.4).
RESULT_PAGES_PER_REPLY = 5
_CREATE_FIELDS = frozenset(
    {"operation", "query", "contentType", "columnDelimiter", "lineEnding", "concurrencyMode"}
)


def _create(call: RestCall) -> FakeResponse:
    require_json(call)
    document = call.json_object(_CREATE_FIELDS)
    operation = operation_of(document, query=True)
    soql = document.get("query")
    if not isinstance(soql, str) or not soql.strip():
        raise invalid_value(soql, "query")
    layout = job_options(document)
    state = call.state
    try:
        compiled = compile_query(
            parse_soql(soql),
            state.db,
            include_deleted=operation is Bulk2Operation.QUERY_ALL,
            now=state.now(),
        )
    except SoqlError as exc:
        raise RestFailure(400, exc.code, exc.message) from None
    engine = state.bulk2
    allowance = engine.query_jobs_allowance
    if not allowance.left():
        raise RestFailure(
            400,
            "EXCEEDEDQUOTA",
            f"ExceededQuota : The org exceeded its allocation of {allowance.limit} Bulk API "
            "2.0 query jobs in a rolling 24-hour period",
        )
    allowance.take()
    job = new_job(call, QueryJob, operation, compiled.table.name, layout)
    job.soql = soql
    engine.add(job)
    return call.json_reply(200, query_info(job, "create").to_wire_json())


def _abort(call: RestCall, job: QueryJob) -> FakeResponse:
    wanted = call.json_object(frozenset({"state"})).get("state")
    if wanted != Bulk2JobState.ABORTED.value:
        raise invalid_value(wanted, "state")
    abort(call, job)
    return call.json_reply(200, query_info(job, "short").to_wire_json())


def _listed(call: RestCall) -> list[QueryJob]:
    own = lists_own_jobs(call, ("V2Query", "V2Ingest", "Classic"))
    parallel = call.param("concurrencyMode") in (None, "", "Parallel")
    return call.state.bulk2.query_jobs() if own and parallel else []


def _ready(call: RestCall, job: QueryJob) -> None:
    """Results need the job's API version (409) and a completed job (412)."""
    if float(call.version) != job.version:
        raise RestFailure(
            409,
            "INVALIDVERSION",
            f"InvalidVersion : Query results must be fetched with the API version the job "
            f"was created with ({job.api_version}), not {call.version}",
        )
    if job.state is not Bulk2JobState.JOB_COMPLETE:
        raise RestFailure(
            412,
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed bulk job with status: "
            f"JOB_COMPLETE. Current status: {status_name(job.state)}",
        )


def _page_size(call: RestCall, fallback: int | None = None) -> int:
    """``maxRecords`` if given, else ``fallback`` or the org's default; never above the cap."""
    settings = call.state.settings
    raw = call.param("maxRecords")
    if raw not in (None, ""):
        assert raw is not None
        if not raw.isdigit() or int(raw) < 1:
            raise invalid_value(raw, "maxRecords")
        size = int(raw)
    else:
        size = fallback or settings.bulk2_query_page_records
    return min(size, settings.bulk2_query_max_page_records)


def _locator(call: RestCall) -> tuple[int, int | None]:
    raw = call.param("locator")
    if raw in (None, "", "null"):
        return 0, None
    assert raw is not None
    try:
        return decode_locator(raw)
    except ValueError:
        raise invalid_value(raw, "locator") from None


def _results(call: RestCall, job: QueryJob) -> FakeResponse:
    _ready(call, job)
    start, carried = _locator(call)
    size = _page_size(call, carried)
    total = job.processed
    start = min(start, total)
    stop = min(start + size, total)
    locator = encode_locator(stop, size) if stop < total else "null"
    response = FakeResponse.text(200, query_page(job, start, stop), "text/csv")
    response.headers.append(("Sforce-Locator", locator))
    response.headers.append(("Sforce-NumberOfRecords", str(stop - start)))
    return response


def _result_pages(call: RestCall, job: QueryJob) -> FakeResponse:
    _ready(call, job)
    start, carried = _locator(call)
    size = _page_size(call, carried)
    total = job.processed
    base = f"{call.base}/jobs/query/{job.id}"
    offsets = range(start, min(total, start + RESULT_PAGES_PER_REPLY * size), size)
    following = start + RESULT_PAGES_PER_REPLY * size
    done = following >= total
    document = {
        "resultPages": [
            {"resultUrl": f"{base}/results?locator={encode_locator(o, size)}"} for o in offsets
        ],
        "nextRecordsUrl": None
        if done
        else f"{base}/resultpages?locator={encode_locator(following, size)}",
        "done": done,
    }
    return call.json_reply(200, document)


def _find(call: RestCall, job_id: str) -> QueryJob | None:
    return call.state.bulk2.query_job(job_id)


def _deletable(job: QueryJob) -> bool:
    return job.is_terminal


_RESOURCES = {
    "results": JobResource("GET", "query_results", _results),
    "resultpages": JobResource("GET", "query_result_pages", _result_pages, since=58.0),
}
#: What ``jobs/query[/...]`` answers (:func:`.rest.route_jobs` follows it); Bulk 2.0 query
#: came in API 47.0, and a query job is aborted (its only update) before it is deleted.
ROUTES = JobRoutes[QueryJob](
    "query", 47.0, _create, _listed, _find, query_info, _abort, _deletable, _RESOURCES
)
