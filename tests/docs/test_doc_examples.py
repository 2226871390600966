"""Every Python example in the docs runs, unchanged, against the fake org.

Each ```` ```python ```` block of the pages below is executed as it is written. The
examples read their secrets from environment variables, as real code should; the
test sets those variables to a fake org's users and apps, and points the clients
at the fake: ``sfbulk_sdk.Bulk`` / ``AsyncBulk`` are replaced, for the run, by
subclasses that add ``transport=FakeOrgTransport(org)`` (and waits that take no
time). Redis examples get a real Redis server. A block preceded by
``<!-- no-run -->`` is shown but not run (none should need it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from servers import ServerProcess

import sfbulk_sdk
from sfbulk_sdk.testing import (
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
    FakeOrg,
    FakeOrgTransport,
)
from tests.keys import make_key_pair
from tests.timing import FakeTime

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = [
    "index.md",
    "quickstart.md",
    "seed-api.md",
    "bulk-apis.md",
    "authentication.md",
    "sessions.md",
    "errors.md",
]
#: Pages read top to bottom: their examples run in order in one namespace, as a reader
#: following the page would run them, and the ``test_*`` functions they define are
#: called, as pytest would call them.
TUTORIAL_PAGES = ["testing.md"]
_BLOCK = re.compile(r"(<!-- no-run -->\s*)?```python\n(.*?)```", re.DOTALL)

#: A ```` ```text ```` block right after an example: what the example prints.
_OUTPUT = re.compile(r"```python\n(.*?)```\s*```text\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.filterwarnings("ignore::sfbulk_sdk.deprecations.LoginDeprecationWarning")


def examples(pages: list[str] = PAGES) -> list[tuple[str, int, str]]:
    """``(page, number, code)`` of every runnable example."""
    found = []
    for page in pages:
        text = (DOCS / page).read_text(encoding="utf-8")
        for number, match in enumerate(_BLOCK.finditer(text), 1):
            if not match.group(1):
                found.append((page, number, match.group(2)))
    return found


@pytest.fixture
def fake_world(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    redis_server: ServerProcess,
    mongo_server: ServerProcess,
) -> FakeOrg:
    """A fake org, the environment the examples read, and clients that reach the org."""
    org = FakeOrg()
    keys = make_key_pair("docs")
    app = org.oauth.add_app(
        "docs", certificate=keys.certificate, run_as=DEFAULT_USERNAME, rotate_refresh_tokens=True
    )
    key_file = tmp_path / "server.key"
    key_file.write_text(keys.private_pem)
    key_file.chmod(0o600)
    env = {
        "SF_CLIENT_ID": app.client_id,
        "SF_CLIENT_SECRET": app.client_secret,
        "SF_USERNAME": DEFAULT_USERNAME,
        "SF_PASSWORD": DEFAULT_PASSWORD,
        "SF_TOKEN": DEFAULT_SECURITY_TOKEN,
        "SF_KEY_FILE": str(key_file),
        "SF_MY_DOMAIN_URL": org.instance_url,
        "SF_REFRESH_TOKEN": org.oauth.issue_refresh_token(app, DEFAULT_USERNAME),
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "SESSIONS_DIR": str(tmp_path / "sessions"),
        "MONGO_URL": f"mongodb://127.0.0.1:{mongo_server.port}/?directConnection=true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    class Bulk(sfbulk_sdk.Bulk):
        def __init__(self, *args: object, **kwargs: object) -> None:
            if "transport" not in kwargs and "http_client" not in kwargs:
                kwargs["transport"] = FakeOrgTransport(org)
            kwargs.setdefault("sleep", FakeTime().sleep)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    class AsyncBulk(sfbulk_sdk.AsyncBulk):
        def __init__(self, *args: object, **kwargs: object) -> None:
            if "transport" not in kwargs and "http_client" not in kwargs:
                kwargs["transport"] = FakeOrgTransport(org)
            kwargs.setdefault("sleep", FakeTime().asleep)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sfbulk_sdk, "Bulk", Bulk)
    monkeypatch.setattr(sfbulk_sdk, "AsyncBulk", AsyncBulk)
    return org


def test_the_pages_have_examples() -> None:
    counts = {page: sum(1 for p, _, _ in examples() if p == page) for page in PAGES}
    assert all(count >= 1 for count in counts.values()), counts
    # nothing is hidden from the test: no page marks an example as not to be run
    for page in PAGES + TUTORIAL_PAGES:
        assert "<!-- no-run -->" not in (DOCS / page).read_text(), page
    assert len(examples(TUTORIAL_PAGES)) >= 10


@pytest.mark.parametrize(
    ("page", "number", "code"), examples(), ids=[f"{p}#{n}" for p, n, _ in examples()]
)
def test_the_example_runs_against_the_fake_org(
    page: str, number: int, code: str, fake_world: FakeOrg
) -> None:
    before = fake_world.stats()["requests"]["total"]
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(code, f"{page} example {number}", "exec"), namespace)
    # an example may bring its own org (the home page's does): count its requests too
    own = sum(
        org.stats()["requests"]["total"] for org in namespace.values() if isinstance(org, FakeOrg)
    )
    sent = fake_world.stats()["requests"]["total"] - before + own
    assert sent > 0, "the example sent nothing"


@pytest.mark.parametrize("page", TUTORIAL_PAGES)
def test_the_tutorial_page_runs_top_to_bottom(
    page: str, fake_world: FakeOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write their certificate files here
    namespace: dict[str, object] = {"__name__": "docs_example"}
    orgs: list[FakeOrg] = []
    called = []
    for _, number, code in examples([page]):
        exec(compile(code, f"{page} example {number}", "exec"), namespace)
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value) and name not in called:
                value()
                called.append(name)
        orgs += [o for o in namespace.values() if isinstance(o, FakeOrg) and o not in orgs]
    assert called, "the page's test functions ran"
    assert sum(org.stats()["requests"]["total"] for org in orgs) > 0, "the examples sent nothing"


def test_a_shown_output_is_what_the_example_prints(
    fake_world: FakeOrg, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = [
        (page, match.group(1), match.group(2))
        for page in PAGES
        for match in _OUTPUT.finditer((DOCS / page).read_text(encoding="utf-8"))
    ]
    assert shown  # the home page shows its output
    for page, code, output in shown:
        capsys.readouterr()
        exec(compile(code, f"{page} example", "exec"), {"__name__": "docs_example"})
        assert capsys.readouterr().out == output, page
