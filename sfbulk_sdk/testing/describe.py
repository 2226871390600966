"""Describe documents in and out: an org's own schema for the fake, and the fake's schema back.

:func:`read_describe` turns the JSON a real org answers to ``GET
/services/data/vXX.X/sobjects/{name}/describe`` into what the fake declares:
the object's name, key prefix, label, whether it is custom, and a
:class:`~sfbulk_sdk.testing.schema.FieldSpec` per field it can hold. It reads
``name``, ``type``, ``length``, ``precision``, ``scale``, ``digits``,
``nillable``, ``createable``, ``updateable``, ``defaultedOnCreate``,
``defaultValue``, ``externalId``, ``unique``, ``caseSensitive``,
``referenceTo``, ``relationshipName``, ``calculated``, ``autoNumber``,
``picklistValues``, ``restrictedPicklist`` and ``label``; everything else is
ignored. A field is required when it is createable, not nillable, not
defaulted on create and not a checkbox, which is how Salesforce marks a
required field in a describe.

Left out (listed in :attr:`DescribedObject.skipped`): the system fields every
object already has, compound fields (``address``, ``location``), types Bulk
loads cannot write (``base64``, ``anyType``, ``complexvalue``, ``json``), and
references to objects the org does not know (declare or load the parent
first). ``combobox`` and ``encryptedstring`` behave as strings, ``long`` as
``int``. Formula (``calculated``) fields are read-only and stay empty;
auto-number fields number the records.

:func:`describe_document` renders an object of the fake the same way, so the
fake serves the describe call back (keys sorted, as Salesforce sends them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from .schema import SYSTEM_FIELDS, FieldSpec, FieldType, FieldValue, SObjectSpec, auto_number

__all__ = ["DescribeDocument", "DescribedObject", "describe_document", "read_describe"]

#: A describe document as given: JSON text (str or bytes) or the parsed object.
DescribeDocument: TypeAlias = "str | bytes | Mapping[str, object]"

_SYSTEM = frozenset(f.name.lower() for f in SYSTEM_FIELDS)
_ALIASES = {
    "combobox": FieldType.STRING,
    "encryptedstring": FieldType.STRING,
    "long": FieldType.INT,
}
_SKIPPED_TYPES = frozenset({"address", "location", "base64", "anytype", "complexvalue", "json"})
_SOAP_TYPES = {
    FieldType.ID: "tns:ID",
    FieldType.REFERENCE: "tns:ID",
    FieldType.BOOLEAN: "xsd:boolean",
    FieldType.INT: "xsd:int",
    FieldType.DOUBLE: "xsd:double",
    FieldType.CURRENCY: "xsd:double",
    FieldType.PERCENT: "xsd:double",
    FieldType.DATE: "xsd:date",
    FieldType.DATETIME: "xsd:dateTime",
    FieldType.TIME: "xsd:time",
}


@dataclass(frozen=True)
class DescribedObject:
    """What a describe document declares: the object and the fields the fake can hold."""

    name: str
    key_prefix: str | None
    label: str | None
    custom: bool
    fields: list[FieldSpec]
    skipped: list[str] = field(default_factory=list)


def _document(data: DescribeDocument) -> Mapping[str, object]:
    parsed: object = json.loads(data) if isinstance(data, (str, bytes)) else data
    if not isinstance(parsed, Mapping) or not isinstance(parsed.get("name"), str):
        raise ValueError("a describe document is a JSON object with a 'name'")
    if not isinstance(parsed.get("fields"), list):
        raise ValueError("a describe document has a 'fields' list")
    return parsed


def _text(entry: Mapping[str, object], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def _number(entry: Mapping[str, object], key: str) -> int | None:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value > 0 else None


def _flag(entry: Mapping[str, object], key: str, default: bool = False) -> bool:
    value = entry.get(key)
    return value if isinstance(value, bool) else default


def _picklist(entry: Mapping[str, object]) -> tuple[tuple[str, ...], str | None]:
    """The active values of a picklist field and its default value."""
    values: list[str] = []
    default: str | None = None
    raw = entry.get("picklistValues")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
            continue
        if not _flag(item, "active", True):
            continue
        values.append(str(item["value"]))
        if _flag(item, "defaultValue"):
            default = str(item["value"])
    return tuple(values), default


def _field(
    entry: Mapping[str, object], sobject: str, known: Callable[[str], bool]
) -> FieldSpec | str:
    """The field spec of one describe field, or why it is left out."""
    name = _text(entry, "name")
    if name is None:
        return "(a field without a name)"
    raw_type = (_text(entry, "type") or "").lower()
    if name.lower() in _SYSTEM or raw_type == "id":
        return f"{name} (a system field of every object)"
    if raw_type in _SKIPPED_TYPES:
        return f"{name} ({raw_type} fields cannot be loaded in bulk)"
    try:
        ftype = _ALIASES.get(raw_type) or FieldType(raw_type)
    except ValueError:
        return f"{name} (type {raw_type or 'missing'} is not supported)"
    reference_to: str | None = None
    if ftype is FieldType.REFERENCE:
        targets = entry.get("referenceTo")
        names = [t for t in targets if isinstance(t, str)] if isinstance(targets, list) else []
        reference_to = next((t for t in names if t == sobject or known(t)), None)
        if reference_to is None:
            return f"{name} (references {', '.join(names) or 'nothing'}, unknown to the org)"
    calculated = _flag(entry, "calculated")
    auto = _flag(entry, "autoNumber")
    createable = _flag(entry, "createable") and not (calculated or auto)
    updateable = _flag(entry, "updateable") and not (calculated or auto)
    defaulted = _flag(entry, "defaultedOnCreate")
    values, picklist_default = _picklist(entry)
    default: FieldValue = picklist_default
    given = entry.get("defaultValue")
    if default is None and isinstance(given, (str, bool, int, float)):
        default = given
    if ftype is FieldType.BOOLEAN and not isinstance(default, bool):
        default = None
    precision = _number(entry, "digits" if ftype is FieldType.INT else "precision")
    nillable = _flag(entry, "nillable", True)
    required = createable and not nillable and not defaulted and ftype is not FieldType.BOOLEAN
    return FieldSpec(
        name,
        ftype,
        required=required,
        unique=_flag(entry, "unique"),
        external_id=_flag(entry, "externalId"),
        length=_number(entry, "length") if ftype.is_text else None,
        reference_to=reference_to,
        relationship_name=_text(entry, "relationshipName"),
        default=default,
        label=_text(entry, "label"),
        createable=createable,
        updateable=updateable,
        case_sensitive=_flag(entry, "caseSensitive"),
        precision=precision,
        scale=_number(entry, "scale") if precision is not None else None,
        picklist_values=values,
        restricted_picklist=_flag(entry, "restrictedPicklist") and bool(values),
        compute=auto_number if auto else None,
    )


def read_describe(data: DescribeDocument, known: Callable[[str], bool]) -> DescribedObject:
    """Read a describe document; ``known`` says which object names the org has."""
    document = _document(data)
    name = str(document["name"])
    fields: list[FieldSpec] = []
    skipped: list[str] = []
    raw_fields = document["fields"]
    assert isinstance(raw_fields, list)
    for entry in raw_fields:
        if not isinstance(entry, Mapping):
            skipped.append("(a field that is not a JSON object)")
            continue
        spec = _field(entry, name, known)
        if isinstance(spec, str):
            skipped.append(spec)
        else:
            fields.append(spec)
    custom = document.get("custom")
    return DescribedObject(
        name=name,
        key_prefix=_text(document, "keyPrefix"),
        label=_text(document, "label"),
        custom=custom if isinstance(custom, bool) else name.endswith("__c"),
        fields=fields,
        skipped=skipped,
    )


# ---------------------------------------------------------------------------
# Rendering


def _describe_field(spec: FieldSpec) -> dict[str, object]:
    ftype = spec.field_type
    auto = spec.compute is auto_number
    defaulted = (
        spec.default is not None
        or ftype is FieldType.BOOLEAN
        or spec.name.lower() in _SYSTEM
        or auto
    )
    picklist = [
        {
            "active": True,
            "defaultValue": value == spec.default,
            "label": value,
            "validFor": None,
            "value": value,
        }
        for value in spec.picklist_values
    ]
    length = 18 if ftype in (FieldType.ID, FieldType.REFERENCE) else 0
    if ftype.is_text:
        length = spec.length or 0
    decimal = ftype.is_number and ftype is not FieldType.INT
    default = spec.default if isinstance(spec.default, (str, bool, int, float)) else None
    return {
        "autoNumber": auto,
        "calculated": spec.compute is not None and not auto,
        "caseSensitive": spec.case_sensitive,
        "createable": spec.createable,
        "custom": spec.name.endswith("__c"),
        "defaultValue": default,
        "defaultedOnCreate": defaulted,
        "digits": (spec.precision or 0) if ftype is FieldType.INT else 0,
        "externalId": spec.external_id,
        "idLookup": spec.name in ("Id", "Name") or spec.external_id,
        "label": spec.label,
        "length": length,
        "name": spec.name,
        "nillable": not spec.required and ftype not in (FieldType.BOOLEAN, FieldType.ID),
        "picklistValues": picklist,
        "precision": (spec.precision or 0) if decimal else 0,
        "referenceTo": [spec.reference_to] if spec.reference_to else [],
        "relationshipName": spec.relationship_name if spec.reference_to else None,
        "restrictedPicklist": spec.restricted_picklist,
        "scale": (spec.scale or 0) if decimal else 0,
        "soapType": _SOAP_TYPES.get(ftype, "xsd:string"),
        "type": ftype.value,
        "unique": spec.unique,
        "updateable": spec.updateable,
    }


def describe_document(spec: SObjectSpec) -> dict[str, object]:
    """The describe document of an object of the fake (JSON-ready, keys sorted)."""
    return {
        "createable": True,
        "custom": spec.custom,
        "deletable": True,
        "fields": [_describe_field(f) for f in spec.fields],
        "keyPrefix": spec.key_prefix,
        "label": spec.label,
        "labelPlural": spec.label if spec.label.endswith("s") else f"{spec.label}s",
        "name": spec.name,
        "queryable": True,
        "updateable": True,
    }
