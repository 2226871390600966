"""The base class of every wire model, and the wire formats of dates and numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, JsonValue, SecretStr
from pydantic.alias_generators import to_camel
from typing_extensions import Self

from .xml import NS, parse_xml, render_document

__all__ = [
    "JsonValue",
    "ListDocument",
    "WireList",
    "WireModel",
    "as_list",
    "format_json_datetime",
    "format_xml_datetime",
]

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
    """xmltodict yields one child as a dict and none as ``None``: always give a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


ItemT = TypeVar("ItemT")

#: A list field that also takes xmltodict's shapes: one child (not a list) or none.
WireList = Annotated[list[ItemT], BeforeValidator(as_list)]


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

    @classmethod
    def from_xml(cls, data: str | bytes) -> Self:
        """Parse the model from a Bulk API 1.0 XML document."""
        content = parse_xml(data, cls.xml_root)
        return cls.model_validate(content if isinstance(content, dict) else {})

    @classmethod
    def from_json(cls, data: str | bytes) -> Self:
        """Parse the model from a JSON document."""
        document = json.loads(data)
        if cls.json_array_field and isinstance(document, list):
            document = {cls.json_array_field: document}
        return cls.model_validate(document)

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

    def _items(self) -> list[ItemT]:
        return cast("list[ItemT]", getattr(self, self.items_field))

    def __iter__(self) -> Iterator[ItemT]:  # type: ignore[override]
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __getitem__(self, index: int) -> ItemT:
        return self._items()[index]
