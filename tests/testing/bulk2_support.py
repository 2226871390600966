"""A thin raw Bulk API 2.0 caller for the fake org's tests, and CSV helpers.

The caller speaks HTTP through ``FakeOrgTransport(org)`` with an
``Authorization: Bearer`` session, so the tests see exactly what a client sees,
and parses job documents with the SDK's own models
(:mod:`sfbulk_sdk.models.bulk2`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import httpx

from sfbulk_sdk.models.bulk2 import IngestJobInfo, QueryJobInfo, RestErrors
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport


@dataclass
class Page:
    """One page of query results: its rows (header first) and its two headers."""

    status: int
    text: str
    locator: str | None
    count: int | None

    @property
    def rows(self) -> list[list[str]]:
        return list(csv.reader(io.StringIO(self.text, newline="")))


def csv_rows(text: str, delimiter: str = ",") -> list[list[str]]:
    """Every row of a CSV text, header first (line endings of either kind)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    """``(errorCode, message)`` of a REST error reply, parsed with the SDK's model."""
    return [(e.error_code, e.message) for e in RestErrors.from_json(response.content).errors]


def multipart(job: dict[str, str], data: str) -> tuple[bytes, str]:
    """A multipart create body (``job`` JSON and ``content`` CSV parts) and its Content-Type."""
    boundary = "BOUNDARY"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n"
        f'Content-Disposition: form-data; name="job"\r\n\r\n{json.dumps(job)}\r\n'
        f"--{boundary}\r\nContent-Type: text/csv\r\n"
        f'Content-Disposition: form-data; name="content"; filename="content"\r\n\r\n{data}\r\n'
        f"--{boundary}--\r\n"
    )
    return body.encode(), f"multipart/form-data; boundary={boundary}"


class Bulk2Caller:
    """Raw Bulk 2.0 requests to a fake org at one API version."""

    def __init__(
        self, org: FakeOrg, *, version: str = "62.0", session_id: str | None = None
    ) -> None:
        self.org = org
        self.version = version
        self.session_id = session_id or org.issue_session()
        self.client = httpx.Client(
            transport=FakeOrgTransport(org),
            base_url=f"{org.instance_url}/services/data/v{version}",
            headers={"Authorization": f"Bearer {self.session_id}"},
        )

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return self.client.request(method, path, **kwargs)  # type: ignore[arg-type]

    # -- ingest ----------------------------------------------------------------

    def create_ingest(self, operation: str, sobject: str, **options: str) -> IngestJobInfo:
        reply = self.client.post(
            "/jobs/ingest", json={"object": sobject, "operation": operation, **options}
        )
        assert reply.status_code == 200, reply.text
        return IngestJobInfo.from_json(reply.content)

    def upload(self, job_id: str, data: str | bytes) -> httpx.Response:
        return self.client.put(
            f"/jobs/ingest/{job_id}/batches", content=data, headers={"Content-Type": "text/csv"}
        )

    def set_state(self, job_id: str, state: str, kind: str = "ingest") -> httpx.Response:
        return self.client.patch(f"/jobs/{kind}/{job_id}", json={"state": state})

    def ingest(self, job_id: str) -> IngestJobInfo:
        reply = self.client.get(f"/jobs/ingest/{job_id}")
        assert reply.status_code == 200, reply.text
        return IngestJobInfo.from_json(reply.content)

    def load(self, operation: str, sobject: str, data: str, **options: str) -> IngestJobInfo:
        """Create, upload, close; the job as the next request sees it (processed)."""
        job = self.create_ingest(operation, sobject, **options)
        assert job.id is not None
        assert self.upload(job.id, data).status_code == 201
        assert self.set_state(job.id, "UploadComplete").status_code == 200
        return self.ingest(job.id)

    def results(self, job_id: str, kind: str) -> httpx.Response:
        return self.client.get(f"/jobs/ingest/{job_id}/{kind}/")

    # -- query -----------------------------------------------------------------

    def create_query(self, soql: str, operation: str = "query", **options: str) -> QueryJobInfo:
        reply = self.client.post(
            "/jobs/query", json={"operation": operation, "query": soql, **options}
        )
        assert reply.status_code == 200, reply.text
        return QueryJobInfo.from_json(reply.content)

    def query(self, job_id: str) -> QueryJobInfo:
        reply = self.client.get(f"/jobs/query/{job_id}")
        assert reply.status_code == 200, reply.text
        return QueryJobInfo.from_json(reply.content)

    def page(self, job_id: str, **params: str | int) -> Page:
        reply = self.client.get(f"/jobs/query/{job_id}/results", params=params)
        return self.as_page(reply)

    def get_url(self, url: str) -> httpx.Response:
        """GET a URL the org handed out (``/services/data/...``, as given)."""
        return self.client.get(f"{self.org.instance_url}{url}")

    @staticmethod
    def as_page(reply: httpx.Response) -> Page:
        count = reply.headers.get("sforce-numberofrecords")
        return Page(
            reply.status_code,
            reply.text,
            reply.headers.get("sforce-locator"),
            int(count) if count is not None else None,
        )
