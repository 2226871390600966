"""Model behaviour on the project's own payloads: enum leniency, unknown fields, secrets."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr, ValidationError

from sfbulk_sdk import errors
from sfbulk_sdk.core import states
from sfbulk_sdk.models import (
    BatchInfo,
    BatchInfoList,
    BatchResult,
    BatchState,
    ConcurrencyMode,
    ContentType,
    JobInfo,
    JobState,
    LoginResult,
    Operation,
    QueryResultList,
    RecordError,
    RecordResult,
    Session,
    UserInfo,
)
from sfbulk_sdk.models.session import instance_url_from
from sfbulk_sdk.models.xml import NS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
SESSION_ID = "00Dz0000000TEST!ARsecret.session.value.for.tests"


DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def batch_xml(state: str, extra: str = "", *, declaration: bool = True) -> str:
    return (
        (DECLARATION if declaration else "") + f'<batchInfo xmlns="{NS}">'
        "<id>751z00000000001AAA</id><jobId>750z00000000001AAA</jobId>"
        f"<state>{state}</state>{extra}"
        "<createdDate>2026-02-03T04:05:06.000Z</createdDate>"
        "<numberRecordsProcessed>7</numberRecordsProcessed>"
        "</batchInfo>"
    )


# --------------------------------------------------------------------------- enums


@pytest.mark.parametrize(
    "spelling", ["NotProcessed", "Not Processed", "NOT_PROCESSED", "notprocessed", "not processed"]
)
def test_not_processed_spellings(spelling: str) -> None:
    assert BatchState(spelling) is BatchState.NOT_PROCESSED
    batch = BatchInfo.from_xml(batch_xml(spelling))
    assert batch.state is BatchState.NOT_PROCESSED
    assert states.batch_is_done(batch)
    assert "<state>NotProcessed</state>" in batch.to_xml()
    assert json.loads(batch.to_wire_json())["state"] == "NotProcessed"


@pytest.mark.parametrize(
    ("spelling", "member"),
    [
        ("hardDelete", Operation.HARD_DELETE),
        ("harddelete", Operation.HARD_DELETE),
        ("HARD_DELETE", Operation.HARD_DELETE),
        ("queryAll", Operation.QUERY_ALL),
        ("QUERYALL", Operation.QUERY_ALL),
        ("query_all", Operation.QUERY_ALL),
        ("Insert", Operation.INSERT),
    ],
)
def test_operation_spellings_keep_salesforce_casing(spelling: str, member: Operation) -> None:
    assert Operation(spelling) is member
    job = JobInfo(operation=spelling, sobject="Account")  # type: ignore[arg-type]
    assert job.operation is member
    wire = member.value
    assert f"<operation>{wire}</operation>" in job.to_xml()
    assert json.loads(job.to_wire_json())["operation"] == wire


def test_hard_delete_and_query_all_values() -> None:
    assert Operation.HARD_DELETE.value == "hardDelete"
    assert Operation.QUERY_ALL.value == "queryAll"
    assert str(Operation.HARD_DELETE) == "hardDelete"
    assert Operation.QUERY_ALL.is_query
    assert Operation.QUERY.is_query
    assert not Operation.HARD_DELETE.is_query


def test_other_enums() -> None:
    assert JobState("jobcomplete") is JobState.JOB_COMPLETE
    assert JobState("Upload Complete") is JobState.UPLOAD_COMPLETE
    assert ContentType("zip_csv") is ContentType.ZIP_CSV
    assert ContentType.CSV.media_type == "text/csv"
    assert ContentType.ZIP_JSON.media_type == "zip/json"
    assert ContentType.ZIP_JSON.is_json
    assert not ContentType.XML.is_json
    assert ConcurrencyMode("serial") is ConcurrencyMode.SERIAL
    assert BatchState.FAILED in states.BATCH_TERMINAL
    assert BatchState.QUEUED not in states.BATCH_TERMINAL


def test_concurrency_mode_from_simple_salesforce_integers() -> None:
    assert JobInfo.model_validate({"concurrencyMode": 0}).concurrency_mode is (
        ConcurrencyMode.PARALLEL
    )
    assert JobInfo.model_validate({"concurrencyMode": 1}).concurrency_mode is (
        ConcurrencyMode.SERIAL
    )


def test_unknown_enum_value_is_rejected() -> None:
    with pytest.raises(ValueError, match="Exploded"):
        BatchState("Exploded")
    # A reply parser raises the SDK's own error; pydantic's is only its cause.
    with pytest.raises(errors.MalformedReplyError, match="state") as caught:
        BatchInfo.from_xml(batch_xml("Exploded"))
    assert isinstance(caught.value.__cause__, ValidationError)


# --------------------------------------------------------------------------- unknown fields


def test_unknown_xml_fields_are_kept_and_written_back() -> None:
    batch = BatchInfo.from_xml(batch_xml("Completed", "<futureField>42</futureField>"))
    assert batch.model_extra == {"futureField": "42"}
    assert batch.number_records_processed == 7
    assert "<futureField>42</futureField>" in batch.to_xml()
    assert BatchInfo.from_xml(batch.to_xml()) == batch


def test_unknown_json_fields_are_kept() -> None:
    raw = json.dumps(
        {
            "id": "750z00000000001AAA",
            "operation": "insert",
            "object": "Contact",
            "state": "Open",
            "apiVersion": 62.0,
            "fastPathEnabled": False,
            "assignmentRuleId": None,
            "externalIdFieldName": None,
            "createdDate": "2026-02-03T04:05:06.000+0000",
        }
    )
    job = JobInfo.from_json(raw)
    assert job.model_extra == {"fastPathEnabled": False}
    assert job.api_version == 62.0
    assert job.created_date == datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    assert job.assignment_rule_id is None
    rendered = json.loads(job.to_wire_json())
    assert rendered["fastPathEnabled"] is False
    assert "assignmentRuleId" not in rendered  # None is left out, as in XML
    assert job.to_xml().endswith("<fastPathEnabled>false</fastPathEnabled></jobInfo>")


def test_assignment_rule_id_sits_after_api_version() -> None:
    job = JobInfo(
        operation=Operation.INSERT,
        sobject="Lead",
        api_version=64.0,
        assignment_rule_id="01Qz0000000001",
        number_records_failed=0,
    )
    xml = job.to_xml()
    assert xml.index("<apiVersion>64.0</apiVersion>") < xml.index("<assignmentRuleId>")
    assert xml.index("<assignmentRuleId>") < xml.index("<numberRecordsFailed>")


def test_empty_batch_info_list() -> None:
    assert len(BatchInfoList.from_xml(f'<batchInfoList xmlns="{NS}"/>')) == 0
    assert len(BatchInfoList.from_json('{"batchInfo": []}')) == 0


def test_one_element_lists() -> None:
    one = BatchInfoList.from_xml(
        f'<batchInfoList xmlns="{NS}">{batch_xml("Queued", declaration=False)}</batchInfoList>'
    )
    assert [b.state for b in one] == [BatchState.QUEUED]
    assert list(QueryResultList.from_json('["752z0000000001A"]')) == ["752z0000000001A"]


def test_json_batch_results_with_errors() -> None:
    raw = json.dumps(
        [
            {"success": True, "created": False, "id": "003z00000000001AAA", "errors": []},
            {
                "success": False,
                "created": False,
                "id": None,
                "errors": [
                    {
                        "statusCode": "DUPLICATE_VALUE",
                        "message": "duplicate value found: Email__c",
                        "fields": ["Email__c"],
                    }
                ],
            },
        ]
    )
    results = BatchResult.from_json(raw)
    assert [r.success for r in results] == [True, False]
    assert results[0].created is False
    error = results.failed[0].errors[0]
    assert error.status_code == "DUPLICATE_VALUE"
    assert error.fields == ["Email__c"]
    assert results[1].id is None


@pytest.mark.parametrize(
    ("text", "code", "message", "fields"),
    [
        (
            "INVALID_EMAIL_ADDRESS:Email: invalid email address: x:Email --",
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: x",
            ["Email"],
        ),
        (
            "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--",
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
            [],
        ),
        (
            "REQUIRED_FIELD_MISSING:Required fields are missing: [A, B]:A,B --",
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [A, B]",
            ["A", "B"],
        ),
    ],
)
def test_record_error_csv_text(text: str, code: str, message: str, fields: list[str]) -> None:
    error = RecordError.from_csv_text(text)
    assert (error.status_code, error.message, error.fields) == (code, message, fields)


# --------------------------------------------------------------------------- secrets


def login_result() -> LoginResult:
    return LoginResult.model_validate(
        {
            "serverUrl": "https://acme-api.my.salesforce.com/services/Soap/u/64.0/00Dz0000000TEST",
            "sessionId": SESSION_ID,
            "userId": "005z00000000001AAA",
            "userInfo": {
                "organizationId": "00Dz0000000TESTAAA",
                "userName": "ops@acme.test",
                "sessionSecondsValid": "900",
            },
        }
    )


def test_login_result_masks_the_session_id() -> None:
    result = login_result()
    for text in (
        repr(result),
        str(result),
        result.model_dump_json(),
        json.dumps(result.model_dump(mode="json")),
    ):
        assert SESSION_ID not in text
    assert isinstance(result.model_dump()["session_id"], SecretStr)
    assert result.session_id.get_secret_value() == SESSION_ID
    with pytest.raises(TypeError, match="secrets"):
        result.to_xml()


def test_login_result_to_session() -> None:
    result = login_result()
    assert result.instance_url == "https://acme.my.salesforce.com"
    session = result.to_session(now=NOW, auth_fingerprint="fp")
    assert session.instance_url == "https://acme.my.salesforce.com"
    assert session.session_id.get_secret_value() == SESSION_ID
    assert session.org_id == "00Dz0000000TESTAAA"
    assert session.user_name == "ops@acme.test"
    assert session.user_id == "005z00000000001AAA"
    assert session.seconds_valid == 900
    assert session.expires_at == NOW + timedelta(seconds=900)
    assert session.auth_fingerprint == "fp"
    assert session.bulk_url("64.0") == "https://acme.my.salesforce.com/services/async/64.0"


def test_session_masks_the_session_id() -> None:
    session = login_result().to_session(now=NOW)
    for text in (repr(session), str(session), session.model_dump_json()):
        assert SESSION_ID not in text
    touched = session.touched(NOW + timedelta(minutes=5))
    assert SESSION_ID not in repr(touched)
    assert touched.expires_at == NOW + timedelta(minutes=5, seconds=900)
    # Only the store form reveals it, and it round-trips.
    stored = session.to_store_dict()
    assert stored["session_id"] == SESSION_ID
    assert Session.from_store_dict(json.loads(json.dumps(stored))) == session
    assert session.same_credential(Session.from_store_dict(stored))


def test_static_session() -> None:
    session = Session.static("https://acme.my.salesforce.com/", "00Dz!static", now=NOW)
    assert session.instance_url == "https://acme.my.salesforce.com"
    assert "00Dz!static" not in repr(session)
    assert session.seconds_valid == 7200


def test_user_info_defaults_and_instance_url() -> None:
    assert UserInfo().session_seconds_valid is None
    result = LoginResult(server_url="https://na1.salesforce.com/x", session_id=SecretStr("s"))
    assert result.session_seconds_valid == 7200
    assert instance_url_from("https://na9-api.salesforce.com/services/Soap/u/24.0/x") == (
        "https://na9.salesforce.com"
    )
    assert instance_url_from("http://127.0.0.1:8080/services/Soap/u/64.0/x") == (
        "http://127.0.0.1:8080"
    )
    with pytest.raises(ValueError, match="absolute"):
        instance_url_from("/services/Soap/u/64.0")


def test_every_wire_model_has_from_xml_and_from_json() -> None:
    import inspect

    import sfbulk_sdk.models as models

    wire = [
        obj
        for name, obj in vars(models).items()
        if inspect.isclass(obj)
        and issubclass(obj, models.WireModel)
        and obj is not models.WireModel
    ]
    assert len(wire) >= 10
    for cls in [*wire, models.Session]:
        assert callable(getattr(cls, "from_xml", None)), cls
        assert callable(getattr(cls, "from_json", None)), cls
    for cls in (models.BatchResult,):
        assert callable(cls.from_csv)


def test_login_result_and_session_parse_the_soap_envelope() -> None:
    import json
    from datetime import datetime, timezone

    from sfbulk_sdk.errors import LoginError
    from sfbulk_sdk.models import LoginResult, Session
    from tests.conftest import read_fixture

    body = read_fixture("soap_login/partner_login_response_v24_jorgevaldivia.xml")
    result = LoginResult.from_xml(body)
    assert result.instance_url == "https://na9.salesforce.com"
    assert result.user_info.organization_id == "00DE0000000YSKpMAO"
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    session = Session.from_xml(body, now=now)
    assert session.seconds_valid == 7200
    assert session.expires_at == datetime(2026, 1, 1, 2, tzinfo=timezone.utc)
    assert session.user_id == "005E00000017spfIAA"
    assert Session.from_json(json.dumps(session.to_store_dict())) == session
    secret = session.session_id.get_secret_value()
    assert secret not in repr(session) and secret not in session.model_dump_json()
    fault = read_fixture("soap_login/partner_login_fault_INVALID_LOGIN_jorgevaldivia.xml")
    with pytest.raises(LoginError) as info:
        LoginResult.from_xml(fault)
    assert info.value.code == "INVALID_LOGIN"


@pytest.mark.parametrize("form", ["csv", "json", "xml"])
def test_record_results_know_their_input_row_even_after_filtering(form: str) -> None:
    from sfbulk_sdk.models import BatchResult, RecordError, RecordResult

    rows = [
        RecordResult(id="001A", success=True, created=True),
        RecordResult(errors=[RecordError(status_code="REQUIRED_FIELD_MISSING", message="m")]),
        RecordResult(id="001C", success=True, created=True),
        RecordResult(errors=[RecordError(status_code="DUPLICATE_VALUE", message="d")]),
    ]
    if form == "csv":
        text = '"Id","Success","Created","Error"\n' + "".join(
            f'"{r.id or ""}","{str(r.success).lower()}","{str(r.created).lower()}","{r.error}"\n'
            for r in rows
        )
        parsed = BatchResult.from_csv(text)
    elif form == "json":
        parsed = BatchResult.from_json(json.dumps([r.model_dump(by_alias=True) for r in rows]))
    else:
        parsed = BatchResult.from_xml(BatchResult(result=rows).to_xml())
    assert [r.row for r in parsed] == [1, 2, 3, 4]
    failed = BatchResult(result=parsed.failed)
    assert [(r.row, r.errors[0].status_code) for r in failed] == [
        (2, "REQUIRED_FIELD_MISSING"),
        (4, "DUPLICATE_VALUE"),
    ]


def test_csv_results_build_the_same_instances_as_the_validating_constructor() -> None:
    """The CSV result reader builds each RecordResult without validating again
    (one per uploaded record); what it builds must be indistinguishable from
    ``RecordResult(...)``: equal, same fields set, same dump, copyable, mutable."""
    text = (
        '"Id","Success","Created","Error"\n'
        '"001A","true","false",""\n'
        '"","false","false","DUPLICATE_VALUE:dup:Name,Site --"\n'
    )
    parsed = list(BatchResult.from_csv(text))
    names = ["Name", "Site"]
    expected = [
        RecordResult(id="001A", success=True, created=False),
        RecordResult(
            errors=[RecordError(status_code="DUPLICATE_VALUE", message="dup", fields=names)]
        ),
    ]
    for position, (got, want) in enumerate(zip(parsed, expected, strict=True), 1):
        want._row = position
        assert got == want
        assert got.model_fields_set == {"errors", "id", "success", "created"}
        assert got.model_dump(by_alias=True) == want.model_dump(by_alias=True)
        assert got.model_copy(update={"id": "x"}).row == position
        got.id = "changed"
        assert got.id == "changed" and got.row == position
    parsed[0].note = "mine"  # an extra attribute: pydantic records it in the fields set
    assert "note" in parsed[0].model_fields_set and "note" not in parsed[1].model_fields_set


def test_checked_results_share_nothing_a_caller_can_change() -> None:
    """Checked results share one fields set and one empty extras dict (280 bytes
    a result); whatever changes one result, directly, through pydantic's
    accessors, after a copy or after pickling, reaches no other."""
    text = '"Id","Success","Created","Error"\n' + '"001A","true","true",""\n' * 6

    def fresh() -> list[RecordResult]:
        return list(BatchResult.from_csv(text))

    def untouched(result: RecordResult) -> bool:
        return result.model_fields_set == {"errors", "id", "success", "created"} and (
            result.model_extra == {}
        )

    changes = [
        (lambda r: setattr(r, "note", "x"), lambda r: "note" in r.model_fields_set),
        (lambda r: r.model_fields_set.discard("id"), lambda r: "id" not in r.model_fields_set),
        (lambda r: r.model_extra.update(note="x"), lambda r: getattr(r, "note", None) == "x"),
    ]
    for change, changed in changes:
        results = fresh()
        change(results[0])
        assert changed(results[0])
        assert all(untouched(r) and not changed(r) for r in results[1:])
    results = fresh()
    results[0].note = "x"
    del results[0].note
    assert "note" not in results[0].model_extra  # type: ignore[operator]
    assert all(untouched(r) for r in results[1:])
    for copies in (pickle.loads(pickle.dumps(fresh())), [r.model_copy() for r in fresh()]):
        copies[0].note = "x"
        assert copies[0].note == "x" and all(untouched(r) for r in copies[1:])
    copied = fresh()
    again = [r.model_copy(update={"note": "x"}) for r in copied]
    assert all(r.note == "x" for r in again) and all(untouched(r) for r in copied)
