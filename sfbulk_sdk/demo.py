"""The demo behind ``make demo`` / ``sfbulk demo``: a first run without a Salesforce account.

It starts a fake org in this process (no network, no credentials), logs in,
loads a generated sample (by default 10,000 Accounts and 40,000 Contacts tied
to them, a few rows deliberately bad) with the one-call loads of
:class:`~sfbulk_sdk.Bulk`, updates some Contacts through Bulk API 2.0, queries
everything back, shows the per-record failures and says what to run next
against a real org. It uses the public API only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from .auth import ClientCredentials
from .client import Bulk
from .core.clock import ManualClock
from .core.outcomes import LoadResult
from .core.progress import ProgressEvent, ProgressHook
from .testing import DEFAULT_USERNAME, FakeOrg, FakeOrgTransport

__all__ = ["NEXT_STEPS", "Progress", "run_demo"]

#: Opens a progress display for ``(label, total)``; yields the hook that feeds it.
Progress = Callable[[str, int], AbstractContextManager[ProgressHook]]

#: What the demo prints at the end: the same flow against a real org.
NEXT_STEPS = """Next, against a real org:
  export SFBULK_PASSWORD=...          # never on the command line
  sfbulk login --username you@example.com --login-url https://login.salesforce.com
  sfbulk insert Account accounts.csv --error-file failed.csv
  sfbulk query "SELECT Id, Name FROM Account" -o accounts-out.csv
  sfbulk --help                       # every command, options and exit codes"""

_INDUSTRIES = ("Agriculture", "Banking", "Chemicals", "Education", "Energy", "Retail")
_CITIES = ("Paris", "Lagos", "Osaka", "Lima", "Oslo", "Pune", "Denver")


@contextmanager
def _no_progress(label: str, total: int) -> Iterator[ProgressHook]:
    def ignore(event: ProgressEvent) -> None:
        """No display."""

    yield ignore


def _accounts(count: int, bad: set[int]) -> Iterator[dict[str, str]]:
    for i in range(count):
        yield {
            "Name": "" if i in bad else f"Demo Account {i:05d}",  # a bad row misses Name
            "Industry": _INDUSTRIES[i % len(_INDUSTRIES)],
            "BillingCity": _CITIES[i % len(_CITIES)],
            "NumberOfEmployees": str(10 + i % 990),
            "Description": "made by sfbulk demo\nsecond line" if i % 500 == 0 else "",
        }


def _contacts(count: int, account_ids: list[str], bad: set[int]) -> Iterator[dict[str, str]]:
    for i in range(count):
        yield {
            "FirstName": f"Ada{i}",
            "LastName": "" if i in bad else f"Lovelace{i:05d}",  # a bad row misses LastName
            "Email": f"ada{i}@example.com",
            "AccountId": account_ids[i % len(account_ids)],
        }


def _bad_rows(count: int, how_many: int) -> set[int]:
    step = max(1, count // (how_many + 1))
    return {step * (k + 1) for k in range(how_many) if step * (k + 1) < count}


def run_demo(
    accounts: int = 10_000,
    contacts: int = 40_000,
    *,
    say: Callable[[str], object] = print,
    progress: Progress = _no_progress,
    summary: Callable[[str, Mapping[str, object]], object] | None = None,
) -> int:
    """Run the demo, talking through ``say`` / ``progress`` / ``summary``; 0 when it all checks."""
    started = time.perf_counter()
    org = FakeOrg(query_result_file_rows=20_000)
    waits = ManualClock()  # the fake org needs no real waiting between polls
    app = org.oauth.add_app("sfbulk demo", run_as=DEFAULT_USERNAME, scopes=["api"])
    auth = ClientCredentials(app.client_id, app.client_secret, org.instance_url)
    bulk = Bulk(
        auth=auth,
        transport=FakeOrgTransport(org),
        sleep=waits.sleep,
        monotonic=waits.monotonic,
    )
    with bulk:
        say(f"A fake Salesforce org is running in this process ({org.instance_url}).")
        say(f"Logging in with the OAuth client-credentials flow as {DEFAULT_USERNAME}.")

        bad_accounts = _bad_rows(accounts, 3)
        with progress("insert Account", accounts) as hook:
            loaded = bulk.insert("Account", list(_accounts(accounts, bad_accounts)), progress=hook)
        _tell(say, loaded)
        account_ids = [i for i in loaded.ids() if i]

        bad_contacts = _bad_rows(contacts, 4)
        with progress("insert Contact", contacts) as hook:
            people = bulk.insert(
                "Contact", list(_contacts(contacts, account_ids, bad_contacts)), progress=hook
            )
        _tell(say, people)

        # a tenth of the Contacts loaded (at least one: a small demo updates one too)
        loaded_ids = [i for i in people.ids() if i]
        titled = [{"Id": i, "Title": "VP Demo"} for i in loaded_ids[: max(1, contacts // 10)]]
        with progress("update Contact (Bulk 2.0)", len(titled)) as hook:
            updated = bulk.update("Contact", titled, api="bulk2", progress=hook)
        _tell(say, updated)

        with progress("query Contact", contacts) as hook:
            count = 0
            for _record in bulk.query("SELECT Id, LastName, AccountId, Title FROM Contact"):
                count += 1
                if count % 1000 == 0:
                    hook(ProgressEvent("query_records", 1000))
        vps = sum(1 for _ in bulk.query("SELECT Id FROM Contact WHERE Title = 'VP Demo'"))
        say(f"query: {count:,} Contacts read back, {vps:,} of them with the new Title.")

        elapsed = time.perf_counter() - started
        totals = {
            "Accounts loaded": loaded.succeeded,
            "Contacts loaded": people.succeeded,
            "Contacts updated (Bulk 2.0)": updated.succeeded,
            "rows refused (on purpose)": loaded.failed_count + people.failed_count,
            "records queried": count,
            "HTTP requests": sum(org.requests.values()),
            "logins": org.oauth.logins,
            "seconds": round(elapsed, 1),
        }
        if summary is not None:
            summary("sfbulk demo", totals)
        else:
            say(", ".join(f"{name}: {value:,}" for name, value in totals.items()))
        say(NEXT_STEPS)
        expected = contacts - len(bad_contacts)
        checks = (
            loaded.failed_count == len(bad_accounts),
            people.failed_count == len(bad_contacts),
            updated.ok,
            count == expected,
            vps == updated.succeeded,
            org.oauth.logins == 1,
        )
        if not all(checks):
            say(f"UNEXPECTED: the demo's numbers do not add up: {totals}")
            return 1
    return 0


def _tell(say: Callable[[str], object], result: LoadResult) -> None:
    say(
        f"{result.operation} {result.sobject} via {result.api}: {result.size:,} rows, "
        f"{result.succeeded:,} succeeded, {result.failed_count:,} failed "
        f"(jobs {', '.join(result.jobs)})"
    )
    for failure in result.failed()[:5]:
        row = "?" if failure.row is None else f"{failure.row + 1}"
        say(f"  row {row} refused: {failure.error}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run_demo())
