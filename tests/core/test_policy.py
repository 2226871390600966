"""Poll and retry policies (``sfbulk_sdk.core.policy``): a poll policy that could never
reach its deadline is refused. (How the clients wait and retry under them is in
``tests/client/test_polling.py`` and ``tests/client/test_retries.py``.)"""

from __future__ import annotations

import pytest

from sfbulk_sdk import PollPolicy, RetryPolicy, errors


@pytest.mark.review("client")
@pytest.mark.parametrize(
    "settings",
    [
        {"initial": 0.0},  # zero-second polls never use up the deadline
        {"initial": 1.0, "factor": 0.5, "timeout": 10.0},  # waits that sum to 2 s, forever
        {"initial": -1.0},
        {"max_interval": 0.0},
        {"timeout": -5.0},
        {"initial": float("nan")},
    ],
)
def test_a_poll_policy_that_could_never_reach_its_deadline_is_refused(
    settings: dict[str, float],
) -> None:
    with pytest.raises(errors.InvalidInputError):
        PollPolicy(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},  # not even one attempt
        {"max_attempts": 2.5},
        {"backoff": -0.5},
        {"max_backoff": float("inf")},
        {"throttle_backoff": float("nan")},
        {"throttle_backoff": True},
        {"jitter": 1.5},  # a wait could turn negative
        {"jitter": float("nan")},
        {"jitter": True},
    ],
)
def test_a_retry_policy_that_cannot_work_is_refused(settings: dict[str, float]) -> None:
    with pytest.raises(errors.InvalidInputError, match="RetryPolicy"):
        RetryPolicy(**settings)  # type: ignore[arg-type]


def test_the_default_and_zero_wait_retry_policies_are_accepted() -> None:
    assert RetryPolicy().max_attempts == 4 and RetryPolicy().throttle_backoff == 5.0
    quick = RetryPolicy(max_attempts=1, backoff=0, max_backoff=0, throttle_backoff=0, jitter=0)
    assert quick.delay(1) == 0.0
