"""Bad input is refused before anything is sent: ``InvalidInputError``, and no request
with a body leaves the client.

Each client here sends through an ``httpx.MockTransport`` that records every
request carrying a body (the only requests that could upload data) and answers
the ``GET`` a client makes to learn a job's content type. After each refusal
the record must be empty. Messages name the row (1-based, header excluded) and
the column where there is one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sfbulk_sdk import AsyncBulk, Bulk, errors
from sfbulk_sdk.core import bulk1, bulk2
from sfbulk_sdk.models.xml import NS
from tests.reliability.hostile import INSTANCE, JOB, STATIC_SESSION, job_xml, reply
from tests.timing import FakeTime

V2_JOB = "7505j000000ZZZZAAA"


class Guard:
    """A transport that fails the test if a request with a body is sent."""

    def __init__(self, content_type: str = "CSV", operation: str = "insert") -> None:
        self.sent: list[httpx.Request] = []
        self._job = job_xml(operation, content_type)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.content:
            self.sent.append(request)
            return reply(500, b"the test failed: a body was sent", "text/plain")
        if request.url.path.endswith(f"/job/{JOB}"):
            return reply(200, self._job, "application/xml")
        job = {"id": V2_JOB, "state": "Open", "apiVersion": 66.0, "columnDelimiter": "COMMA"}
        return reply(200, json.dumps(job).encode(), "application/json")


@pytest.fixture
def guard() -> Iterator[Guard]:
    found = Guard()
    yield found
    assert found.sent == [], f"sent {[(r.method, r.url.path) for r in found.sent]}"


def _bulk(guard: Guard) -> Bulk:
    return Bulk(INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(guard), **FakeTime().sync())


# --------------------------------------------------------------------------- Bulk 1.0 batches

RAGGED: dict[str, tuple[str, str]] = {
    "more values than the header": (
        "Name,Phone\nA,1\nB,2,surplus\n",
        r"row 2 .*3 values but the header has 2 columns: column 3 has no header",
    ),
    "fewer values than the header": (
        "Name,Phone,Email\nA,1,a@x\nB,2,b@x\nC,3\n",
        r"row 3 .*column 3 \('Email'\) is missing",
    ),
    "a quoted line break counts as one row": (
        'Name,Note\n"A","two\nlines"\nB,x,y\n',
        r"row 2 .*line 4",
    ),
    "blank lines are not rows": ("Name,Phone\n\nA,1\n\nB\n", r"row 2 .*column 2 \('Phone'\)"),
    "byte-order mark and CRLF": ("\ufeffName,Phone\r\nA,1\r\nB\r\n", r"row 2 .*\('Phone'\)"),
}


@pytest.mark.parametrize("case", sorted(RAGGED))
def test_a_ragged_csv_row_is_refused_naming_its_row_and_column(guard: Guard, case: str) -> None:
    data, message = RAGGED[case]
    with pytest.raises(errors.InvalidInputError, match=message):
        _bulk(guard).add_batch(JOB, data)
    with pytest.raises(errors.InvalidInputError, match=message):
        _bulk(guard).add_batch(JOB, data.encode())


BAD_DATA: dict[str, tuple[object, str]] = {
    "an int (bytes(12345) would be NUL bytes)": (12345, "not int: bytes"),
    "None": (None, "not NoneType"),
    "a list": ([{"Name": "A"}], "not list"),
    "a dict": ({"Name": "A"}, "not dict"),
    "a float": (1.5, "not float"),
    "empty text": ("", "empty"),
    "white space": ("  \n\n", "empty"),
    "header only": ("Name,Phone\n", "header but no record"),
    "header only, blank lines after": ("Name,Phone\n\n\n", "header but no record"),
    "not UTF-8": (b"Name\n\xff\xfe\n", "not valid UTF-8"),
    "unterminated quote": ('Name,Phone\n"A,1\n', "not well-formed CSV"),
    "stray quote": ('Name,Phone\n"A"x,1\n', "not well-formed CSV"),
    "lone surrogate": ("Name\n\ud800\n", "not valid Unicode"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_a_csv_batch_of_the_wrong_type_or_without_records_is_refused(
    guard: Guard, case: str
) -> None:
    data, message = BAD_DATA[case]
    with pytest.raises(errors.InvalidInputError, match=message):
        _bulk(guard).add_batch(JOB, data)  # type: ignore[arg-type]


def test_the_seed_api_refuses_the_same(guard: Guard) -> None:
    bulk = _bulk(guard)
    bulk._facade.job = bulk.get_job(JOB)
    with pytest.raises(errors.InvalidInputError, match="row 1 "):
        bulk.batch_create("Name\nA,B\n")
    with pytest.raises(errors.InvalidInputError, match="not int"):
        bulk.batch_create(12345)  # type: ignore[arg-type]


JSON_BATCHES: dict[str, tuple[object, str]] = {
    "an empty array": ("[]", r"no record \(an empty array\)"),
    "an object": ('{"Name": "A"}', "array of records, not a dict"),
    "a record that is not an object": ('[{"Name": "A"}, "B"]', "record 2 .* str, not an object"),
    "not JSON": ("[{'Name': 'A'}]", "not valid JSON"),
    "NaN": ('[{"Name": "A", "AnnualRevenue": NaN}]', "NaN"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "too deeply"),
    "None": (None, "not NoneType"),
}


@pytest.mark.parametrize("case", sorted(JSON_BATCHES))
def test_a_bad_json_batch_is_refused(case: str) -> None:
    guard = Guard("JSON")
    data, message = JSON_BATCHES[case]
    with pytest.raises(errors.InvalidInputError, match=message):
        _bulk(guard).add_batch(JOB, data)  # type: ignore[arg-type]
    assert guard.sent == []


XML_BATCHES: dict[str, tuple[str, str]] = {
    "an empty sObjects": (f'<sObjects xmlns="{NS}"/>', "no <sObject> record"),
    "sObjects without records": (f'<sObjects xmlns="{NS}"><x/></sObjects>', "no <sObject>"),
    "another root": (f'<records xmlns="{NS}"><sObject/></records>', "not <records>"),
    "no namespace": ("<sObjects><sObject/></sObjects>", "dataload namespace"),
    "not XML": ("<sObjects", "not well-formed"),
    "a DTD": ('<!DOCTYPE s [<!ENTITY x "y">]><sObjects/>', "DTD"),
    "deep nesting": (
        f'<sObjects xmlns="{NS}"><sObject>' + "<a>" * 100_000,
        "deeper than 100 levels",
    ),
}


@pytest.mark.parametrize("case", sorted(XML_BATCHES))
def test_a_bad_xml_batch_is_refused(case: str) -> None:
    guard = Guard("XML")
    data, message = XML_BATCHES[case]
    with pytest.raises(errors.InvalidInputError, match=message):
        _bulk(guard).add_batch(JOB, data)
    assert guard.sent == []


def test_too_many_records_for_one_batch_is_refused(guard: Guard) -> None:
    data = "Name\n" + "".join(f"A{i}\n" for i in range(10_001))
    with pytest.raises(errors.InvalidInputError, match="10,001 records"):
        _bulk(guard).add_batch(JOB, data)


def test_a_query_batch_needs_soql(guard: Guard) -> None:
    for data, message in ((None, "SOQL text, not NoneType"), ("", "non-empty"), (5, "not int")):
        with pytest.raises(errors.InvalidInputError, match=message):
            bulk1.add_batch(JOB, data, operation="query")  # type: ignore[arg-type]
    # A SOQL batch is not taken for a header-only CSV.
    call = bulk1.add_batch(JOB, "SELECT Id FROM Account")
    assert call.body == b"SELECT Id FROM Account"


# --------------------------------------------------------------------------- jobs and versions

JOB_ARGS: dict[str, tuple[Callable[[Bulk], Any], str]] = {
    "unknown operation": (lambda b: b.create_job("explode", "Account"), "unknown operation"),
    "operation None": (lambda b: b.create_job(None, "Account"), "unknown operation"),
    "upsert without external id": (lambda b: b.create_job("upsert", "Contact"), "external_id"),
    "upsert with a blank external id": (
        lambda b: b.create_job("upsert", "Contact", external_id_field="  "),
        "external_id",
    ),
    "external id not text": (
        lambda b: b.create_job("upsert", "Contact", external_id_field=5),
        "field name",
    ),
    "sObject not text": (lambda b: b.create_job("insert", 5), "API name"),
    "unknown content type": (
        lambda b: b.create_job("insert", "Account", content_type="YAML"),
        "YAML",
    ),
    "PK chunk size not a number": (
        lambda b: b.create_job("query", "Account", pk_chunking=bulk1.PkChunking(chunk_size="5")),
        "chunk size",
    ),
    "job id not text": (lambda b: b.add_batch(12345, "Name\nA\n"), "job id"),
    "v2 unknown operation": (
        lambda b: b.create_ingest_job("explode", "Account"),
        "unknown operation",
    ),
    "v2 query as ingest": (lambda b: b.create_ingest_job("query", "Account"), "unknown operation"),
    "v2 upsert without external id": (
        lambda b: b.create_ingest_job("upsert", "Contact"),
        "external_id",
    ),
    "v2 SOQL not text": (lambda b: b.create_query_job(12345), "SOQL"),
    "v2 SOQL empty": (lambda b: b.create_query_job("   "), "SOQL"),
    "v2 SOQL None": (lambda b: b.create_query_job(None), "SOQL"),
}


@pytest.mark.parametrize("case", sorted(JOB_ARGS))
def test_bad_job_arguments_are_refused(guard: Guard, case: str) -> None:
    call, message = JOB_ARGS[case]
    with pytest.raises(errors.InvalidInputError, match=message):
        call(_bulk(guard))


@pytest.mark.parametrize("version", ["abc", "64.05", "nan", "1e2", "26.0", "", True, 64.5, "v"])
def test_an_invalid_api_version_is_refused(guard: Guard, version: object) -> None:
    with pytest.raises(errors.InvalidInputError, match="API version"):
        Bulk(INSTANCE, STATIC_SESSION, api_version=version, transport=httpx.MockTransport(guard))  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInputError, match="API version"):
        bulk2.query_results(V2_JOB, api_version=version)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInputError, match="API version"):
        bulk2.ingest_results(V2_JOB, "failed", api_version=version)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Bulk 2.0 uploads

UPLOADS: dict[str, tuple[object, str]] = {
    "ragged row": (b"Name,Phone\nA,1\nB,2,3\n", r"row 2 .*column 3 has no header"),
    "short row": (b"Name,Phone\nA,1\nB\n", r"row 2 .*column 2 \('Phone'\) is missing"),
    "pipe-delimited ragged": (b"Name|Phone\nA|1\nB|2|3\n", r"row 2 .*column 3"),
    "header only": (b"Name,Phone\n", "header but no record"),
    "empty": (b"", "empty body"),
    "not bytes": ("Name\nA\n", "must be bytes, not str"),
    "an int": (12345, "must be bytes, not int"),
    "not UTF-8": (b"Name\n\xff\n", "not valid UTF-8"),
}


@pytest.mark.parametrize("case", sorted(UPLOADS))
def test_a_bad_bulk2_upload_is_refused(guard: Guard, case: str) -> None:
    data, message = UPLOADS[case]
    bulk = _bulk(guard)
    with pytest.raises(errors.InvalidInputError, match=message):
        bulk.upload_job_data(V2_JOB, data)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInputError, match=message):
        bulk.upload_job_data(V2_JOB, data, gzip=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", sorted(set(UPLOADS) - {"not bytes", "pipe-delimited ragged"}))
def test_a_bad_create_and_upload_is_refused(guard: Guard, case: str) -> None:
    data, message = UPLOADS[case]
    message = {"an int": "not int: bytes"}.get(case, message)
    with pytest.raises(errors.InvalidInputError, match=message):
        _bulk(guard).create_ingest_job_with_data("insert", "Account", data)  # type: ignore[arg-type]


def test_the_job_delimiter_decides_the_columns(guard: Guard) -> None:
    # A comma inside a pipe-delimited value is data, not a column.
    call = bulk2.upload_job_data(V2_JOB, b"Name|Note\nA|x, y\n", column_delimiter="PIPE")
    assert call.body == b"Name|Note\nA|x, y\n"
    with pytest.raises(errors.InvalidInputError, match=r"row 1 .*column 2"):
        bulk2.upload_job_data(V2_JOB, b"Name|Note\nA\n", column_delimiter="PIPE")
    with pytest.raises(errors.InvalidInputError, match="row 1 "):
        bulk2.create_ingest_job_with_data(
            "insert", "Account", b"Name;Note\nA;b;c\n", column_delimiter="SEMICOLON"
        )


@pytest.mark.anyio
async def test_the_async_client_refuses_before_sending_too() -> None:
    guard = Guard()
    async with AsyncBulk(
        INSTANCE, STATIC_SESSION, transport=httpx.MockTransport(guard), **FakeTime().async_()
    ) as bulk:
        with pytest.raises(errors.InvalidInputError, match=r"row 1 .*column 3"):
            await bulk.add_batch(JOB, "Name,Phone\nA,1,2\n")
        with pytest.raises(errors.InvalidInputError, match="not int"):
            await bulk.add_batch(JOB, 12345)  # type: ignore[arg-type]
        with pytest.raises(errors.InvalidInputError, match="row 1 "):
            await bulk.upload_job_data(V2_JOB, b"Name\nA,B\n")
    assert guard.sent == []


def _ec_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


_GARBAGE_PEM = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key_file": 5}, "must be a path"),
        ({"private_key": 5}, "PEM text or bytes"),
        ({"private_key": _GARBAGE_PEM}, "not a PEM private key"),
        ({"private_key": "not a key"}, "not a PEM private key"),
        ({"private_key": "ec"}, "RSA private key"),
    ],
    ids=["key file not a path", "key not text", "garbage PEM", "not PEM", "an EC key"],
)
def test_a_jwt_flow_refuses_a_bad_key_without_quoting_it(
    kwargs: dict[str, object], message: str
) -> None:
    from sfbulk_sdk.auth.jwt import JwtBearer

    if kwargs.get("private_key") == "ec":
        kwargs = {"private_key": _ec_key()}
    with pytest.raises(errors.InvalidInputError, match=message) as caught:
        JwtBearer("client-id", "user@example.com", **kwargs)  # type: ignore[arg-type]
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert "c2VjcmV0" not in str(caught.value)
