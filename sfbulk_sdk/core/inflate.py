"""Inflating a streamed reply's raw bytes, refusing one that ends early (sans-IO).

httpx's own gzip and deflate decoders take a body that stops before the end
of its compressed stream as complete: a reply cut at a record boundary would
lose its last records without a word. The clients read compressed streamed
replies raw and inflate them here instead, which raises
:class:`~sfbulk_sdk.errors.ProtocolError` when the body ends before its
compressed stream does. A gzip body of several members is inflated member
after member.
"""

from __future__ import annotations

import zlib

from ..errors import ProtocolError

__all__ = ["INFLATED_CODINGS", "Inflater"]

#: The content codings :class:`Inflater` decodes.
INFLATED_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})


class Inflater:
    """Feeds a reply's raw (compressed) chunks in, gives its bytes out."""

    def __init__(self, coding: str) -> None:
        self._deflate = coding == "deflate"
        self._inflater: zlib._Decompress | None = None

    def feed(self, data: bytes) -> bytes:
        """The bytes inflated from the next raw chunk (perhaps none yet)."""
        out: list[bytes] = []
        while data:
            inflater = self._inflater
            if inflater is None or inflater.eof:  # the first member, or the next one
                # gzip, or deflate with its zlib header (47 detects either); else raw deflate
                wbits = -15 if self._deflate and data[:1] != b"\x78" else 47
                inflater = self._inflater = zlib.decompressobj(wbits)
            try:
                out.append(inflater.decompress(data))
            except zlib.error as exc:
                raise ProtocolError(f"a compressed reply that cannot be inflated: {exc}") from None
            data = inflater.unused_data if inflater.eof else b""
        return b"".join(out)

    def end(self) -> None:
        """The body ended: refuse it when its compressed stream had not."""
        inflater = self._inflater
        if inflater is not None and not inflater.eof:
            raise ProtocolError(
                "the compressed reply ends early (its stream stops before its end): "
                "records would be missing"
            )
