"""Engine-neutral plans: a query or a load cut into pieces that workers run alone.

A plan is plain data (JSON or pickle) holding what a worker needs to rebuild
its client (:class:`ConnectionSpec`: the authenticator's public settings and
the shared session store's address) and never a secret. The driver plans and
commits; workers (Spark executors, processes, machines) move the rows. See
:mod:`sfbulk_sdk.spark` for the Spark data source built on them.
"""

from __future__ import annotations

from . import write
from .columns import COLUMN_TYPES, Column
from .connection import AuthSpec, ConnectionSpec, StoreSpec
from .read import ReadPartition, ReadPlan, plan_query, read_partition
from .write import *  # noqa: F403 - every name of write.__all__, re-exported below

__all__ = [
    "COLUMN_TYPES",
    "AuthSpec",
    "Column",
    "ConnectionSpec",
    "ReadPartition",
    "ReadPlan",
    "StoreSpec",
    "plan_query",
    "read_partition",
]
# The write side (plans, tasks, commit and abort), as sfbulk_sdk.plans.write lists it.
__all__ += write.__all__
