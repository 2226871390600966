"""What :mod:`sfbulk_sdk.errors` needs besides its classes (kept apart: that module is full).

* :func:`normalise_code`: the spelling rule under which Bulk API 1.0 codes
  (``InvalidJob``) and Bulk API 2.0 / REST codes (``INVALIDJOB``,
  ``INVALID_JOB``) name the same error.
"""

from __future__ import annotations

__all__ = ["normalise_code"]


def normalise_code(code: str) -> str:
    return code.replace("_", "").lower()
