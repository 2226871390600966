"""The data commands: ``insert|update|upsert|delete|hard-delete``, ``query`` and ``job``.

Each runs on the logged-in session (:func:`sfbulk_sdk.cli.session.connect`)
through the SDK's one-call operations: ``Bulk.load``, ``Bulk.query`` and
``Bulk.job``. Every load's jobs are added to ``<home>/jobs.jsonl`` so that
``sfbulk job list`` shows them and any of them can be resumed by id.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from ..client import Bulk
from ..core.outcomes import LoadResult
from ..errors import InvalidJobError, NotFoundError
from . import files
from .exits import CliError, ExitCode
from .output import Output, rate
from .root import app, state
from .session import connect, http_client
from .settings import Settings, home_dir

__all__ = ["JOB_HISTORY", "client", "job_app", "read_history"]

#: The jobs ``sfbulk`` started, one JSON object a line, in the sfbulk home.
JOB_HISTORY = "jobs.jsonl"

job_app = typer.Typer(help="Follow jobs by id: list, status, wait, abort, results.")
app.add_typer(job_app, name="job")

ApiOption = Annotated[
    str, typer.Option("--api", help="auto, bulk1 or bulk2 (auto: Bulk 1.0 for insert).")
]


@contextmanager
def client(settings: Settings) -> Iterator[Bulk]:
    """A logged-in :class:`~sfbulk_sdk.Bulk`, closed (with its HTTP client) at the end."""
    with http_client(settings) as http:
        bulk = connect(settings, http)
        try:
            yield bulk
        finally:
            bulk.close()


# --------------------------------------------------------------------------- loads


def _write_report(result: LoadResult, path: Path, target: str, success: bool) -> None:
    if result.rows_known:
        header, rows = files.input_rows(path)
        text = (result.success_csv if success else result.error_csv)(header, rows)
    else:  # a Bulk 2.0 insert: outcomes are not tied to input rows
        text = _outcomes_csv(result, success)
    files.write_text(target, text)


def _check_history() -> Path:
    """The job history file, refused before anything is sent when it cannot be written."""
    path = home_dir() / JOB_HISTORY
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise CliError(
            f"the job history {path} cannot be written: {exc.strerror or exc}",
            hint="check SFBULK_HOME",
        ) from None
    return path


def _record_load(
    result: LoadResult,
    path: Path,
    history: Path,
    success_file: str | None,
    error_file: str | None,
) -> list[str]:
    """Add the jobs to the history and write the reports; what could not be written."""
    unwritten: list[str] = []
    try:
        remember_jobs(result, history)
    except OSError as exc:
        unwritten.append(f"the job history {history} was not written: {exc.strerror or exc}")
    for option, target, success in (
        ("--success-file", success_file, True),
        ("--error-file", error_file, False),
    ):
        if not target:
            continue
        try:
            _write_report(result, path, target, success)
        except (OSError, CliError) as exc:
            reason = exc.message if isinstance(exc, CliError) else (exc.strerror or str(exc))
            unwritten.append(f"{option} {target} was not written: {reason}")
    return unwritten


def _counts(result: LoadResult) -> str:
    return (
        f"jobs {', '.join(result.jobs)}: {result.size:,} rows, {result.succeeded:,} succeeded, "
        f"{result.failed_count:,} failed"
    )


def _outcomes_csv(result: LoadResult, success: bool) -> str:
    lines = [["sf__Id", "sf__Created" if success else "sf__Error"]]
    for outcome in result:
        if outcome.success is success:
            lines.append(
                [outcome.id or "", str(outcome.created).lower() if success else outcome.error]
            )
    out = _StringWriter()
    csv.writer(out, lineterminator="\n").writerows(lines)
    return out.text


class _StringWriter:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def remember_jobs(result: LoadResult, history: Path | None = None) -> None:
    """Add the load's jobs to the history (``sfbulk job list``)."""
    if history is None:
        history = home_dir() / JOB_HISTORY
        history.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with history.open("a", encoding="utf-8") as handle:
        for job_id in result.jobs:
            entry = {
                "id": job_id,
                "operation": result.operation,
                "object": result.sobject,
                "api": result.api,
                "rows": result.size,
                "started": when,
            }
            handle.write(json.dumps(entry) + "\n")


def read_history() -> list[dict[str, object]]:
    """The jobs ``sfbulk`` started, oldest first."""
    path = home_dir() / JOB_HISTORY
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found


def _report_load(out: Output, result: LoadResult, started: float, files: dict[str, str]) -> int:
    shown: dict[str, object] = {
        "operation": result.operation,
        "object": result.sobject,
        "api": result.api,
        "jobs": ", ".join(result.jobs),
        "rows": result.size,
        "succeeded": result.succeeded,
        "failed": result.failed_count,
        "created": result.created_count,
        "rate": rate(result.size, started),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if out.json:
        failures = [{"row": f.row, "id": f.id, "error": f.error} for f in result.failed()[:100]]
        out.data({**shown, "jobs": result.jobs, "failures": failures, **files})
    out.summary(f"{result.operation} {result.sobject}", shown)
    for failure in result.failed()[:5]:
        where = f"row {failure.row + 1}" if failure.row is not None else "a row"
        out.say(f"  {where}: {failure.error}")
    return ExitCode.OK if result.ok else ExitCode.ROWS_FAILED


def _load_command(operation: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        sobject: Annotated[str, typer.Argument(metavar="OBJECT", help="sObject, e.g. Account.")],
        file: Annotated[str, typer.Argument(metavar="FILE.csv", help="CSV file, or - for stdin.")],
        external_id: Annotated[
            str | None, typer.Option(help="upsert: the external id field.")
        ] = None,
        api: ApiOption = "auto",
        serial: Annotated[bool, typer.Option("--serial", help="Bulk 1.0 serial mode.")] = False,
        batch_size: Annotated[
            int | None, typer.Option(help="Records per Bulk 1.0 batch (at most 10,000).")
        ] = None,
        success_file: Annotated[
            str | None, typer.Option(help="Write the rows that succeeded (CSV, + sf__Id).")
        ] = None,
        error_file: Annotated[
            str | None, typer.Option(help="Write the rows that failed (CSV, + sf__Error).")
        ] = None,
    ) -> None:
        if operation == "upsert" and not external_id:
            raise CliError("upsert needs --external-id", hint="e.g. --external-id Ext_Id__c")
        run_state = state(ctx)
        out = run_state.out
        wire = "hardDelete" if operation == "hard-delete" else operation
        reports = {"--success-file": success_file, "--error-file": error_file}
        with files.input_file(file) as source:
            for option, target in reports.items():
                if target:
                    files.check_target(option, target, not_same_as=source.path)
            total = files.scan_input(source)
            history = _check_history()
            with client(run_state.settings) as bulk:
                started = time.perf_counter()
                with out.progress(f"{operation} {sobject}", total) as hook:
                    options: dict[str, object] = {"api": api, "serial": serial, "progress": hook}
                    if batch_size is not None:
                        options["batch_size"] = batch_size
                    result = bulk.load(
                        wire,
                        sobject,
                        source.path,
                        external_id_field=external_id,
                        **options,  # type: ignore[arg-type]
                    )
            unwritten = _record_load(result, source.path, history, success_file, error_file)
        shown = {k: v for k, v in (("success_file", success_file), ("error_file", error_file)) if v}
        code = _report_load(out, result, started, shown)
        if unwritten:
            raise CliError(
                f"the load itself completed ({_counts(result)}), but {'; '.join(unwritten)}",
                code=ExitCode.NOT_RECORDED,
                hint="do not load the file again: see 'sfbulk job results JOB_ID'",
            )
        raise typer.Exit(code)

    command.__name__ = operation.replace("-", "_")
    command.__doc__ = {
        "insert": "Insert the records of a CSV file.",
        "update": "Update records by Id from a CSV file.",
        "upsert": "Upsert records by an external id field from a CSV file.",
        "delete": "Delete the records whose Ids a CSV file lists.",
        "hard-delete": "Delete records for good (no recycle bin; needs the permission).",
    }[operation]
    return command


for _operation in ("insert", "update", "upsert", "delete", "hard-delete"):
    app.command(_operation)(_load_command(_operation))


# --------------------------------------------------------------------------- query


@app.command()
def query(
    ctx: typer.Context,
    soql: Annotated[str, typer.Argument(metavar="SOQL", help="The SOQL query.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output file, or - for stdout.")
    ] = "-",
    query_all: Annotated[
        bool, typer.Option("--all", help="Include deleted and archived records (queryAll).")
    ] = False,
    pk_chunking: Annotated[
        int | None, typer.Option(help="Split by Id ranges of this size (Bulk 1.0).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    api: Annotated[
        str, typer.Option("--api", help="auto, bulk1 or bulk2 (auto: Bulk 2.0 unless PK chunking).")
    ] = "auto",
) -> None:
    """Run a SOQL query and stream every record to a file or stdout."""
    if output_format not in ("csv", "jsonl"):
        raise CliError(f"--format must be csv or jsonl, not {output_format!r}")
    run_state = state(ctx)
    out = run_state.out
    _check_output(output)
    count = 0
    started = time.perf_counter()
    with client(run_state.settings) as bulk, files.output(output) as handle:
        records = bulk.query(soql, query_all=query_all, pk_chunking=pk_chunking, api=api)  # type: ignore[arg-type]
        writer: csv.DictWriter[str] | None = None
        with out.progress("query", None) as hook:
            from ..core.progress import ProgressEvent

            for record in records:
                row: dict[str, str] = record  # type: ignore[assignment]
                if output_format == "jsonl":
                    handle.write(json.dumps(row) + "\n")
                else:
                    if writer is None:
                        writer = csv.DictWriter(handle, fieldnames=list(row), lineterminator="\n")
                        writer.writeheader()
                    writer.writerow(row)
                count += 1
                if count % 1000 == 0:
                    hook(ProgressEvent("query_records", 1000))
        if writer is None and output_format == "csv":
            # no record to take the header from: the select list's fields, when plain
            fields = files.select_fields(soql)
            if fields:
                csv.writer(handle, lineterminator="\n").writerow(fields)
    shown: dict[str, object] = {
        "records": count,
        "output": "stdout" if output == "-" else output,
        "format": output_format,
        "rate": rate(count, started),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if out.json:
        if output == "-":
            sys.stderr.write(json.dumps(shown) + "\n")
        else:
            out.data(shown)
    out.summary("query", shown)


def _check_output(name: str) -> None:
    """Refuse an output that cannot be written before the query is sent."""
    if name == "-":
        files.stdout()
    else:
        files.check_target("--output", name)


# --------------------------------------------------------------------------- jobs


def _find_job(bulk: Bulk, job_id: str, api: str) -> tuple[str, dict[str, object]]:
    """The job's kind (ingest2, query2, bulk1) and its facts."""
    if api in ("auto", "bulk2"):
        for kind, get in (("ingest2", bulk.get_ingest_job), ("query2", bulk.get_query_job)):
            try:
                info = get(job_id)
            except NotFoundError:
                continue
            return kind, _facts(info, "bulk2")
    if api in ("auto", "bulk1"):
        try:
            return "bulk1", _facts(bulk.get_job(job_id), "bulk1")
        except (NotFoundError, InvalidJobError):
            pass
    raise CliError(f"no job {job_id} found", code=ExitCode.API, hint="see 'sfbulk job list'")


def _facts(info: object, api: str) -> dict[str, object]:
    def value(name: str) -> object:
        found = getattr(info, name, None)
        return getattr(found, "value", found)

    return {
        "id": value("id"),
        "api": api,
        "operation": value("operation"),
        "object": value("sobject"),
        "state": value("state"),
        "records_processed": value("number_records_processed"),
        "records_failed": value("number_records_failed"),
    }


def _show(out: Output, title: str, facts: dict[str, object]) -> None:
    if out.json:
        out.data(facts)
    out.summary(title, {k: ("" if v is None else v) for k, v in facts.items()})


JobId = Annotated[str, typer.Argument(metavar="JOB_ID", help="The job's id.")]


@job_app.command("list")
def job_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="Show the last N jobs (N >= 1).")] = 20,
) -> None:
    """The jobs sfbulk started from this machine (newest last)."""
    out = state(ctx).out
    jobs = read_history()[-limit:]
    if out.json:
        out.data({"jobs": jobs})
        return
    if not jobs:
        out.say("no jobs yet")
    for entry in jobs:
        if not out.quiet:
            out.err.print(
                f"{entry.get('id')}  {entry.get('api')}  {entry.get('operation')} "
                f"{entry.get('object')}  {entry.get('rows')} rows  {entry.get('started')}",
                markup=False, highlight=False,
            )  # fmt: skip


@job_app.command("status")
def job_status(ctx: typer.Context, job_id: JobId, api: ApiOption = "auto") -> None:
    """The state of a job, by id (Bulk 2.0 ingest or query, or Bulk 1.0)."""
    run_state = state(ctx)
    with client(run_state.settings) as bulk:
        _, facts = _find_job(bulk, job_id, api)
    _show(run_state.out, f"job {job_id}", facts)


@job_app.command("abort")
def job_abort(ctx: typer.Context, job_id: JobId, api: ApiOption = "auto") -> None:
    """Abort a job that has not finished."""
    run_state = state(ctx)
    with client(run_state.settings) as bulk:
        kind, _ = _find_job(bulk, job_id, api)
        info: object = (
            bulk.abort_ingest_job(job_id)
            if kind == "ingest2"
            else bulk.abort_query_job(job_id)
            if kind == "query2"
            else bulk.abort_job(job_id)
        )
    _show(
        run_state.out,
        f"job {job_id} aborted",
        _facts(info, "bulk1" if kind == "bulk1" else "bulk2"),
    )


def _wait(bulk: Bulk, job_id: str, api: str) -> LoadResult:
    return bulk.job(job_id, api=api)  # type: ignore[arg-type]


@job_app.command("wait")
def job_wait(ctx: typer.Context, job_id: JobId, api: ApiOption = "auto") -> None:
    """Wait for an ingest job (started by any process) to finish; its summary."""
    run_state = state(ctx)
    started = time.perf_counter()
    with client(run_state.settings) as bulk:
        result = _wait(bulk, job_id, api)
    raise typer.Exit(_report_load(run_state.out, result, started, {}))


@job_app.command("results")
def job_results(
    ctx: typer.Context,
    job_id: JobId,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Outcomes CSV file, or - for stdout.")
    ] = "-",
    api: ApiOption = "auto",
) -> None:
    """Every row's outcome of a finished ingest job (row, id, success, created, error)."""
    run_state = state(ctx)
    _check_output(output)
    with client(run_state.settings) as bulk:
        result = _wait(bulk, job_id, api)
    with files.output(output) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["row", "sf__Id", "success", "created", "sf__Error"])
        for outcome in result:
            writer.writerow([
                "" if outcome.row is None else outcome.row + 1,
                outcome.id or "",
                str(outcome.success).lower(),
                str(outcome.created).lower(),
                outcome.error,
            ])  # fmt: skip
    if run_state.out.json and output != "-":
        run_state.out.data({"job": job_id, "rows": result.size, "failed": result.failed_count})
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.ROWS_FAILED)
