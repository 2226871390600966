"""The base class of every wire model, and the wire formats of dates and numbers.

Parsing a wire document (:meth:`WireModel.from_xml`, :meth:`WireModel.from_json`)
raises only :class:`~sfbulk_sdk.errors.MalformedReplyError` (and its XML
subclasses): a body that is not JSON or XML, is nested too deeply, or is well
formed but not the document the model describes. A pydantic
``ValidationError`` is at most its ``__cause__``, and not even that for a
model holding a secret (:attr:`WireModel.holds_secrets`): its text quotes the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, ClassVar, Generic, TypeVar, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    JsonValue,
    SecretStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel
from typing_extensions import Self

from .._redact import body_excerpt
from ..errors import InvalidInputError, MalformedReplyError
from .xml import MAX_DEPTH, NS, parse_xml, render_document

__all__ = [
    "JsonValue",
    "ListDocument",
    "WireList",
    "WireModel",
    "WireText",
    "as_list",
    "format_json_datetime",
    "format_xml_datetime",
    "header_safe",
    "load_json",
    "validation_summary",
]

_WIRE = "sfbulk_wire"
#: The validation context of a document read from the wire (see ``wire_required``).
WIRE_CONTEXT = {_WIRE: True}


def _excerpt(data: object) -> str | None:
    return body_excerpt(data) if isinstance(data, (str, bytes, bytearray)) else None


def _too_deep(document: object) -> bool:
    """Whether containers nest deeper than :data:`MAX_DEPTH` (checked without recursion)."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class _NotJson(Exception):
    """``NaN`` or ``Infinity``: Python's json reads them, JSON has no such thing."""


def _refuse_constant(token: str) -> object:
    raise _NotJson(token)


def load_json(data: object, what: str = "the body") -> JsonValue:
    """``json.loads`` that raises only :class:`~sfbulk_sdk.errors.MalformedReplyError`.

    Refused: text that is not JSON (or not UTF-8, or holds ``NaN``), and documents nested deeper
    than :data:`~sfbulk_sdk.models.xml.MAX_DEPTH` (which ``json`` itself would
    answer with a ``RecursionError``). ``what`` names the document in the message.
    """
    if not isinstance(data, (str, bytes, bytearray)):
        raise InvalidInputError(f"JSON must be given as str or bytes, not {type(data).__name__}")
    problem = ""
    document: JsonValue = None
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except _NotJson as exc:
        problem = f"is not JSON: it holds {exc.args[0]}"
    except RecursionError:
        problem = f"nests JSON deeper than {MAX_DEPTH} levels"
    except json.JSONDecodeError as exc:
        problem = f"is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except ValueError:  # UnicodeDecodeError, or an integer too long to convert
        problem = "is not UTF-8 JSON text"
    else:
        if _too_deep(document):
            problem = f"nests JSON deeper than {MAX_DEPTH} levels"
    if problem:
        # Raised outside the handler: the decoder's exception keeps the whole
        # document (``doc``, ``object``), which may hold a token.
        raise MalformedReplyError(f"{what} {problem}", excerpt=_excerpt(data))
    return document


def validation_summary(error: ValidationError, limit: int = 3) -> str:
    """Where and why validation failed, without the input (which may hold a secret)."""
    problems = error.errors(include_input=False, include_url=False, include_context=False)
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'document'}: {err['msg']}"
        for err in problems[:limit]
    ]
    more = len(problems) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# ``JsonValue`` (pydantic's recursive alias: dicts with str keys, lists, str,
# int, float, bool, None) is the one type of JSON-shaped values in the SDK's
# signatures; import it from here.


def format_xml_datetime(value: datetime) -> str:
    """``2012-05-29T21:50:47.000Z``: the XML form (UTC, milliseconds, ``Z``)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def format_json_datetime(value: datetime) -> str:
    """``2015-12-15T22:52:49.000+0000``: the JSON form used by both Bulk APIs."""
    return format_xml_datetime(value)[:-1] + "+0000"


def as_list(value: object) -> list[object]:
    """The XML reader yields one child as a dict and none as ``None``: always give a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


ItemT = TypeVar("ItemT")

#: A list field that also takes the XML reader's shapes: one child (not a list) or none.
WireList = Annotated[list[ItemT], BeforeValidator(as_list)]


def _none_as_empty(value: object) -> object:
    return "" if value is None else value


#: A text field that may come empty: ``<message/>``, ``"message": null`` read as ``""``.
WireText = Annotated[str, BeforeValidator(_none_as_empty)]


class WireModel(BaseModel):
    """A pydantic model of one Salesforce wire document.

    Attributes are snake_case with the wire's camelCase names as aliases; both
    are accepted on input. Unknown fields are kept (``model_extra``). Fields
    are declared in Salesforce's element order so that :meth:`to_xml` keeps it.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="allow",
        use_enum_values=False,
    )

    xml_root: ClassVar[str] = ""
    #: The field holding the document when its JSON form is a bare array.
    json_array_field: ClassVar[str] = ""
    #: Wire names a document read from the wire must hold, though the model
    #: (which also builds requests) gives them defaults: without them the
    #: document is not one of this kind.
    wire_required: ClassVar[tuple[str, ...]] = ()
    #: True when the model holds a secret: its validation errors are then
    #: never chained, since pydantic's text quotes the input.
    holds_secrets: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _wire_shape(cls, data: object, info: ValidationInfo) -> object:
        if cls.wire_required and isinstance(info.context, dict) and info.context.get(_WIRE):
            if not isinstance(data, dict):
                raise ValueError(f"expected a {cls.__name__} document")
            missing = [
                name
                for name in cls.wire_required
                if name not in data and _snake(cls, name) not in data
            ]
            if missing:
                raise ValueError(f"not a {cls.__name__}: it lacks {', '.join(missing)}")
        return data

    @classmethod
    def from_wire(cls, document: object, *, excerpt: str | None = None) -> Self:
        """Validate a document read from the wire; any failure is a ``MalformedReplyError``."""
        try:
            return cls.model_validate(document, context=WIRE_CONTEXT)
        except ValidationError as exc:
            error = MalformedReplyError(
                f"the reply is not a valid {cls.__name__}: {validation_summary(exc)}",
                excerpt=excerpt,
            )
            if not cls.holds_secrets:
                raise error from exc
        # Raised outside the handler: not even as __context__ does pydantic's
        # error (whose text quotes the input) travel with it.
        raise error

    @classmethod
    def from_xml(cls, data: str | bytes) -> Self:
        """Parse the model from a Bulk API 1.0 XML document.

        Raises :class:`~sfbulk_sdk.errors.MalformedReplyError` (XML problems as
        :class:`~sfbulk_sdk.errors.MalformedXmlError`, a DTD or entity as
        :class:`~sfbulk_sdk.errors.UnsafeXmlError`) for anything else.
        """
        content = parse_xml(data, cls.xml_root)
        if content is not None and not isinstance(content, dict):
            raise MalformedReplyError(
                f"the <{cls.xml_root}> document holds text, not elements", excerpt=_excerpt(data)
            )
        try:
            return cls.from_wire(content or {})
        except MalformedReplyError as error:
            error.excerpt = _excerpt(data)  # made for a failed reply only: it costs a scan
            raise

    @classmethod
    def from_json(cls, data: str | bytes) -> Self:
        """Parse the model from a JSON document (an object, or an array for list documents).

        Raises :class:`~sfbulk_sdk.errors.MalformedReplyError` for anything else.
        """
        document = load_json(data, f"the {cls.__name__} reply")
        return cls._from_json_document(document, _excerpt(data))

    @classmethod
    def _from_json_document(cls, document: JsonValue, excerpt: str | None) -> Self:
        items = cls.json_array_field
        if items and isinstance(document, list):
            document = {items: document}
        elif not isinstance(document, dict):
            kind = "an array" if items else "an object"
            raise MalformedReplyError(
                f"a {cls.__name__} reply must be a JSON {kind}, not {type(document).__name__}",
                excerpt=excerpt,
            )
        elif items and items not in document and _alias(cls, items) not in document:
            raise MalformedReplyError(
                f"a {cls.__name__} reply must be a JSON array", excerpt=excerpt
            )
        return cls.from_wire(document, excerpt=excerpt)

    def wire_items(self, *, style: str = "xml") -> Iterator[tuple[str, JsonValue]]:
        """Yield ``(wire name, wire value)`` in element order, skipping ``None``.

        ``style`` is ``"xml"`` (``Z`` dates) or ``"json"`` (``+0000`` dates).
        """
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue
            yield (info.alias or name), _wire_value(value, style)
        for name, value in (self.model_extra or {}).items():
            if value is not None:
                yield name, _wire_value(value, style)

    def to_xml(self) -> str:
        """Render the model as an XML document in the dataload namespace."""
        return render_document(self.xml_root, self.wire_items(style="xml"), ns=NS)

    def to_wire_json(self) -> str:
        """Render the model as Salesforce writes JSON: keys sorted, ``+0000`` dates."""
        return json.dumps(dict(self.wire_items(style="json")), sort_keys=True)


def _alias(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    return (info.alias or field) if info is not None else field


def _snake(model: type[BaseModel], wire_name: str) -> str:
    for name, info in model.model_fields.items():
        if info.alias == wire_name:
            return name
    return wire_name


def _wire_value(value: object, style: str) -> JsonValue:
    if isinstance(value, Enum):
        return cast("JsonValue", value.value)
    if isinstance(value, datetime):
        return format_xml_datetime(value) if style == "xml" else format_json_datetime(value)
    if isinstance(value, SecretStr):
        raise TypeError("secrets are never rendered on the wire by a model")
    if isinstance(value, WireModel):
        return dict(value.wire_items(style=style))
    if isinstance(value, list):
        return [_wire_value(item, style) for item in value]
    # A scalar field, or an unknown field as parsed from XML or JSON: passed on
    # as it is (the XML writer renders any scalar with ``str``).
    return cast("JsonValue", value)


class ListDocument(WireModel, Generic[ItemT]):
    """A document that is a list of items (``batchInfoList``, ``results``, ``result-list``).

    It iterates, indexes and measures like its list, which lives in the field
    named by :attr:`items_field`.
    """

    items_field: ClassVar[str] = ""

    @classmethod
    def _from_json_document(cls, document: JsonValue, excerpt: str | None) -> Self:
        # A JSON object must hold the list's own key (an object without it is
        # another document, not an empty list).
        key = _alias(cls, cls.items_field)
        if (
            not cls.json_array_field
            and isinstance(document, dict)
            and key not in document
            and cls.items_field not in document
        ):
            raise MalformedReplyError(f"a {cls.__name__} reply must hold {key!r}", excerpt=excerpt)
        return super()._from_json_document(document, excerpt)

    def _items(self) -> list[ItemT]:
        return cast("list[ItemT]", getattr(self, self.items_field))

    def __iter__(self) -> Iterator[ItemT]:  # type: ignore[override]
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __getitem__(self, index: int) -> ItemT:
        return self._items()[index]


def header_safe(value: str) -> bool:
    """Whether ``value`` can travel as an HTTP header value as it is (visible ASCII only;
    a session id or token holds nothing else)."""
    return value.isascii() and value.isprintable() and not any(c.isspace() for c in value)
