"""The records of a finished query batch, as the seed facade returns them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["QueryBatchResult"]


class QueryBatchResult(BaseModel):
    """All records of one query batch (every result file, in order).

    Returned by the seed-compatible ``batch_result()`` for query jobs; stream
    large results with ``iter_query_results()`` instead.
    """

    batch_id: str
    result_ids: list[str] = Field(default_factory=list)
    records: list[dict[str, Any]] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)
