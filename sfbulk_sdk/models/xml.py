"""The XML codec for the Bulk API 1.0 ``asyncapi`` documents.

Parsing goes through :mod:`xmltodict` with the dataload namespace folded away,
attributes dropped and ``xsi:nil`` elements turned into ``None``. Writing keeps
the element order it is given (models pass their fields in Salesforce's XSD
order) and escapes every text value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape

import xmltodict
from pydantic import JsonValue

__all__ = [
    "NS",
    "XSI_NS",
    "XmlError",
    "element",
    "parse_xml",
    "render_document",
]

NS = "http://www.force.com/2009/06/asyncapi/dataload"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_NAMESPACES: dict[str, str | None] = {NS: None, XSI_NS: "xsi"}


class XmlError(ValueError):
    """The body is not well-formed XML or lacks the expected root element."""


def _clean(node: object) -> JsonValue:
    """Drop attributes, turn ``xsi:nil`` into ``None`` and keep text.

    xmltodict yields dicts, lists, text and ``None`` only, so the result is
    JSON-shaped.
    """
    if isinstance(node, dict):
        if node.get("@xsi:nil") == "true":
            return None
        out: dict[str, JsonValue] = {}
        for key, value in node.items():
            if key.startswith("@"):
                continue
            if key == "#text":
                if len(node) == 1 or all(k.startswith("@") or k == "#text" for k in node):
                    return _clean(value)
                continue
            out[key] = _clean(value)
        return out
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if node is None or isinstance(node, str):
        return node
    return str(node)


def parse_xml(data: str | bytes, root: str | Iterable[str]) -> JsonValue:
    """Parse ``data`` and return the cleaned content of its root element.

    ``root`` is the expected root element's local name (or several accepted
    names). An element with no children yields ``None`` (an empty list
    document) or its text; one with children a dict of child name to content
    (a list where a name repeats).
    """
    roots = {root} if isinstance(root, str) else set(root)
    try:
        doc = xmltodict.parse(
            data,
            process_namespaces=True,
            namespaces=_NAMESPACES,
            disable_entities=True,
        )
    except ExpatError as exc:
        raise XmlError(f"malformed XML: {exc}") from exc
    if not isinstance(doc, dict) or len(doc) != 1:
        raise XmlError("XML document has no single root element")
    ((name, content),) = doc.items()
    local = name.rsplit(":", 1)[-1]
    if local not in roots:
        raise XmlError(f"expected root element {sorted(roots)}, got {local!r}")
    return _clean(content)


def element(name: str, value: object) -> str:
    """Render one element; lists repeat the element, mappings nest, ``None`` is skipped."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        inner = "".join(element(k, v) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, (list, tuple)):
        return "".join(element(name, item) for item in value)
    text = ("true" if value else "false") if isinstance(value, bool) else escape(str(value))
    return f"<{name}>{text}</{name}>"


def render_document(root: str, children: Iterable[tuple[str, object]], *, ns: str = NS) -> str:
    """Render a complete XML document with ``root`` in the dataload namespace."""
    body = "".join(element(name, value) for name, value in children)
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{ns}">{body}</{root}>'
