"""Property, end to end: any text loads into the org exactly, batch size whatever it is.

Random records (any Unicode but surrogates, with quotes, separators, line
breaks and big fields; ``None`` too) are inserted through the client, gzip on,
into batches of a random size, then read back from the fake org's table:
every record is there once, each field exactly as given (``None`` as null).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.loads.loadkit import EXTERNAL_ID, org_with_external_id, sync_bulk

_TRICKY = st.sampled_from(['"', ",", ";", "\n", "\r", "\r\n", "\t", "#N/A", "é", "𝄞", "\x00"])
_text = st.lists(_TRICKY | st.characters(exclude_categories=("Cs",)), max_size=30).map("".join)
# "" leaves a field unset and a value of exactly "#N/A" is Salesforce's null: neither is text.
# FirstName holds at most 40 characters (a longer one is the org's STRING_TOO_LONG).
_first = st.none() | _text.filter(lambda t: t.strip() not in ("", "#N/A") and len(t) <= 40)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(_first, min_size=1, max_size=40),
    st.integers(1, 7),
    st.sampled_from(["bulk1", "bulk2"]),
)
def test_any_text_arrives_in_the_org_exactly(
    names: list[str | None], batch_size: int, api: str
) -> None:
    org = org_with_external_id()
    rows = [
        {"FirstName": name, "LastName": "L", EXTERNAL_ID: f"E{i}"} for i, name in enumerate(names)
    ]
    with sync_bulk(org) as bulk:
        size = {"batch_size": batch_size} if api == "bulk1" else {"job_size": 60 * batch_size + 200}
        result = bulk.insert("Contact", rows, api=api, progress=None, **size)  # type: ignore[arg-type]
    assert result.ok, result.failed()[:1]
    stored = {
        r[EXTERNAL_ID]: r["FirstName"] for r in org.query("SELECT FirstName, Ext__c FROM Contact")
    }
    assert stored == {f"E{i}": name for i, name in enumerate(names)}
