"""How a fake org is configured: limits, simulated times, what ``login()`` reports.

:class:`OrgSettings` holds every knob of :class:`~sfbulk_sdk.testing.FakeOrg`
(its keyword arguments). The fields are plain attributes, so a test can change
one on a running org (``org.state.settings.soap_login_enabled = True``, as an
admin would switch SOAP login back on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..models.session import DEFAULT_SESSION_SECONDS

__all__ = ["DEFAULT_INSTANCE_URL", "OrgSettings"]

DEFAULT_INSTANCE_URL = "https://fake-org.my.salesforce.com"


@dataclass
class OrgSettings:
    """The settings of one fake org (see :class:`~sfbulk_sdk.testing.FakeOrg` for each).

    Values are normalised on creation: numbers to their type, ``instance_url``
    without a trailing slash.
    """

    session_timeout: int = DEFAULT_SESSION_SECONDS
    queue_time: float = 0.0
    processing_time: float = 0.0
    query_result_file_rows: int | None = None
    latency: float = 0.0
    instance_url: str = DEFAULT_INSTANCE_URL
    organization_name: str = "Fake Org"
    oldest_api_version: float = 31.0
    latest_api_version: float = 68.0
    max_batch_records: int = 10_000
    max_batch_bytes: int = 10 * 1024 * 1024
    max_batch_chars: int = 10_000_000
    max_logins_per_hour: int = 3600
    gzip_responses: bool = True
    sandbox: bool = False
    max_batches_per_day: int = 15_000
    soap_login_enabled: bool = True
    # Bulk API 2.0 and REST (spec §3, §5.1, §9)
    bulk2_max_upload_bytes: int = 100_000_000
    bulk2_jobs_page_size: int = 1000
    bulk2_query_page_records: int = 50_000
    bulk2_query_max_page_records: int = 1_000_000
    bulk2_empty_failed_results_status: int = 200
    bulk2_result_seed: int | None = None
    bulk2_max_query_jobs_per_day: int = 10_000
    max_api_requests_per_day: int = 100_000

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, object]) -> OrgSettings:
        """The settings among ``arguments`` (``FakeOrg.__init__``'s ``locals()``)."""
        chosen: dict[str, Any] = {
            f.name: arguments[f.name] for f in fields(cls) if f.name in arguments
        }
        return cls(**chosen)

    def __post_init__(self) -> None:
        if self.query_result_file_rows is not None and self.query_result_file_rows < 1:
            raise ValueError("query_result_file_rows must be at least 1")
        self.session_timeout = int(self.session_timeout)
        self.queue_time = float(self.queue_time)
        self.processing_time = float(self.processing_time)
        self.latency = float(self.latency)
        self.instance_url = self.instance_url.rstrip("/")
        self.oldest_api_version = float(self.oldest_api_version)
        self.latest_api_version = float(self.latest_api_version)
        for name in (
            "bulk2_max_upload_bytes",
            "bulk2_jobs_page_size",
            "bulk2_query_page_records",
            "bulk2_query_max_page_records",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
            setattr(self, name, int(getattr(self, name)))
        if self.bulk2_empty_failed_results_status not in (200, 204):
            raise ValueError("bulk2_empty_failed_results_status must be 200 or 204")
