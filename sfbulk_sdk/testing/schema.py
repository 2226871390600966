"""The fake org's declarable schema: field types, fields and objects.

The predeclared standard objects are in :mod:`~sfbulk_sdk.testing.standard`;
custom objects (``Name__c``) and custom fields (``Field__c``) are declared with
:class:`FieldSpec`, or loaded from a describe document
(:mod:`~sfbulk_sdk.testing.describe`). How values are parsed and rendered is in
:mod:`~sfbulk_sdk.testing.values`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TypeAlias

from ..models.enums import StrEnum
from .ids import BASE62

__all__ = [
    "SYSTEM_FIELDS",
    "FieldReader",
    "FieldSpec",
    "FieldType",
    "FieldValue",
    "FieldValueError",
    "SObjectSpec",
    "auto_number",
    "custom_object_fields",
]

#: A field's value as the org holds it (``None`` is a null).
FieldValue: TypeAlias = str | bool | int | float | date | datetime | time | None
#: Reads another field of the same record by name (what a computed field sees).
FieldReader: TypeAlias = Callable[[str], FieldValue]


class FieldType(StrEnum):
    """A field's data type (the SOAP ``soapType`` family it behaves like)."""

    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    REFERENCE = "reference"

    @property
    def is_text(self) -> bool:
        """True for the string-valued types (compared case-insensitively)."""
        return self in _TEXT_TYPES

    @property
    def is_number(self) -> bool:
        """True for ``int``, ``double``, ``currency`` and ``percent``."""
        return self in _NUMBER_TYPES


_TEXT_TYPES = frozenset(
    {
        FieldType.STRING,
        FieldType.TEXTAREA,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
        FieldType.PICKLIST,
        FieldType.MULTIPICKLIST,
    }
)
_NUMBER_TYPES = frozenset({FieldType.INT, FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT})
_DEFAULT_LENGTH = {
    FieldType.STRING: 255,
    FieldType.TEXTAREA: 32768,
    FieldType.EMAIL: 80,
    FieldType.PHONE: 40,
    FieldType.URL: 255,
    FieldType.PICKLIST: 255,
    FieldType.MULTIPICKLIST: 4099,
}


class FieldValueError(ValueError):
    """A value a record cannot take: becomes that record's error in the batch result."""

    def __init__(self, status_code: str, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.fields = fields


@dataclass(frozen=True)
class FieldSpec:
    """One field of an sObject.

    ``type`` accepts a :class:`FieldType` or its value (``"double"``).
    ``external_id`` fields can be used by upsert and by ``Parent.ExtId__c``
    references; ``unique`` fields reject duplicates with ``DUPLICATE_VALUE``.
    Text fields default to Salesforce's usual lengths (255 for a string).
    ``precision`` / ``scale`` bound a number (digits in all, digits after the
    point: ``NUMBER_OUTSIDE_VALID_RANGE`` beyond); ``picklist_values`` with
    ``restricted_picklist`` refuse other values
    (``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``).
    """

    name: str
    type: FieldType | str = FieldType.STRING
    required: bool = False
    unique: bool = False
    external_id: bool = False
    length: int | None = None
    reference_to: str | None = None
    relationship_name: str | None = None
    default: FieldValue = None
    label: str | None = None
    createable: bool = True
    updateable: bool = True
    case_sensitive: bool = False
    precision: int | None = None
    scale: int | None = None
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    compute: Callable[[FieldReader], FieldValue] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        ftype = FieldType(self.type)
        object.__setattr__(self, "type", ftype)
        if self.length is None and ftype in _DEFAULT_LENGTH:
            object.__setattr__(self, "length", _DEFAULT_LENGTH[ftype])
        if ftype is FieldType.REFERENCE:
            if not self.reference_to:
                raise ValueError(f"reference field {self.name} needs reference_to")
            if self.relationship_name is None:
                rel = (
                    self.name[:-3] + "__r"
                    if self.name.endswith("__c")
                    else self.name[:-2]
                    if self.name.endswith("Id")
                    else None
                )
                object.__setattr__(self, "relationship_name", rel)
        if self.label is None:
            object.__setattr__(self, "label", _label(self.name))
        object.__setattr__(self, "picklist_values", tuple(self.picklist_values))
        if self.restricted_picklist and not self.picklist_values:
            raise ValueError(f"restricted picklist {self.name} needs picklist_values")

    @property
    def field_type(self) -> FieldType:
        """The field's type as a :class:`FieldType`."""
        kind = self.type  # a FieldType since __post_init__; the check keeps this cheap per row
        return kind if isinstance(kind, FieldType) else FieldType(kind)

    @property
    def indexed(self) -> bool:
        """True when the org keeps a value index (unique or external id)."""
        return self.unique or self.external_id


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base.replace("_", " ")).strip()


#: Fields every object has, maintained by the org (read-only to clients except OwnerId).
SYSTEM_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("Id", FieldType.ID, createable=False, updateable=False, label="Record ID"),
    FieldSpec("IsDeleted", FieldType.BOOLEAN, createable=False, updateable=False),
    *(
        FieldSpec(name, field_type, createable=False, updateable=False, reference_to=user)
        for prefix in ("Created", "LastModified")
        for name, field_type, user in (
            (f"{prefix}Date", FieldType.DATETIME, None),
            (f"{prefix}ById", FieldType.REFERENCE, "User"),
        )
    ),
    FieldSpec("SystemModstamp", FieldType.DATETIME, createable=False, updateable=False),
    FieldSpec("OwnerId", FieldType.REFERENCE, reference_to="User"),
)
_SYSTEM_NAMES = frozenset(f.name for f in SYSTEM_FIELDS)


class SObjectSpec:
    """An sObject type: its API name, key prefix and fields (looked up case-insensitively)."""

    def __init__(
        self,
        name: str,
        key_prefix: str,
        fields: Iterable[FieldSpec] = (),
        *,
        label: str | None = None,
    ) -> None:
        self.name = name
        self.key_prefix = key_prefix
        self.label = label or _label(name)
        self.custom = name.endswith("__c")
        self._fields: dict[str, FieldSpec] = {}
        for spec in SYSTEM_FIELDS:
            self._fields[spec.name.lower()] = spec
        for spec in fields:
            self.add_field(spec)

    def add_field(self, spec: FieldSpec) -> None:
        """Add (or replace) a field; system fields cannot be redeclared."""
        if spec.name in _SYSTEM_NAMES:
            raise ValueError(f"{spec.name} is a system field of every object")
        self._fields[spec.name.lower()] = spec

    def field(self, name: str) -> FieldSpec | None:
        """The field called ``name`` (any case), or ``None``."""
        return self._fields.get(name.lower())

    def upsert_key(self, external: str | None) -> str:
        """The real name of the field an upsert matches on (an external id, or ``Id``).

        ``ValueError`` with the body of Salesforce's ``InvalidJob`` message when
        it is blank or not an external id; Bulk 1.0 and 2.0 wrap it each their way.
        """
        if not external:
            raise ValueError(
                f"External ID was blank for {self.name}. An External ID must be specified "
                "for upsert."
            )
        spec = self.field(external)
        if spec is None or not (spec.external_id or spec.name == "Id"):
            raise ValueError(
                f"Field name provided, {external} does not match an External ID for {self.name}"
            )
        return spec.name

    def relationship(self, name: str) -> FieldSpec | None:
        """The reference field whose relationship is called ``name`` (any case)."""
        wanted = name.lower()
        for spec in self._fields.values():
            if spec.relationship_name and spec.relationship_name.lower() == wanted:
                return spec
        return None

    @property
    def fields(self) -> list[FieldSpec]:
        """All fields, system fields first, in declaration order."""
        return list(self._fields.values())

    def __iter__(self) -> Iterator[FieldSpec]:
        return iter(self._fields.values())

    @property
    def required_fields(self) -> list[FieldSpec]:
        """Fields a record must have a value for."""
        return [f for f in self._fields.values() if f.required]

    def __repr__(self) -> str:
        return f"SObjectSpec({self.name!r}, key_prefix={self.key_prefix!r})"


def auto_number(get: FieldReader) -> FieldValue:
    """An auto-number value (``00001234``) derived from the record's id counter.

    Ids are issued in increasing order, so the numbers increase with creation
    as Salesforce's do (``Case.CaseNumber``, auto-number custom fields).
    """
    rid = get("Id")
    if not isinstance(rid, str):
        return None
    number = 0
    for char in rid[5:15]:
        number = number * 62 + BASE62.index(char)
    return f"{number:08d}"


def custom_object_fields(fields: Iterable[FieldSpec]) -> list[FieldSpec]:
    """A custom object's fields: the standard ``Name`` plus the declared ones."""
    declared = list(fields)
    names = {f.name.lower() for f in declared}
    base = [] if "name" in names else [FieldSpec("Name", FieldType.STRING, length=80)]
    return base + declared
