"""The streaming record decoders (``sfbulk_sdk.core.decoders``): CSV, JSON and XML result
bodies decoded the same whatever the chunking."""

from __future__ import annotations

import json
import random

import pytest

from sfbulk_sdk.core import decoders
from sfbulk_sdk.models.xml import NS


def _chunks(data: bytes, rng: random.Random) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 7)
        out.append(data[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("seed", range(5))
def test_csv_decoder_keeps_multiline_values_whatever_the_chunking(seed: int) -> None:
    body = (
        '"Id","Name","Note"\r\n'
        '"001","Ünïcode","line one\nline two"\r\n'
        '"002","Quote ""x""",""\r\n'
        '"003","Comma, inside","a\r\nb\r\nc"\r\n'
    ).encode()
    records = list(decoders.decode_records("text/csv", _chunks(body, random.Random(seed))))
    assert records == [
        {"Id": "001", "Name": "Ünïcode", "Note": "line one\nline two"},
        {"Id": "002", "Name": 'Quote "x"', "Note": ""},
        {"Id": "003", "Name": "Comma, inside", "Note": "a\r\nb\r\nc"},
    ]


@pytest.mark.parametrize("seed", range(5))
def test_json_decoder_streams_array_elements(seed: int) -> None:
    data = [
        {"attributes": {"type": "Account"}, "Id": "001", "Name": "a [b] {c}", "N": 1.5},
        {
            "attributes": {"type": "Account"},
            "Id": "002",
            "Name": None,
            "CreatedDate": 1450219969000,
        },
    ]
    body = json.dumps(data, indent=2).encode()
    records = list(decoders.decode_records("application/json", _chunks(body, random.Random(seed))))
    assert records == data


def test_json_decoder_rejects_truncated_body() -> None:
    with pytest.raises(ValueError, match="ended early"):
        list(decoders.decode_records("application/json", [b'[{"Id": "001"}, {"Id"']))


def test_xml_decoder_records() -> None:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><queryResult xmlns="{NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<records xsi:type="sObject"><type>Account</type><Id>001A</Id><Id>001A</Id>'
        '<Name>Acme &amp; Co</Name><Phone xsi:nil="true"/></records>'
        '<records xsi:type="sObject"><type>Account</type><Id>001B</Id><Id>001B</Id>'
        "<Name>Beta</Name><Phone>123</Phone></records></queryResult>"
    ).encode()
    records = list(decoders.decode_records("application/xml", _chunks(body, random.Random(1))))
    assert records == [
        {"attributes": {"type": "Account"}, "Id": "001A", "Name": "Acme & Co", "Phone": None},
        {"attributes": {"type": "Account"}, "Id": "001B", "Name": "Beta", "Phone": "123"},
    ]
