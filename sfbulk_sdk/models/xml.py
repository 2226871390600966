"""The XML codec for the Bulk API 1.0 ``asyncapi`` documents, on a hardened expat parser.

Every XML body the SDK reads, whole (:func:`parse_xml`, the models'
``from_xml``, SOAP login replies) or streamed (the query result decoder), goes
through :func:`new_parser`: an expat parser that refuses a document type
declaration, an entity declaration and an external entity reference the
moment it meets one (:class:`~sfbulk_sdk.errors.UnsafeXmlError`), so nothing is
ever expanded or fetched, and refuses elements nested deeper than
:data:`MAX_DEPTH`. An unknown or unreadable encoding, a truncated body or
anything not well-formed raises :class:`~sfbulk_sdk.errors.MalformedXmlError`:
no parser's own exception escapes.

:func:`parse_xml` folds the dataload namespace away, drops attributes, turns
``xsi:nil`` elements into ``None`` and keeps text (stripped), building the
tree without recursion. Writing keeps the element order it is given (models
pass their fields in Salesforce's XSD order) and escapes every text value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.parsers import expat
from xml.sax.saxutils import escape

from pydantic import JsonValue

from .._redact import body_excerpt
from ..errors import InvalidInputError, MalformedXmlError, SfBulkError, UnsafeXmlError

__all__ = [
    "MAX_DEPTH",
    "NS",
    "XSI_NS",
    "TreeBuilder",
    "XmlError",
    "as_bytes",
    "build_tree",
    "element",
    "feed_xml",
    "new_parser",
    "parse_xml",
    "render_document",
]

NS = "http://www.force.com/2009/06/asyncapi/dataload"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_NAMESPACES: dict[str, str | None] = {NS: None, XSI_NS: "xsi"}

#: Deepest element nesting accepted. Salesforce's documents are a few levels
#: deep (a query record with five parent relationships is about ten).
MAX_DEPTH = 100
#: expat reports ``namespace-uri SEP local-name``; a space never occurs in a URI.
SEP = " "
_NIL = f"{XSI_NS}{SEP}nil"

#: Kept under its old name: the error of a body that is not the XML expected.
XmlError = MalformedXmlError


def _refuse_dtd(*_: object) -> None:
    raise UnsafeXmlError("the XML has a document type declaration (DTD): refused unread")


def _refuse_entity(*_: object) -> None:
    raise UnsafeXmlError("the XML declares an entity: refused, nothing expanded")


def _refuse_external(*_: object) -> int:
    raise UnsafeXmlError("the XML refers to an external entity: refused, nothing fetched")


def new_parser(*, namespaces: bool = True, encoding: str | None = None) -> expat.XMLParserType:
    """An expat parser that refuses DTDs and entities before expanding anything.

    With ``namespaces`` element names come as ``uri SEP local`` (:data:`SEP`).
    ``encoding`` overrides the document's own declaration (for text already
    decoded).
    """
    parser = expat.ParserCreate(encoding, SEP if namespaces else None)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.NotationDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    return parser


def feed_xml(parser: expat.XMLParserType, data: bytes, final: bool, head: bytes = b"") -> None:
    """Feed ``data`` to ``parser``; every failure becomes a :class:`MalformedXmlError`.

    ``head`` (the first bytes of the body) gives the error its excerpt.
    """
    problem = ""
    try:
        parser.Parse(data, final)
    except MalformedXmlError as exc:
        if exc.excerpt is None:
            exc.excerpt = body_excerpt(head or data)
        raise
    except SfBulkError:  # raised by a caller's own handler
        raise
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) or "not well-formed"
        if exc.code == expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING]:
            reason = "declares an encoding the XML parser cannot read"
        problem = (
            f"the body is not well-formed XML: {reason} (line {exc.lineno}, column {exc.offset})"
        )
    except LookupError:
        problem = "the XML declares an encoding Python does not know"
    except (ValueError, UnicodeError) as exc:  # "multi-byte encodings are not supported"
        problem = f"the XML cannot be decoded: {type(exc).__name__}"
    if problem:  # raised outside the handler, without the parser's exception as context
        raise MalformedXmlError(problem, excerpt=body_excerpt(head or data))


def as_bytes(data: object) -> tuple[bytes, str | None]:
    """``data`` as bytes, and the encoding that overrides its declaration (text is UTF-8)."""
    if isinstance(data, str):
        try:
            return data.encode("utf-8"), "utf-8"
        except UnicodeEncodeError:
            raise MalformedXmlError("the XML text holds lone surrogates") from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), None
    raise InvalidInputError(f"XML must be given as str or bytes, not {type(data).__name__}")


class _Frame:
    """One open element: its key in the parent, and what it holds so far."""

    __slots__ = ("attrs", "children", "key", "nil", "text")

    def __init__(self, key: str, nil: bool, attrs: bool) -> None:
        self.key = key
        self.nil = nil
        self.attrs = attrs
        self.children: dict[str, JsonValue] | None = None
        self.text: list[str] = []


def _add(children: dict[str, JsonValue], key: str, value: JsonValue) -> None:
    """A repeated child name becomes a list, in document order (a value is never a list)."""
    if key in children:
        existing = children[key]
        if isinstance(existing, list):
            existing.append(value)
        else:
            children[key] = [existing, value]
    else:
        children[key] = value


class TreeBuilder:
    """Builds the cleaned content of a document from expat events, without recursion.

    ``namespaces`` maps a namespace URI to the prefix its names get (``None``
    for none); names in other namespaces keep their URI. An element with
    attributes but neither text nor children yields ``{}`` with
    ``attrs_as_dict`` (the dataload codec), else ``None`` (SOAP replies), as
    the two readers always did.
    """

    def __init__(
        self, namespaces: Mapping[str, str | None], *, attrs_as_dict: bool = False
    ) -> None:
        self._namespaces = namespaces
        self._attrs_as_dict = attrs_as_dict
        self._stack: list[_Frame] = []
        self._declares = False
        self.root: str | None = None
        self.content: JsonValue = None

    def bind(self, parser: expat.XMLParserType) -> None:
        """Attach the builder's handlers to ``parser``."""
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        parser.StartNamespaceDeclHandler = self._namespace

    def key(self, name: str) -> str:
        """The key of an element name as xmltodict spells it (``prefix:local`` or ``local``)."""
        uri, sep, local = name.rpartition(SEP)
        if not sep:
            return name
        prefix = self._namespaces.get(uri, uri)
        return f"{prefix}:{local}" if prefix else local

    def _namespace(self, _prefix: str | None, _uri: str) -> None:
        # xmltodict counted a namespace declaration as an attribute: so does this.
        self._declares = True

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if len(self._stack) >= MAX_DEPTH:
            raise MalformedXmlError(f"the XML nests elements deeper than {MAX_DEPTH} levels")
        has_attrs = bool(attrs) or self._declares
        self._declares = False
        self._stack.append(_Frame(self.key(name), attrs.get(_NIL) == "true", has_attrs))

    def _data(self, text: str) -> None:
        if self._stack:
            self._stack[-1].text.append(text)

    def _end(self, _name: str) -> None:
        frame = self._stack.pop()
        text = "".join(frame.text).strip() or None
        value: JsonValue
        if frame.nil:
            value = None
        elif frame.children is not None:
            value = frame.children
        elif frame.attrs and text is None and self._attrs_as_dict:
            value = {}
        else:
            value = text
        if self._stack:
            parent = self._stack[-1]
            if parent.children is None:
                parent.children = {}
            _add(parent.children, frame.key, value)
        else:
            self.root, self.content = frame.key, value


def build_tree(
    data: object, namespaces: Mapping[str, str | None], *, attrs_as_dict: bool = False
) -> tuple[str, JsonValue]:
    """``(root key, cleaned content)`` of a whole document, parsed safely."""
    body, encoding = as_bytes(data)
    builder = TreeBuilder(namespaces, attrs_as_dict=attrs_as_dict)
    parser = new_parser(encoding=encoding)
    builder.bind(parser)
    feed_xml(parser, body, True)
    if builder.root is None:  # pragma: no cover - expat reports "no element found" first
        raise MalformedXmlError("the XML has no root element", excerpt=body_excerpt(body))
    return builder.root, builder.content


def parse_xml(data: str | bytes, root: str | Iterable[str]) -> JsonValue:
    """Parse ``data`` and return the cleaned content of its root element.

    ``root`` is the expected root element's local name (or several accepted
    names). An element with no children yields ``None`` (an empty list
    document) or its text; one with children a dict of child name to content
    (a list where a name repeats). Raises :class:`XmlError` (a
    :class:`~sfbulk_sdk.errors.MalformedXmlError`) for anything else, and
    :class:`~sfbulk_sdk.errors.UnsafeXmlError` for a DTD or an entity.
    """
    roots = {root} if isinstance(root, str) else set(root)
    name, content = build_tree(data, _NAMESPACES, attrs_as_dict=True)
    local = name.rsplit(":", 1)[-1]
    if local not in roots:
        raise MalformedXmlError(
            f"expected root element {sorted(roots)}, got {local[:60]!r}",
            excerpt=body_excerpt(data if isinstance(data, (str, bytes)) else None),
        )
    return content


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
