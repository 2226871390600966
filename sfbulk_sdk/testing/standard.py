"""The standard objects every fake org starts with, and their common standard fields.

``Account``, ``Contact``, ``Lead``, ``Opportunity``, ``Case`` and ``Campaign``
come with the standard fields real loads use, with the types and lengths of
Salesforce's object reference (address parts, phones, opt-outs, ratings ...).
Compound fields (``BillingAddress``), which Bulk loads cannot write, are left
out; so are fields of features an org must switch on (state and country
picklists, Data.com / Jigsaw). Read-only fields Salesforce computes are
computed here too where that is simple (``Name`` of a contact or lead,
``Case.CaseNumber``, ``Case.IsClosed``, ``Opportunity.IsClosed`` / ``IsWon``
/ ``ExpectedRevenue``); the others stay empty.

To test against an org's own schema, load its describe documents
(:mod:`~sfbulk_sdk.testing.describe`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .schema import FieldReader, FieldSpec, FieldType, FieldValue, SObjectSpec, auto_number

__all__ = ["standard_objects"]

T = FieldType


def _full_name(get: FieldReader) -> FieldValue:
    parts = [str(p) for p in (get("FirstName"), get("LastName")) if p]
    return " ".join(parts) or None


def _ro(
    name: str,
    ftype: FieldType,
    compute: Callable[[FieldReader], FieldValue] | None = None,
    *,
    length: int | None = None,
    reference_to: str | None = None,
) -> FieldSpec:
    """A field clients cannot write (computed when ``compute`` is given, else empty)."""
    return FieldSpec(
        name,
        ftype,
        createable=False,
        updateable=False,
        compute=compute,
        length=length,
        reference_to=reference_to,
    )


def _address(prefix: str) -> Iterator[FieldSpec]:
    """The parts of a standard address (``BillingStreet`` ... ``BillingGeocodeAccuracy``)."""
    yield FieldSpec(f"{prefix}Street", T.TEXTAREA, length=255)
    yield FieldSpec(f"{prefix}City", T.STRING, length=40)
    yield FieldSpec(f"{prefix}State", T.STRING, length=80)
    yield FieldSpec(f"{prefix}PostalCode", T.STRING, length=20)
    yield FieldSpec(f"{prefix}Country", T.STRING, length=80)
    yield FieldSpec(f"{prefix}Latitude", T.DOUBLE, precision=18, scale=15)
    yield FieldSpec(f"{prefix}Longitude", T.DOUBLE, precision=18, scale=15)
    yield FieldSpec(
        f"{prefix}GeocodeAccuracy",
        T.PICKLIST,
        length=40,
        picklist_values=("Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip"),
    )


def _person_name() -> list[FieldSpec]:
    return [
        FieldSpec("Salutation", T.PICKLIST, length=40, picklist_values=_SALUTATIONS),
        FieldSpec("FirstName", T.STRING, length=40),
        FieldSpec("MiddleName", T.STRING, length=40),
        FieldSpec("LastName", T.STRING, length=80, required=True),
        FieldSpec("Suffix", T.STRING, length=40),
        _ro("Name", T.STRING, _full_name, length=121),
    ]


def _opt_outs() -> list[FieldSpec]:
    return [
        FieldSpec("HasOptedOutOfEmail", T.BOOLEAN, label="Email Opt Out"),
        FieldSpec("HasOptedOutOfFax", T.BOOLEAN, label="Fax Opt Out"),
        FieldSpec("DoNotCall", T.BOOLEAN),
        FieldSpec("EmailBouncedReason", T.STRING, length=255),
        FieldSpec("EmailBouncedDate", T.DATETIME),
    ]


_SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
_RATINGS = ("Hot", "Warm", "Cold")
_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_PRIORITIES = ("High", "Medium", "Low")
_ORIGINS = ("Phone", "Email", "Web")
_CLOSED_STAGES = ("Closed Won", "Closed Lost")


def _opportunity_closed(get: FieldReader) -> FieldValue:
    return get("StageName") in _CLOSED_STAGES


def _opportunity_won(get: FieldReader) -> FieldValue:
    return get("StageName") == "Closed Won"


def _expected_revenue(get: FieldReader) -> FieldValue:
    amount, probability = get("Amount"), get("Probability")
    if not isinstance(amount, (int, float)) or not isinstance(probability, (int, float)):
        return None
    return float(amount) * float(probability) / 100


def _case_closed(get: FieldReader) -> FieldValue:
    return get("Status") == "Closed"


def _account() -> SObjectSpec:
    return SObjectSpec(
        "Account",
        "001",
        [
            FieldSpec("Name", T.STRING, required=True, label="Account Name"),
            FieldSpec("AccountNumber", T.STRING, length=40),
            FieldSpec("Site", T.STRING, length=80, label="Account Site"),
            FieldSpec(
                "Type",
                T.PICKLIST,
                label="Account Type",
                picklist_values=(
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ),
            ),
            FieldSpec("Industry", T.PICKLIST),
            FieldSpec("Rating", T.PICKLIST, length=40, picklist_values=_RATINGS),
            FieldSpec("AccountSource", T.PICKLIST, picklist_values=_SOURCES),
            FieldSpec(
                "Ownership",
                T.PICKLIST,
                length=40,
                picklist_values=("Public", "Private", "Subsidiary", "Other"),
            ),
            FieldSpec("AnnualRevenue", T.CURRENCY, precision=18, scale=0),
            FieldSpec("NumberOfEmployees", T.INT, precision=8, label="Employees"),
            FieldSpec("TickerSymbol", T.STRING, length=20),
            FieldSpec("Sic", T.STRING, length=20, label="SIC Code"),
            FieldSpec("SicDesc", T.STRING, length=80, label="SIC Description"),
            FieldSpec("YearStarted", T.STRING, length=4),
            FieldSpec("Phone", T.PHONE, label="Account Phone"),
            FieldSpec("Fax", T.PHONE, label="Account Fax"),
            FieldSpec("Website", T.URL),
            *_address("Billing"),
            *_address("Shipping"),
            FieldSpec("Description", T.TEXTAREA, length=32000, label="Account Description"),
            FieldSpec("ParentId", T.REFERENCE, reference_to="Account"),
        ],
    )


def _contact() -> SObjectSpec:
    return SObjectSpec(
        "Contact",
        "003",
        [
            *_person_name(),
            FieldSpec("AccountId", T.REFERENCE, reference_to="Account"),
            FieldSpec("ReportsToId", T.REFERENCE, reference_to="Contact"),
            FieldSpec("Title", T.STRING, length=128),
            FieldSpec("Department", T.STRING, length=80),
            FieldSpec("Email", T.EMAIL),
            FieldSpec("Phone", T.PHONE, label="Business Phone"),
            FieldSpec("MobilePhone", T.PHONE),
            FieldSpec("HomePhone", T.PHONE),
            FieldSpec("OtherPhone", T.PHONE),
            FieldSpec("Fax", T.PHONE, label="Business Fax"),
            FieldSpec("AssistantName", T.STRING, length=40),
            FieldSpec("AssistantPhone", T.PHONE, label="Asst. Phone"),
            *_address("Mailing"),
            *_address("Other"),
            FieldSpec("Birthdate", T.DATE),
            FieldSpec("LeadSource", T.PICKLIST, picklist_values=_SOURCES),
            *_opt_outs(),
            FieldSpec("Description", T.TEXTAREA, length=32000, label="Contact Description"),
        ],
    )


def _campaign() -> SObjectSpec:
    return SObjectSpec(
        "Campaign",
        "701",
        [
            FieldSpec("Name", T.STRING, length=80, required=True),
            FieldSpec("Type", T.PICKLIST),
            FieldSpec("Status", T.PICKLIST, default="Planned"),
            FieldSpec("StartDate", T.DATE),
            FieldSpec("EndDate", T.DATE),
            FieldSpec("IsActive", T.BOOLEAN, label="Active"),
            FieldSpec("BudgetedCost", T.CURRENCY, precision=18, scale=0),
            FieldSpec("ExpectedRevenue", T.CURRENCY, precision=18, scale=0),
            FieldSpec("NumberSent", T.DOUBLE, precision=18, scale=0),
            FieldSpec("Description", T.TEXTAREA, length=32000),
            FieldSpec("ParentId", T.REFERENCE, reference_to="Campaign"),
        ],
    )


def _lead() -> SObjectSpec:
    return SObjectSpec(
        "Lead",
        "00Q",
        [
            *_person_name(),
            FieldSpec("Title", T.STRING, length=128),
            FieldSpec("Company", T.STRING, required=True),
            FieldSpec("Email", T.EMAIL),
            FieldSpec("Phone", T.PHONE),
            FieldSpec("MobilePhone", T.PHONE),
            FieldSpec("Fax", T.PHONE),
            FieldSpec("Website", T.URL),
            *_address(""),
            FieldSpec("Status", T.PICKLIST, required=True, default="Open - Not Contacted"),
            FieldSpec("LeadSource", T.PICKLIST, picklist_values=_SOURCES),
            FieldSpec("Industry", T.PICKLIST),
            FieldSpec("Rating", T.PICKLIST, length=40, picklist_values=_RATINGS),
            FieldSpec("AnnualRevenue", T.CURRENCY, precision=18, scale=0),
            FieldSpec("NumberOfEmployees", T.INT, precision=8, label="No. of Employees"),
            FieldSpec("Description", T.TEXTAREA, length=32000),
            *_opt_outs(),
            FieldSpec("IsUnreadByOwner", T.BOOLEAN, label="Unread By Owner"),
            FieldSpec("IsConverted", T.BOOLEAN, label="Converted"),
            _ro("ConvertedDate", T.DATE),
            _ro("ConvertedAccountId", T.REFERENCE, reference_to="Account"),
            _ro("ConvertedContactId", T.REFERENCE, reference_to="Contact"),
            _ro("ConvertedOpportunityId", T.REFERENCE, reference_to="Opportunity"),
        ],
    )


def _opportunity() -> SObjectSpec:
    return SObjectSpec(
        "Opportunity",
        "006",
        [
            FieldSpec("Name", T.STRING, length=120, required=True),
            FieldSpec("AccountId", T.REFERENCE, reference_to="Account"),
            FieldSpec("ContactId", T.REFERENCE, reference_to="Contact"),
            FieldSpec("CampaignId", T.REFERENCE, reference_to="Campaign"),
            FieldSpec("StageName", T.PICKLIST, required=True, label="Stage"),
            FieldSpec("CloseDate", T.DATE, required=True),
            FieldSpec("Amount", T.CURRENCY, precision=16, scale=2),
            FieldSpec("Probability", T.PERCENT, precision=3, scale=0, label="Probability (%)"),
            _ro("ExpectedRevenue", T.CURRENCY, _expected_revenue),
            FieldSpec("TotalOpportunityQuantity", T.DOUBLE, precision=16, scale=2),
            FieldSpec("Type", T.PICKLIST, label="Opportunity Type"),
            FieldSpec("LeadSource", T.PICKLIST, picklist_values=_SOURCES),
            FieldSpec("ForecastCategoryName", T.PICKLIST, label="Forecast Category"),
            FieldSpec("NextStep", T.STRING, length=255),
            FieldSpec("IsPrivate", T.BOOLEAN, label="Private"),
            _ro("IsClosed", T.BOOLEAN, _opportunity_closed),
            _ro("IsWon", T.BOOLEAN, _opportunity_won),
            FieldSpec("Description", T.TEXTAREA, length=32000),
        ],
    )


def _case() -> SObjectSpec:
    return SObjectSpec(
        "Case",
        "500",
        [
            _ro("CaseNumber", T.STRING, auto_number, length=30),
            FieldSpec("AccountId", T.REFERENCE, reference_to="Account"),
            FieldSpec("ContactId", T.REFERENCE, reference_to="Contact"),
            FieldSpec("ParentId", T.REFERENCE, reference_to="Case"),
            FieldSpec("Subject", T.STRING, length=255),
            FieldSpec("Description", T.TEXTAREA, length=32000),
            FieldSpec("Status", T.PICKLIST, length=40, default="New"),
            FieldSpec(
                "Priority", T.PICKLIST, length=40, default="Medium", picklist_values=_PRIORITIES
            ),
            FieldSpec(
                "Origin", T.PICKLIST, length=40, label="Case Origin", picklist_values=_ORIGINS
            ),
            FieldSpec("Type", T.PICKLIST, length=40, label="Case Type"),
            FieldSpec("Reason", T.PICKLIST, length=40, label="Case Reason"),
            FieldSpec("SuppliedName", T.STRING, length=80, label="Web Name"),
            FieldSpec("SuppliedEmail", T.EMAIL, label="Web Email"),
            FieldSpec("SuppliedPhone", T.STRING, length=40, label="Web Phone"),
            FieldSpec("SuppliedCompany", T.STRING, length=80, label="Web Company"),
            FieldSpec("IsEscalated", T.BOOLEAN, label="Escalated"),
            _ro("IsClosed", T.BOOLEAN, _case_closed),
            _ro("ClosedDate", T.DATETIME),
            FieldSpec("Comments", T.TEXTAREA, length=4000, label="Internal Comments"),
        ],
    )


def standard_objects() -> dict[str, SObjectSpec]:
    """Fresh specs of the predeclared standard objects, keyed by API name."""
    specs = (_account(), _contact(), _campaign(), _lead(), _opportunity(), _case())
    return {spec.name: spec for spec in specs}
