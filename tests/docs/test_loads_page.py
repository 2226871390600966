"""Every Python example of ``docs/loads.md`` runs, unchanged, against the fake org.

The examples read their credentials from the environment (``SF_CLIENT_ID``,
``SF_CLIENT_SECRET``, ``SF_MY_DOMAIN_URL``: a client-credentials app of the
fake org); ``sfbulk_sdk.Bulk`` / ``AsyncBulk`` are replaced, for the run, by
subclasses that reach the org in-process. The org's clock is manual and its
jobs take two minutes: the clients' waits move it, so that waiting and
deadlines happen as they would, in no time. Contact has an external id field
``External_Id__c``; ``BUSY_CASE_IDS`` names Cases of which the org fails to lock
one in 20 once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sfbulk_sdk
from sfbulk_sdk.testing import DEFAULT_USERNAME, FakeOrg, FakeOrgTransport, FieldSpec, ManualClock
from tests.timing import FakeTime

PAGE = Path(__file__).resolve().parents[2] / "docs" / "loads.md"
_BLOCK = re.compile(r"(<!-- no-run -->\s*)?```python\n(.*?)```", re.DOTALL)
BUSY = 400


def examples() -> list[tuple[int, str]]:
    """``(number, code)`` of every example of the page."""
    text = PAGE.read_text(encoding="utf-8")
    return [
        (number, match.group(2))
        for number, match in enumerate(_BLOCK.finditer(text), 1)
        if not match.group(1)
    ]


@pytest.fixture
def fake_world(monkeypatch: pytest.MonkeyPatch) -> FakeOrg:
    org = FakeOrg(clock=ManualClock(), queue_time=5, processing_time=120)
    org.add_field("Contact", FieldSpec("External_Id__c", external_id=True, unique=True))
    app = org.oauth.add_app("docs", run_as=DEFAULT_USERNAME)
    busy = org.insert("Case", [{"Subject": f"Busy {i}"} for i in range(BUSY)])
    org.inject_record_errors("Case", count=BUSY // 20, every=20)
    for name, value in {
        "SF_CLIENT_ID": app.client_id,
        "SF_CLIENT_SECRET": app.client_secret,
        "SF_MY_DOMAIN_URL": org.instance_url,
        "BUSY_CASE_IDS": ",".join(busy),
    }.items():
        monkeypatch.setenv(name, value)

    class Bulk(sfbulk_sdk.Bulk):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("transport", FakeOrgTransport(org))
            kwargs.update(FakeTime(on_sleep=org.advance).sync())
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    class AsyncBulk(sfbulk_sdk.AsyncBulk):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("transport", FakeOrgTransport(org))
            kwargs.update(FakeTime(on_sleep=org.advance).async_())
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sfbulk_sdk, "Bulk", Bulk)
    monkeypatch.setattr(sfbulk_sdk, "AsyncBulk", AsyncBulk)
    return org


def test_the_page_has_an_example_for_each_section() -> None:
    assert len(examples()) >= 8


@pytest.mark.parametrize(
    ("number", "code"), examples(), ids=[f"loads.md#{n}" for n, _ in examples()]
)
def test_the_example_runs_against_the_fake_org(
    number: int, code: str, fake_world: FakeOrg, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fake_world.stats()["requests"]["total"]
    exec(compile(code, f"loads.md example {number}", "exec"), {"__name__": "docs_example"})
    assert fake_world.stats()["requests"]["total"] > before, "the example sent nothing"
    if "except PollTimeoutError" in code:  # the deadline did expire, and the job was resumed
        assert "still running: job 750" in capsys.readouterr().out
