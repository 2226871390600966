"""Field values of the fake org: parsing what clients upload, rendering what they read.

Values are held typed (``str``, ``bool``, ``int``, ``float``, ``date``,
``datetime``; see :data:`~sfbulk_sdk.testing.schema.FieldValue`). They are parsed
from uploaded CSV/XML/JSON by per-field converters (:func:`converter_for`) and
rendered back the way Salesforce renders them (``"23456.0"`` for numbers,
``2024-01-02T03:04:05.000Z`` for dateTimes, epoch milliseconds in JSON query
results).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from .ids import normalize_id
from .schema import FieldSpec, FieldType, FieldValue, FieldValueError

__all__ = [
    "Converter",
    "converter_for",
    "format_datetime",
    "format_time",
    "java_double",
    "json_value",
    "parse_datetime",
    "plain_json_value",
    "text_value",
]


# ---------------------------------------------------------------------------
# Parsing uploaded values


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?Z?")
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


def _parse_time(text: str) -> time | None:
    m = _TIME.fullmatch(text.strip())
    if not m:
        return None
    try:
        micro = int((m[4] or "0")[:6].ljust(6, "0"))
        return time(int(m[1]), int(m[2]), int(m[3] or 0), micro)
    except ValueError:
        return None


def _range_bound(spec: FieldSpec) -> float:
    """The smallest magnitude a number field refuses (``precision - scale`` digits before the
    point); infinite where the field sets no precision. Converters compare inline: a call per
    value would cost the hot CSV path a second function call per numeric cell."""
    if spec.precision is None or spec.precision <= 0:
        return math.inf
    return 10.0 ** (spec.precision - (spec.scale or 0))


def _out_of_range(spec: FieldSpec, number: float) -> FieldValueError:
    return FieldValueError(
        "NUMBER_OUTSIDE_VALID_RANGE",
        f"{spec.label}: value outside of valid range on numeric field: {text_value(number)}",
        (spec.name,),
    )


def _picklist_check(spec: FieldSpec) -> Callable[[str], None] | None:
    """Refuse values a restricted picklist does not list (every part of a multi-select)."""
    if not spec.restricted_picklist:
        return None
    allowed = frozenset(spec.picklist_values)
    multi = spec.field_type is FieldType.MULTIPICKLIST

    def check(value: str) -> None:
        for part in value.split(";") if multi else (value,):
            if part not in allowed:
                raise FieldValueError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{spec.label}: bad value for restricted picklist field: {part}",
                    (spec.name,),
                )

    return check


Converter = Callable[[Any], Any]


def _parsing(spec: FieldSpec, parse: Callable[[str], object]) -> Converter:
    """A converter reading a value's text with ``parse`` (``None`` when it cannot)."""

    def convert(value: Any) -> Any:
        if value is None:
            return None
        parsed = parse(str(value))
        if parsed is None:
            raise _type_error(spec, value)
        return parsed

    return convert


def converter_for(spec: FieldSpec, object_label: str) -> Converter:
    """A function turning one uploaded value (CSV text or a JSON value) into the typed value.

    It raises :class:`FieldValueError` with Salesforce's status code for
    values the field cannot hold. ``None`` is passed through (a null).
    """
    ftype = spec.field_type
    if ftype.is_text:
        limit = spec.length or 255
        is_email = ftype is FieldType.EMAIL
        picklist = _picklist_check(spec)

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
            if picklist is not None and value:
                picklist(value)
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
    bound = _range_bound(spec)
    low = -bound
    if ftype is FieldType.INT:

        def integer(value: Any) -> Any:
            if value is None:
                return None
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise _type_error(spec, value) from None
            if low < number < bound and number.is_integer() and not isinstance(value, bool):
                return int(number)
            if isinstance(value, bool) or not number.is_integer():
                raise _type_error(spec, value)
            raise _out_of_range(spec, number)

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
            if not low < result < bound:
                raise _out_of_range(spec, result)
            return result

        return number
    if ftype is FieldType.DATE:
        return _parsing(spec, _parse_date)
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
    if ftype is FieldType.TIME:
        return _parsing(spec, _parse_time)
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
    if isinstance(value, (date, time)):
        return _temporal_text(value)
    return str(value)


def _temporal_text(value: date | time) -> str:
    """A dateTime, date or time as Salesforce writes it in CSV, XML and JSON text."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return format_time(value)


def format_time(value: time) -> str:
    """``13:45:00.000Z``: a time as Salesforce renders it."""
    return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def json_value(value: Any) -> Any:
    """Render a typed value for a Bulk 1.0 JSON query result (dateTimes as epoch ms)."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return plain_json_value(value)


def plain_json_value(value: FieldValue) -> str | bool | int | float | None:
    """Render a typed value for the fake's own JSON controls (ISO dates)."""
    if isinstance(value, (date, time)):
        return _temporal_text(value)
    return value
