"""Record ids: the case-safe checksum, normalisation, and the ids the org issues."""

from __future__ import annotations

import pytest

from sfbulk_sdk.testing import FakeOrg, FieldSpec, checksum_suffix, is_valid_id, normalize_id, to_18
from sfbulk_sdk.testing.ids import IdGenerator, key_prefix_sequence

# 18-character ids recorded from real orgs and Salesforce's documentation.
REAL_IDS = [
    "001D000000ISUr3IAH",
    "005E00000017spfIAA",
    "751E00000004ZmUIAU",
    "750E00000004NRfIAM",
    "00DE0000000YSKpMAO",
    "a00E0000002V30LIAS",
    "003D000000Q89kQIAR",
    "00eE0000000oANhIAM",
    "001xx000003DHP0AAO",
]


@pytest.mark.parametrize("real", REAL_IDS)
def test_checksum_matches_salesforce(real: str) -> None:
    assert checksum_suffix(real[:15]) == real[15:]
    assert to_18(real[:15]) == real
    assert is_valid_id(real) and is_valid_id(real[:15])


def test_checksum_bits_by_hand() -> None:
    # chunk "001D0": bit 3 set (D) -> 8 -> "I"; "00000" -> "A"; "0ISUr": bits 1,2,3 -> 14 -> "O"
    assert checksum_suffix("001D000000ISUr3") == "IAH"
    assert checksum_suffix("AAAAAZZZZZ00000") == "55A"  # 31 -> "5", 0 -> "A"


def test_invalid_ids() -> None:
    assert not is_valid_id("001D000000ISUr3IAX")  # wrong suffix
    assert not is_valid_id("001D000000ISUr")  # too short
    assert not is_valid_id("001D000000ISU-3")
    with pytest.raises(ValueError):
        checksum_suffix("short")


def test_normalize_recovers_case_from_suffix() -> None:
    assert normalize_id("001d000000isur3iah") == "001D000000ISUr3IAH"
    assert normalize_id("001D000000ISUr3") == "001D000000ISUr3IAH"
    assert normalize_id("not-an-id") is None
    assert normalize_id("0010000000000009AA") is None  # '9' cannot be upper case


def test_generator_issues_valid_increasing_ids() -> None:
    for start in (1, 3843, 3844, 62**5 - 2, 62**9 + 7):
        gen = IdGenerator("001", start=start)
        ids = [gen.next18() for _ in range(4000)]
        assert all(len(i) == 18 and i.startswith("0015j") and to_18(i[:15]) == i for i in ids)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    gen15 = IdGenerator("752")
    assert [gen15.next15() for _ in range(2)] == ["7525j0000000001", "7525j0000000002"]


def test_key_prefix_sequence() -> None:
    assert key_prefix_sequence("a0X") == "a0Y"
    assert key_prefix_sequence("a0z") == "a10"


def test_org_issues_real_shaped_ids_with_prefixes() -> None:
    org = FakeOrg()
    video = org.declare_object("Video__c", [FieldSpec("Title__c")])
    clip = org.declare_object("Clip__c")
    assert (video.key_prefix, clip.key_prefix) == ("a0X", "a0Y")
    prefixes = {
        "Account": "001",
        "Contact": "003",
        "Campaign": "701",
        "Lead": "00Q",
        "Opportunity": "006",
        "Video__c": "a0X",
    }
    rows = {
        "Account": {"Name": "A"},
        "Contact": {"LastName": "C"},
        "Campaign": {"Name": "Camp"},
        "Lead": {"LastName": "L", "Company": "Co"},
        "Opportunity": {"Name": "O", "StageName": "Prospecting", "CloseDate": "2024-01-31"},
        "Video__c": {"Title__c": "T"},
    }
    for sobject, prefix in prefixes.items():
        (rid,) = org.insert(sobject, [rows[sobject]])
        assert rid.startswith(prefix) and is_valid_id(rid) and len(rid) == 18
    assert org.org_id.startswith("00D") and is_valid_id(org.org_id)
    assert org.state.accounts.default.user_id.startswith("005") and is_valid_id(
        org.state.accounts.default.user_id
    )
