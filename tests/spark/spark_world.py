"""What the Spark tests share: the fake org process's handle and the seeded sizes."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

ACCOUNTS = 200_000
CONTACTS = 20_000
#: The Spark session's time zone (and its processes' ``TZ``): not UTC.
SPARK_TIME_ZONE = "America/New_York"


@dataclass
class Org:
    """The fake org process: its URL and an HTTP client for its controls."""

    url: str
    control: httpx.Client
    process: subprocess.Popen[bytes]

    def logins(self) -> int:
        response = self.control.get("/_fake/stats")
        response.raise_for_status()
        return int(response.json()["logins"])

    def records(self, sobject: str) -> list[dict[str, object]]:
        response = self.control.get(f"/_fake/records/{sobject}")
        response.raise_for_status()
        records: list[dict[str, object]] = response.json()
        return records

    def bulk2_jobs(self) -> list[dict[str, object]]:
        response = self.control.get("/_fake/bulk2/jobs")
        response.raise_for_status()
        jobs: list[dict[str, object]] = response.json()
        return jobs

    def expire_sessions(self) -> int:
        response = self.control.post("/_fake/expire-sessions")
        response.raise_for_status()
        return int(response.json()["expired"])


@dataclass(frozen=True)
class SparkDirs:
    """Where the test Spark session writes its event log and its console output."""

    events: Path
    output: Path
