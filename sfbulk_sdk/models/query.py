"""The records of a finished query batch, as the seed facade returns them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, GetPydanticSchema

from .base import JsonValue

__all__ = ["QueryBatchResult"]

#: Records are typed as JSON values (what the decoders produce) but validated,
#: serialised and described exactly as before, as lists of dicts whose values
#: are kept as they are: a record is not walked value by value.
_RECORDS_SCHEMA = GetPydanticSchema(lambda _type, handler: handler(list[dict[str, object]]))


class QueryBatchResult(BaseModel):
    """All records of one query batch (every result file, in order).

    Returned by the seed-compatible ``batch_result()`` for query jobs; stream
    large results with ``iter_query_results()`` instead.
    """

    batch_id: str
    result_ids: list[str] = Field(default_factory=list)
    records: Annotated[list[dict[str, JsonValue]], _RECORDS_SCHEMA] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)
