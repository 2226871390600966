"""Hypothesis strategies for the fuzz tests: arbitrary bytes, and near-valid documents.

Near-valid documents are the dangerous ones: random XML trees built from the
element names Salesforce uses (with namespaces, ``xsi:nil``, escapes, now and
then a DTD, an entity, an odd encoding or a cut), random JSON built from the
wire's keys, and CSV written with random quoting, delimiters and line endings.
Every strategy bounds its size so that no example can make a parser work long.
"""

from __future__ import annotations

import csv
import itertools
import json
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

from sfbulk_sdk.models.soap import PARTNER_NS, SOAP_ENV_NS
from sfbulk_sdk.models.xml import NS, XSI_NS

#: Element names and JSON keys of Salesforce's documents, and a few strangers.
NAMES = [
    "jobInfo",
    "id",
    "operation",
    "object",
    "state",
    "contentType",
    "batchInfo",
    "batchInfoList",
    "jobId",
    "numberRecordsProcessed",
    "results",
    "result",
    "success",
    "created",
    "errors",
    "fields",
    "message",
    "statusCode",
    "result-list",
    "queryResult",
    "records",
    "type",
    "Id",
    "Name",
    "Account",
    "sObjects",
    "sObject",
    "error",
    "exceptionCode",
    "exceptionMessage",
    "Envelope",
    "Body",
    "Fault",
    "faultcode",
    "faultstring",
    "detail",
    "loginResponse",
    "serverUrl",
    "sessionId",
    "userInfo",
    "sessionSecondsValid",
    "passwordExpired",
]
JSON_KEYS = [
    *NAMES,
    "access_token",
    "instance_url",
    "refresh_token",
    "issued_at",
    "resultPages",
    "resultUrl",
    "done",
    "nextRecordsUrl",
    "errorCode",
    "apiVersion",
    "session_id",
    "last_used_at",
]
_NAMESPACES = (None, NS, SOAP_ENV_NS, PARTNER_NS, "urn:other")

#: Text for XML elements: markup characters, white space, accents and astral
#: characters (escaped before they are written).
xml_text = st.text(alphabet=list("aZ09 <>&\"'\t\n\r\u00e9\u20ac\U0001f600;#"), max_size=8)

_PROLOGS = (
    b"",
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<?xml version="1.0" encoding="x-unknown"?>',
    b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.0" encoding="shift_jis"?>',
    b'<!DOCTYPE r [<!ENTITY e "expanded">]>',
    b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd">',
)


@st.composite
def xml_elements(draw: st.DrawFn, depth: int = 0) -> str:
    """One element, with children to a bounded depth."""
    name = draw(st.sampled_from(NAMES))
    attrs = ""
    if draw(st.booleans()):
        attrs += f' xsi:nil="{draw(st.sampled_from(["true", "false", "1"]))}"'
    if draw(st.integers(0, 4)) == 0:
        attrs += f" xmlns={quoteattr(str(draw(st.sampled_from(_NAMESPACES[1:]))))}"
    children = ""
    if depth < 3:
        for _ in range(draw(st.integers(0, 2))):
            children += draw(xml_elements(depth + 1))
    text = escape(draw(xml_text), {"\r": "&#13;"})
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from(["&e;", "&amp;", "&#0;", "&#x41;", "<![CDATA[x]]>", "&"]))
    return f"<{name}{attrs}>{text}{children}</{name}>"


@st.composite
def xml_documents(draw: st.DrawFn) -> bytes:
    """A random document: a Salesforce-ish root and tree, sometimes broken on purpose."""
    root = draw(st.sampled_from(NAMES))
    namespace = draw(st.sampled_from(_NAMESPACES))
    declare = f' xmlns="{namespace}"' if namespace else ""
    inner = "".join(draw(st.lists(xml_elements(1), max_size=3)))
    body = f'<{root}{declare} xmlns:xsi="{XSI_NS}">{inner}</{root}>'.encode()
    document = draw(st.sampled_from(_PROLOGS)) + body
    if draw(st.integers(0, 3)) == 0:
        document = document[: draw(st.integers(0, len(document)))]
    return document


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["750x0000000001AAAA", "Open", "https://na1.example.test", "true"])
)
json_values = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=20,
)


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    """Random JSON (``NaN`` included, as Python writes it), sometimes cut or deepened."""
    text = json.dumps(draw(json_values), indent=draw(st.sampled_from([None, 0, 2])))
    choice = draw(st.integers(0, 7))
    if choice == 0:
        text = text[: draw(st.integers(0, len(text)))]
    elif choice == 1:
        depth = draw(st.integers(1, 3000))
        text = "[" * depth + text + "]" * depth
    return text.encode()


csv_cells = st.text(alphabet=list('aZ9 ,;|^`"\t\n\r\u00e9\u20ac\U0001f600'), max_size=8)


@st.composite
def csv_tables(draw: st.DrawFn, *, delimiter: str | None = None) -> tuple[str, list[list[str]]]:
    """``(delimiter, rows)`` with a header row of field-like names."""
    sep = delimiter or draw(st.sampled_from([",", ";", "|", "\t", "^", "`"]))
    width = draw(st.integers(1, 5))
    header = [f"F{i}_{draw(st.sampled_from(['Id', 'Name', 'x']))}" for i in range(width)]
    rows = draw(st.lists(st.lists(csv_cells, min_size=width, max_size=width), max_size=8))
    return sep, [header, *rows]


def write_csv(delimiter: str, rows: list[list[str]], *, quoting: int, lineterminator: str) -> bytes:
    """The CSV text of ``rows``, each value quoted (``QUOTE_ALL``) or only where it must
    be (``QUOTE_MINIMAL``: a delimiter, a quote or a line break inside, as RFC 4180
    says; :mod:`csv`'s own writer leaves a lone CR unquoted under an LF line end)."""
    special = (delimiter, '"', "\r", "\n")

    def cell(value: str, alone: bool) -> str:
        if quoting == csv.QUOTE_ALL or any(c in value for c in special) or (alone and not value):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delimiter.join(cell(v, len(row) == 1) for v in row) for row in rows]
    return "".join(line + lineterminator for line in lines).encode("utf-8")


@st.composite
def csv_documents(draw: st.DrawFn) -> bytes:
    """Random CSV with random quoting, sometimes cut or with noise spliced in."""
    sep, rows = draw(csv_tables())
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    data = write_csv(
        sep, rows, quoting=quoting, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    choice = draw(st.integers(0, 5))
    if choice == 0:
        data = data[: draw(st.integers(0, len(data)))]
    elif choice == 1:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
    return data


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given positions (any order, any value: clamped and sorted)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]
