"""Helpers for the fake org's tests: a thin Bulk 1.0 caller and shape comparators.

The caller speaks raw HTTP through ``FakeOrgTransport(org)`` (so the tests see
exactly what a client sees) and parses replies with the SDK's own models.

The shape comparators reduce an XML, JSON or CSV document to its structure:
element names and namespaces in order, attributes, and the *kind* of each
value (an 18-character id, a ``...000Z`` dateTime, an integer, a decimal, a
boolean, a URL with its path pattern...). Two documents have the same shape
when Salesforce and the fake would be indistinguishable to a parser, even
though ids and dates differ.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx

from sfbulk_sdk.models import BatchInfo, BatchResult, JobInfo
from sfbulk_sdk.models.xml import NS
from sfbulk_sdk.testing import FakeOrg, FakeOrgTransport
from tests.tls import Tls  # noqa: F401 - re-exported for the fake org's tests

DATALOAD = NS

# ---------------------------------------------------------------------------
# value kinds

_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("datetime", re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|\+0000)")),
    ("date", re.compile(r"\d{4}-\d\d-\d\d")),
    ("bool", re.compile(r"true|false")),
    ("int", re.compile(r"-?\d+")),
    ("decimal", re.compile(r"-?\d+\.\d+(E-?\d+)?")),
    ("id18", re.compile(r"[0-9A-Za-z]{3}[0-9A-Za-z]{12}[A-Z0-5]{3}")),
    ("id15", re.compile(r"[0-9A-Za-z]{3}(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{12}")),
    ("session_id", re.compile(r"00D[0-9A-Za-z]{12}![\w.]+")),
]
_URL = re.compile(r"https?://[^/]+(?P<path>/.*)?")
_URL_ID = re.compile(r"(?<=/)[0-9A-Za-z]{15}(?:[A-Z0-5]{3})?(?=/|$)")
_URL_VERSION = re.compile(r"(?<=/)\d+\.\d(?=/|$)")


def value_kind(text: str | None) -> str:
    """The kind of a text value, as the shape comparators see it."""
    if text is None or text.strip() == "":
        return "empty"
    text = text.strip()
    url = _URL.fullmatch(text)
    if url:
        path = _URL_VERSION.sub("{version}", url["path"] or "")
        return "url:" + _URL_ID.sub("{id}", path)
    for kind, pattern in _KINDS:
        if pattern.fullmatch(text):
            return kind
    return "text"


# ---------------------------------------------------------------------------
# XML


def xml_shape(data: bytes | str) -> tuple[Any, ...]:
    """``(qualified tag, attributes, value kind, children)`` of the document's root.

    Attributes keep their values when they are structural (``xsi:type``,
    ``xsi:nil``); whitespace between elements is ignored.
    """
    root = ET.fromstring(data.encode() if isinstance(data, str) else data)
    return _element_shape(root)


def _element_shape(el: ET.Element) -> tuple[Any, ...]:
    attrs = tuple(
        sorted((k, v if "XMLSchema-instance" in k else value_kind(v)) for k, v in el.attrib.items())
    )
    children = tuple(_element_shape(c) for c in el)
    kind = value_kind(el.text) if not children else "element"
    return (el.tag, attrs, kind, children)


def shape_differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where two shapes differ (empty when they are the same)."""
    exp_tag, exp_attrs, exp_kind, exp_children = expected
    act_tag, act_attrs, act_kind, act_children = actual
    here = f"{path}/{exp_tag.split('}')[-1]}"
    problems = []
    if exp_tag != act_tag:
        return [f"{path}: element {act_tag} where {exp_tag} was expected"]
    if exp_attrs != act_attrs:
        problems.append(f"{here}: attributes {act_attrs} != {exp_attrs}")
    if exp_kind != act_kind:
        problems.append(f"{here}: value kind {act_kind} != {exp_kind}")
    exp_names = [c[0] for c in exp_children]
    act_names = [c[0] for c in act_children]
    if exp_names != act_names:
        problems.append(f"{here}: children {act_names} != {exp_names}")
        return problems
    for exp_child, act_child in zip(exp_children, act_children, strict=True):
        problems.extend(shape_differences(exp_child, act_child, here))
    return problems


def assert_same_xml_shape(actual: bytes | str, expected: bytes | str) -> None:
    """Fail with every difference when the two XML documents differ in shape."""
    problems = shape_differences(xml_shape(expected), xml_shape(actual))
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# JSON


def json_shape(value: Any) -> Any:
    """Keys in order with their value kinds; numbers keep int vs float apart."""
    if isinstance(value, dict):
        return [(k, json_shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [json_shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "null"
    return value_kind(str(value))


def assert_same_json_shape(
    actual: str | bytes, expected: str | bytes, *, live_extras: frozenset[str] = frozenset()
) -> None:
    """Same keys in the same order with the same value kinds.

    ``live_extras`` names keys live Salesforce sends but the documentation
    examples leave out (``fastPathEnabled``, explicit ``null`` optionals).
    """

    def strip(shape: Any) -> Any:
        if isinstance(shape, list) and shape and isinstance(shape[0], tuple):
            return [(k, strip(v)) for k, v in shape if k not in live_extras]
        if isinstance(shape, list):
            return [strip(v) for v in shape]
        return shape

    got = strip(json_shape(json.loads(actual)))
    want = json_shape(json.loads(expected))
    assert got == want, f"JSON shape differs:\n got  {got}\n want {want}"


# ---------------------------------------------------------------------------
# CSV


def csv_shape(text: str) -> tuple[list[str], list[list[str]]]:
    """Header names and the value kind of every cell."""
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [[value_kind(v) for v in row] for row in rows[1:] if row]


def all_values_quoted(text: str) -> bool:
    """True when every value on every line is double-quoted."""
    cell = r'"(?:[^"]|"")*"'
    line = re.compile(rf"{cell}(?:,{cell})*")
    return all(line.fullmatch(row) for row in text.splitlines() if row)


# ---------------------------------------------------------------------------
# a raw Bulk 1.0 caller


@dataclass
class Reply:
    """Status, Content-Type and body of one response."""

    status: int
    content_type: str
    text: str
    raw: bytes


class BulkCaller:
    """Raw Bulk 1.0 requests through the org's in-process transport."""

    def __init__(
        self, org: FakeOrg, *, version: str = "62.0", session_id: str | None = None
    ) -> None:
        self.org = org
        self.version = version
        self.session_id = session_id or org.issue_session()
        self.client = httpx.Client(
            transport=FakeOrgTransport(org), base_url=f"{org.instance_url}/services/async/{version}"
        )

    def call(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        *,
        content_type: str | None = "application/xml; charset=UTF-8",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"X-SFDC-Session": self.session_id}
        if content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        response = self.client.request(method, path, content=body, headers=sent)
        return Reply(
            response.status_code,
            response.headers.get("content-type", ""),
            response.text,
            response.content,
        )

    # -- conveniences parsing with the SDK's models -------------------------

    def create_job(
        self,
        operation: str,
        sobject: str,
        content_type: str = "CSV",
        *,
        external_id: str | None = None,
        concurrency: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JobInfo:
        ext = f"<externalIdFieldName>{external_id}</externalIdFieldName>" if external_id else ""
        mode = f"<concurrencyMode>{concurrency}</concurrencyMode>" if concurrency else ""
        doc = (
            f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{DATALOAD}">'
            f"<operation>{operation}</operation><object>{sobject}</object>{ext}{mode}"
            f"<contentType>{content_type}</contentType></jobInfo>"
        )
        reply = self.call("POST", "/job", doc, headers=headers)
        assert reply.status == 201, reply.text
        return JobInfo.from_xml(reply.raw)

    def add_batch(self, job_id: str, body: str | bytes, media: str = "text/csv") -> BatchInfo:
        reply = self.call("POST", f"/job/{job_id}/batch", body, content_type=media)
        assert reply.status == 201, reply.text
        return BatchInfo.from_xml(reply.raw)

    def batch(self, job_id: str, batch_id: str) -> BatchInfo:
        reply = self.call("GET", f"/job/{job_id}/batch/{batch_id}")
        assert reply.status == 200, reply.text
        return BatchInfo.from_xml(reply.raw)

    def batches(self, job_id: str) -> list[BatchInfo]:
        from sfbulk_sdk.models import BatchInfoList

        reply = self.call("GET", f"/job/{job_id}/batch")
        assert reply.status == 200, reply.text
        return list(BatchInfoList.from_xml(reply.raw))

    def job(self, job_id: str) -> JobInfo:
        reply = self.call("GET", f"/job/{job_id}")
        assert reply.status == 200, reply.text
        return JobInfo.from_xml(reply.raw)

    def set_state(self, job_id: str, state: str) -> Reply:
        doc = (
            f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{DATALOAD}">'
            f"<state>{state}</state></jobInfo>"
        )
        return self.call("POST", f"/job/{job_id}", doc)

    def results(self, job_id: str, batch_id: str) -> BatchResult:
        reply = self.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
        assert reply.status == 200, reply.text
        if reply.content_type == "text/csv":
            return BatchResult.from_csv(reply.text)
        if reply.content_type == "application/json":
            return BatchResult.from_json(reply.text)
        return BatchResult.from_xml(reply.raw)

    def query_rows(self, job_id: str, batch_id: str) -> list[dict[str, str]]:
        """Every row of every result file of a CSV query batch."""
        listing = self.call("GET", f"/job/{job_id}/batch/{batch_id}/result")
        assert listing.status == 200, listing.text
        ids = re.findall(r"<result>(\w+)</result>", listing.text)
        rows: list[dict[str, str]] = []
        for result_id in ids:
            reply = self.call("GET", f"/job/{job_id}/batch/{batch_id}/result/{result_id}")
            assert reply.status == 200, reply.text
            if reply.text != "Records not found for this query":
                rows.extend(csv.DictReader(io.StringIO(reply.text)))
        return rows

    def run_csv(self, operation: str, sobject: str, body: str, **job: Any) -> BatchResult:
        """One job, one CSV batch, closed; returns the per-record results."""
        info = self.create_job(operation, sobject, "CSV", **job)
        assert info.id is not None
        batch = self.add_batch(info.id, body)
        assert self.set_state(info.id, "Closed").status == 200
        done = self.batch(info.id, batch.id)
        assert done.state.value == "Completed", done
        return self.results(info.id, batch.id)

    def run_query(self, soql: str, sobject: str, operation: str = "query") -> list[dict[str, str]]:
        info = self.create_job(operation, sobject, "CSV")
        assert info.id is not None
        batch = self.add_batch(info.id, soql)
        done = self.batch(info.id, batch.id)
        assert done.state.value == "Completed", done
        return self.query_rows(info.id, batch.id)
