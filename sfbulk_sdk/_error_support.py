"""What :mod:`sfbulk_sdk.errors` needs besides its classes (kept apart: that module is full).

* :func:`normalise_code`: the spelling rule under which Bulk API 1.0 codes
  (``InvalidJob``) and Bulk API 2.0 / REST codes (``INVALIDJOB``,
  ``INVALID_JOB``) name the same error.
* :func:`reduce_error`: how an SDK error pickles (e.g. back from a process pool).
  :class:`BaseException` pickles as ``type(error)(*error.args)`` and then its
  ``__dict__``: it calls ``__init__`` again with the one message that
  ``__init__`` passed up. The SDK's errors take other arguments
  (``LoginError(code, message)``, ``BatchFailedError(job_id, batch_id,
  state_message)``), so that call failed, and a worker whose login was refused
  broke its ``ProcessPoolExecutor`` (``BrokenProcessPool``). An SDK error is
  rebuilt without ``__init__`` instead: its class, ``args`` (the message,
  already masked) and instance attributes, which hold no secret (a kept request
  or response is the redacted copy the error made, see :mod:`sfbulk_sdk._redact`).
  As for every exception, the traceback and ``__cause__`` / ``__context__`` are
  not pickled; an excerpt read from the cause is kept.
"""

from __future__ import annotations

__all__ = ["normalise_code", "rebuild_error", "reduce_error"]


def normalise_code(code: str) -> str:
    return code.replace("_", "").lower()


def reduce_error(error: BaseException) -> tuple[object, ...]:
    """``__reduce__`` of every SDK error: rebuilt by :func:`rebuild_error`, not ``__init__``."""
    state = dict(vars(error))
    if "_excerpt" in state:  # a ProtocolError: its excerpt may come from the cause
        state["_excerpt"] = getattr(error, "excerpt", None)
    return (rebuild_error, (type(error), error.args, state))


def rebuild_error(
    cls: type[BaseException], args: tuple[object, ...], state: dict[str, object]
) -> BaseException:
    """The copy of an error pickled by :func:`reduce_error`."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error
