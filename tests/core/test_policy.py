"""Poll and retry policies (``sfbulk_sdk.core.policy``): a poll policy that could never
reach its deadline is refused. (How the clients wait and retry under them is in
``tests/client/test_polling.py`` and ``tests/client/test_retries.py``.)"""

from __future__ import annotations

import pytest

from sfbulk_sdk import PollPolicy, errors


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
