"""The fake org's declarable schema: field types, objects, value parsing and wire formatting.

Five standard objects come predeclared with a realistic handful of fields
(:func:`standard_objects`). Custom objects (``Name__c``) and custom fields
(``Field__c``) are declared with :class:`FieldSpec`.

Values are held typed (``str``, ``bool``, ``int``, ``float``, ``date``,
``datetime``); they are parsed from uploaded CSV/XML/JSON by per-field
converters and rendered back the way Salesforce renders them (``"23456.0"``
for numbers, ``2024-01-02T03:04:05.000Z`` for dateTimes, epoch milliseconds in
JSON query results).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..models.enums import StrEnum
from .ids import normalize_id

__all__ = [
    "SYSTEM_FIELDS",
    "FieldSpec",
    "FieldType",
    "FieldValueError",
    "SObjectSpec",
    "format_datetime",
    "java_double",
    "parse_datetime",
    "standard_objects",
    "text_value",
]


class FieldType(StrEnum):
    """A field's data type (the SOAP ``soapType`` family it behaves like)."""

    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
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
    """

    name: str
    type: FieldType | str = FieldType.STRING
    required: bool = False
    unique: bool = False
    external_id: bool = False
    length: int | None = None
    reference_to: str | None = None
    relationship_name: str | None = None
    default: Any = None
    label: str | None = None
    createable: bool = True
    updateable: bool = True
    case_sensitive: bool = False
    compute: Callable[[Callable[[str], Any]], Any] | None = field(
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

    @property
    def field_type(self) -> FieldType:
        """The field's type as a :class:`FieldType`."""
        return FieldType(self.type)

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
    FieldSpec("CreatedDate", FieldType.DATETIME, createable=False, updateable=False),
    FieldSpec(
        "CreatedById",
        FieldType.REFERENCE,
        reference_to="User",
        createable=False,
        updateable=False,
    ),
    FieldSpec("LastModifiedDate", FieldType.DATETIME, createable=False, updateable=False),
    FieldSpec(
        "LastModifiedById",
        FieldType.REFERENCE,
        reference_to="User",
        createable=False,
        updateable=False,
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


# ---------------------------------------------------------------------------
# Parsing uploaded values


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def parse_datetime(text: str) -> datetime | None:
    """Parse a Salesforce dateTime (``2024-01-02T03:04:05.000Z``, ``...+01:00``) to UTC."""
    m = _DATETIME.fullmatch(text.strip())
    if not m:
        d = _DATE.fullmatch(text.strip())
        if not d:
            return None
        try:
            return datetime(int(d[1]), int(d[2]), int(d[3]), tzinfo=timezone.utc)
        except ValueError:
            return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
        )
    except ValueError:
        return None
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return (value - offset).replace(tzinfo=timezone.utc)


def _parse_date(text: str) -> date | None:
    m = _DATE.fullmatch(text.strip())
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    dt = parse_datetime(text)
    return dt.date() if dt else None


def _type_error(spec: FieldSpec, value: Any) -> FieldValueError:
    return FieldValueError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{spec.label}: value not of required type: {value}",
        (spec.name,),
    )


Converter = Callable[[Any], Any]


def converter_for(spec: FieldSpec, object_label: str) -> Converter:
    """A function turning one uploaded value (CSV text or a JSON value) into the typed value.

    It raises :class:`FieldValueError` with Salesforce's status code for
    values the field cannot hold. ``None`` is passed through (a null).
    """
    ftype = spec.field_type
    if ftype.is_text:
        limit = spec.length or 255
        is_email = ftype is FieldType.EMAIL

        def text(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, str):
                value = java_double(value) if isinstance(value, float) else str(value)
            if len(value) > limit:
                raise FieldValueError(
                    "STRING_TOO_LONG",
                    f"{spec.label}: data value too large: {value[:40]} (max length={limit})",
                    (spec.name,),
                )
            if is_email and value and not _EMAIL.fullmatch(value):
                raise FieldValueError(
                    "INVALID_EMAIL_ADDRESS",
                    f"{spec.label}: invalid email address: {value}",
                    (spec.name,),
                )
            return value

        return text
    if ftype is FieldType.BOOLEAN:

        def boolean(value: Any) -> Any:
            if value is None or isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise _type_error(spec, value)

        return boolean
    if ftype is FieldType.INT:

        def integer(value: Any) -> Any:
            if value is None:
                return None
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise _type_error(spec, value) from None
            if isinstance(value, bool) or not number.is_integer():
                raise _type_error(spec, value)
            return int(number)

        return integer
    if ftype.is_number:

        def number(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, bool):
                raise _type_error(spec, value)
            try:
                result = float(value)
            except (TypeError, ValueError):
                raise _type_error(spec, value) from None
            if not math.isfinite(result):
                raise _type_error(spec, value)
            return result

        return number
    if ftype is FieldType.DATE:

        def date_value(value: Any) -> Any:
            if value is None:
                return None
            parsed = _parse_date(str(value))
            if parsed is None:
                raise _type_error(spec, value)
            return parsed

        return date_value
    if ftype is FieldType.DATETIME:

        def datetime_value(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
            parsed = parse_datetime(str(value))
            if parsed is None:
                raise _type_error(spec, value)
            return parsed

        return datetime_value
    # id and reference fields
    label = object_label if ftype is FieldType.ID else spec.label

    def identifier(value: Any) -> Any:
        if value is None:
            return None
        text_id = str(value).strip()
        normalized = normalize_id(text_id)
        if normalized is None:
            raise FieldValueError(
                "MALFORMED_ID",
                f"{label} ID: id value of incorrect type: {text_id}",
                (spec.name,),
            )
        return normalized

    return identifier


# ---------------------------------------------------------------------------
# Rendering values the way Salesforce does


def java_double(value: float) -> str:
    """Render a double as Java's ``Double.toString`` does (``23456.0``, ``9.12260031E8``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(str(d) for d in digit_tuple)
    assert isinstance(exponent, int)
    power = exponent + len(digits) - 1
    digits = digits.rstrip("0") or "0"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def format_datetime(value: datetime) -> str:
    """``2024-01-02T03:04:05.000Z``: a dateTime as Bulk 1.0 CSV/XML renders it."""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def text_value(value: Any) -> str:
    """Render a typed value as CSV/XML text (``None`` becomes the empty string)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    """Render a typed value for a Bulk 1.0 JSON query result (dateTimes as epoch ms)."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return value.isoformat()
    return value


def plain_json_value(value: Any) -> Any:
    """Render a typed value for the fake's own JSON controls (ISO dates)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------
# The standard objects


def _full_name(get: Callable[[str], Any]) -> Any:
    parts = [p for p in (get("FirstName"), get("LastName")) if p]
    return " ".join(parts) or None


def _ro(name: str, ftype: FieldType, compute: Callable[[Callable[[str], Any]], Any]) -> FieldSpec:
    return FieldSpec(name, ftype, createable=False, updateable=False, compute=compute)


def standard_objects() -> dict[str, SObjectSpec]:
    """Fresh specs of the predeclared standard objects, keyed by API name."""
    T = FieldType
    account = SObjectSpec(
        "Account",
        "001",
        [
            FieldSpec("Name", T.STRING, required=True),
            FieldSpec("AccountNumber", T.STRING, length=40),
            FieldSpec("Type", T.PICKLIST, label="Account Type"),
            FieldSpec("Industry", T.PICKLIST),
            FieldSpec("AnnualRevenue", T.CURRENCY),
            FieldSpec("NumberOfEmployees", T.INT, label="Employees"),
            FieldSpec("Phone", T.PHONE, label="Account Phone"),
            FieldSpec("Website", T.URL),
            FieldSpec("BillingStreet", T.TEXTAREA, length=255),
            FieldSpec("BillingCity", T.STRING, length=40),
            FieldSpec("BillingState", T.STRING, length=80),
            FieldSpec("BillingPostalCode", T.STRING, length=20),
            FieldSpec("BillingCountry", T.STRING, length=80),
            FieldSpec("Description", T.TEXTAREA),
            FieldSpec("ParentId", T.REFERENCE, reference_to="Account"),
        ],
    )
    contact = SObjectSpec(
        "Contact",
        "003",
        [
            FieldSpec("FirstName", T.STRING, length=40),
            FieldSpec("LastName", T.STRING, length=80, required=True),
            _ro("Name", T.STRING, _full_name),
            FieldSpec("Email", T.EMAIL),
            FieldSpec("Phone", T.PHONE, label="Business Phone"),
            FieldSpec("MobilePhone", T.PHONE),
            FieldSpec("Title", T.STRING, length=128),
            FieldSpec("Department", T.STRING, length=80),
            FieldSpec("Birthdate", T.DATE),
            FieldSpec("LeadSource", T.PICKLIST),
            FieldSpec("MailingCity", T.STRING, length=40),
            FieldSpec("MailingCountry", T.STRING, length=80),
            FieldSpec("Description", T.TEXTAREA),
            FieldSpec("AccountId", T.REFERENCE, reference_to="Account"),
        ],
    )
    campaign = SObjectSpec(
        "Campaign",
        "701",
        [
            FieldSpec("Name", T.STRING, length=80, required=True),
            FieldSpec("Type", T.PICKLIST),
            FieldSpec("Status", T.PICKLIST, default="Planned"),
            FieldSpec("StartDate", T.DATE),
            FieldSpec("EndDate", T.DATE),
            FieldSpec("IsActive", T.BOOLEAN, label="Active"),
            FieldSpec("BudgetedCost", T.CURRENCY),
            FieldSpec("ExpectedRevenue", T.CURRENCY),
            FieldSpec("NumberSent", T.DOUBLE),
            FieldSpec("Description", T.TEXTAREA),
            FieldSpec("ParentId", T.REFERENCE, reference_to="Campaign"),
        ],
    )
    lead = SObjectSpec(
        "Lead",
        "00Q",
        [
            FieldSpec("FirstName", T.STRING, length=40),
            FieldSpec("LastName", T.STRING, length=80, required=True),
            _ro("Name", T.STRING, _full_name),
            FieldSpec("Company", T.STRING, required=True),
            FieldSpec("Title", T.STRING, length=128),
            FieldSpec("Email", T.EMAIL),
            FieldSpec("Phone", T.PHONE),
            FieldSpec("Status", T.PICKLIST, required=True, default="Open - Not Contacted"),
            FieldSpec("LeadSource", T.PICKLIST),
            FieldSpec("Industry", T.PICKLIST),
            FieldSpec("AnnualRevenue", T.CURRENCY),
            FieldSpec("NumberOfEmployees", T.INT, label="No. of Employees"),
            FieldSpec("City", T.STRING, length=40),
            FieldSpec("Country", T.STRING, length=80),
            FieldSpec("IsConverted", T.BOOLEAN, label="Converted"),
        ],
    )
    opportunity = SObjectSpec(
        "Opportunity",
        "006",
        [
            FieldSpec("Name", T.STRING, length=120, required=True),
            FieldSpec("StageName", T.PICKLIST, required=True, label="Stage"),
            FieldSpec("CloseDate", T.DATE, required=True),
            FieldSpec("Amount", T.CURRENCY),
            FieldSpec("Probability", T.PERCENT, label="Probability (%)"),
            FieldSpec("Type", T.PICKLIST, label="Opportunity Type"),
            FieldSpec("LeadSource", T.PICKLIST),
            FieldSpec("Description", T.TEXTAREA),
            FieldSpec("AccountId", T.REFERENCE, reference_to="Account"),
            FieldSpec("CampaignId", T.REFERENCE, reference_to="Campaign"),
        ],
    )
    return {spec.name: spec for spec in (account, contact, campaign, lead, opportunity)}


def custom_object_fields(fields: Iterable[FieldSpec]) -> list[FieldSpec]:
    """A custom object's fields: the standard ``Name`` plus the declared ones."""
    declared = list(fields)
    names = {f.name.lower() for f in declared}
    base = [] if "name" in names else [FieldSpec("Name", FieldType.STRING, length=80)]
    return base + declared
