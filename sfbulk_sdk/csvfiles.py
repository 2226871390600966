"""CSV files to Bulk API 1.0 batches: the file I/O over the pure core.

:mod:`sfbulk_sdk.core.csvsplit` cuts any iterable of text or bytes chunks into
batches and never opens a file; this module opens the file, reads it lazily in
binary chunks (memory stays bounded by one batch) and hands the chunks to it.

A file is read **twice** by default (``check_first=True``), deliberately. A
file that cannot be uploaded (malformed CSV, a record too large for any batch,
text that is not valid in its encoding) must be refused before its first batch
is produced, because a client sends each batch as soon as it gets it: a
failure half-way would leave a job with some batches of the file and not the
others. Keeping the whole file in memory to check it first is what streaming
avoids, so the first pass only checks (:func:`~sfbulk_sdk.core.csvsplit.scan_csv`
builds no batch), and the second pass cuts the batches. ``check_first=False``
reads the file once and raises at the faulty record, after the batches before
it were produced.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .core.csvbatch import check_limits
from .core.csvsplit import BATCH_LIMITS, CsvBatch, Limits, scan_csv, split_csv
from .errors import InvalidInputError

__all__ = ["iter_csv_file_batches", "split_csv_file"]

#: The size of one read from the file.
_FILE_CHUNK = 1 << 20


def _file_chunks(path: str | os.PathLike[str], chunk_size: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def split_csv_file(
    path: str | os.PathLike[str],
    *,
    limits: Limits = BATCH_LIMITS,
    encoding: str = "utf-8",
    check_first: bool = True,
    chunk_size: int = _FILE_CHUNK,
    delimiter: str = ",",
    one_ending: bool = False,
) -> Iterator[CsvBatch]:
    """Cut a CSV file into batches, reading it lazily in binary chunks.

    With ``check_first`` (the default) the whole file is scanned before the
    first batch is produced, so a malformed or oversized record raises
    :class:`~sfbulk_sdk.errors.InvalidInputError` before anything can be sent.
    The file is then read a second time to build the batches (see the module
    docstring for why it is read twice). The file is opened when iteration
    starts and closed when it ends. ``one_ending``: as for :func:`split_csv`.
    """
    check_limits(limits)
    if chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be positive, got {chunk_size!r}")

    def batches() -> Iterator[CsvBatch]:
        if check_first:
            chunks = _file_chunks(path, chunk_size)
            scan_csv(
                chunks,
                limits=limits,
                encoding=encoding,
                delimiter=delimiter,
                one_ending=one_ending,
            )
        chunks = _file_chunks(path, chunk_size)
        yield from split_csv(
            chunks, limits=limits, encoding=encoding, delimiter=delimiter, one_ending=one_ending
        )

    return batches()


def iter_csv_file_batches(
    path: str | os.PathLike[str],
    *,
    limits: Limits = BATCH_LIMITS,
    encoding: str = "utf-8",
    check_first: bool = True,
) -> Iterator[bytes]:
    """The bodies of :func:`split_csv_file`'s batches: UTF-8 CSV bytes ready to upload."""
    for batch in split_csv_file(path, limits=limits, encoding=encoding, check_first=check_first):
        yield batch.data
