"""Property: a decoder gives the same records whatever the chunk boundaries.

Random result files are generated with the records they must decode to: CSV
written by :mod:`csv` with random quoting, delimiters and line endings (quoted
line breaks, doubled quotes and multi-byte characters included), JSON arrays
with random indentation, and XML ``queryResult`` documents with ``xsi:nil``,
duplicated ``Id`` elements, relationship fields and escaped text. Each body is
decoded whole, byte by byte where it is short, and cut at random points
(through multi-byte characters too); every way gives exactly the generated
records.
"""

from __future__ import annotations

import csv
import json
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfbulk_sdk.core.decoders import QueryRecord, record_decoder
from sfbulk_sdk.models.base import JsonValue
from sfbulk_sdk.models.xml import NS, XSI_NS
from tests.reliability.strategies import chunked, csv_tables, write_csv

#: Examples per decoder.
EXAMPLES = 300
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
cuts = st.lists(st.integers(0, 2000), max_size=16)


def _decode(media: str, pieces: list[bytes], delimiter: str = ",") -> list[QueryRecord]:
    decoder = record_decoder(media, delimiter=delimiter)
    out: list[QueryRecord] = []
    for piece in pieces:
        out += decoder.feed(piece)
    return out + decoder.close()


def _every_way(media: str, body: bytes, points: list[int], delimiter: str = ",") -> None:
    whole = _decode(media, [body], delimiter)
    assert _decode(media, chunked(body, points), delimiter) == whole
    if len(body) <= 400:
        singles = [body[i : i + 1] for i in range(len(body))]
        assert _decode(media, singles, delimiter) == whole
    return None


@PROPERTY
@given(
    csv_tables(),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    cuts,
)
def test_csv_records_do_not_depend_on_the_chunks(
    table: tuple[str, list[list[str]]], quoting: int, ending: str, bom: bool, points: list[int]
) -> None:
    delimiter, rows = table
    body = write_csv(delimiter, rows, quoting=quoting, lineterminator=ending)
    if bom:
        body = b"\xef\xbb\xbf" + body
    header, *records = rows
    expected = [dict(zip(header, row, strict=True)) for row in records]
    assert _decode("text/csv", [body], delimiter) == expected
    _every_way("text/csv", body, points, delimiter)


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=list('a "\\\n\u00e9\u20ac\U0001f600[]{},:'), max_size=8)
)
_json_value = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_json_record = st.dictionaries(st.text(max_size=6), _json_value, max_size=5)


@PROPERTY
@given(
    st.lists(_json_record, max_size=6),
    st.sampled_from([None, 0, 1, 4]),
    st.booleans(),
    cuts,
)
def test_json_records_do_not_depend_on_the_chunks(
    records: list[dict[str, JsonValue]], indent: int | None, ascii_only: bool, points: list[int]
) -> None:
    body = json.dumps(records, indent=indent, ensure_ascii=ascii_only).encode()
    assert _decode("application/json", [body]) == records
    _every_way("application/json", body, points)


_names = st.sampled_from(["Name", "Phone", "Email", "Note__c", "Amount", "Description"])
_xml_text = st.text(alphabet=list("ab <>&\"'\t\n\r\u00e9\u20ac\U0001f600"), max_size=8)


def _text(value: str) -> str:
    # A literal CR would reach the decoder as LF (XML normalises line ends).
    return escape(value, {"\r": "&#13;", '"': "&quot;"})


@st.composite
def _xml_records(draw: st.DrawFn) -> tuple[str, QueryRecord]:
    """One ``records`` element and the record it decodes to."""
    sobject = draw(st.sampled_from(["Account", "Contact"]))
    record_id = draw(st.sampled_from(["001x00000000001AAA", "003x00000000002AAA"]))
    xml = f'<records xsi:type="sObject"><type>{sobject}</type><Id>{record_id}</Id>'
    record: QueryRecord = {"attributes": {"type": sobject}, "Id": record_id}
    if draw(st.booleans()):
        xml += f"<Id>{record_id}</Id>"  # Salesforce repeats a queried Id
    for name in draw(st.lists(_names, unique=True, max_size=4)):
        if draw(st.integers(0, 4)) == 0:
            xml += f'<{name} xsi:nil="true"/>'
            record[name] = None
        else:
            value = draw(_xml_text)
            xml += f"<{name}>{_text(value)}</{name}>"
            record[name] = value
    if draw(st.booleans()):
        owner = draw(_xml_text)
        xml += (
            '<Owner xsi:type="sObject"><type>User</type><Id xsi:nil="true"/>'
            f"<Name>{_text(owner)}</Name></Owner>"
        )
        record["Owner"] = {"type": "User", "Id": None, "Name": owner}
    return xml + "</records>", record


@PROPERTY
@given(
    st.lists(_xml_records(), max_size=6),
    st.sampled_from(["", "\n", "\n  "]),
    st.booleans(),
    cuts,
)
def test_xml_records_do_not_depend_on_the_chunks(
    items: list[tuple[str, QueryRecord]], space: str, declared: bool, points: list[int]
) -> None:
    prolog = '<?xml version="1.0" encoding="UTF-8"?>' if declared else ""
    body = (
        f'{prolog}<queryResult xmlns="{NS}" xmlns:xsi="{XSI_NS}">{space}'
        + space.join(xml for xml, _ in items)
        + f"{space}</queryResult>"
    ).encode()
    assert _decode("application/xml", [body]) == [record for _, record in items]
    _every_way("application/xml", body, points)
