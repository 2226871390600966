"""Salesforce record ids: 15-character bodies plus the 3-character case-safe suffix.

A Salesforce id is 15 case-sensitive characters: a 3-character key prefix that
names the object (``001`` Account, ``750`` Bulk job ...), then an instance
part and a base-62 counter. The 18-character form appends three characters so
that the id survives case-insensitive handling: for each 5-character chunk of
the 15-character id, bit *i* of a 5-bit number is set when character *i* is an
uppercase letter ``A``-``Z``, and the number indexes :data:`SUFFIX_ALPHABET`.
"""

from __future__ import annotations

import re

__all__ = [
    "BASE62",
    "SUFFIX_ALPHABET",
    "IdGenerator",
    "checksum_suffix",
    "is_valid_id",
    "key_prefix_sequence",
    "normalize_id",
    "to_18",
]

#: Digits of the base-62 counter, in ASCII order so that ids sort by creation.
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: The 32 characters a 5-bit chunk checksum maps to.
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

_ID15 = re.compile(r"[0-9A-Za-z]{15}")
_ID18 = re.compile(r"[0-9A-Za-z]{15}[A-Z0-5]{3}")
# Uppercase letters become "1", everything else "0": the chunk's bits, read backwards.
_BITS = str.maketrans(
    {**{c: "0" for c in BASE62}, **{chr(c): "1" for c in range(ord("A"), ord("Z") + 1)}}
)


# The same bits for ASCII bytes (one C call over a whole id), and each 5-bit pattern's character.
_BYTE_BITS = bytes(0x31 if 0x41 <= c <= 0x5A else 0x30 for c in range(256))
_PATTERN_CHAR = {format(n, "05b")[::-1].encode(): SUFFIX_ALPHABET[n] for n in range(32)}


def _chunk_char(chunk: str) -> str:
    return SUFFIX_ALPHABET[int(chunk.translate(_BITS)[::-1], 2)]


def checksum_suffix(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    if not _ID15.fullmatch(id15):
        raise ValueError("not a 15-character Salesforce id")
    return _chunk_char(id15[0:5]) + _chunk_char(id15[5:10]) + _chunk_char(id15[10:15])


def to_18(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    return id15 + checksum_suffix(id15)


def is_valid_id(value: str) -> bool:
    """True for a well-formed 15-character id or an 18-character id whose suffix matches."""
    if len(value) == 15:
        return _ID15.fullmatch(value) is not None
    if len(value) == 18 and _ID18.fullmatch(value):
        return checksum_suffix(value[:15]) == value[15:].upper()
    return False


def normalize_id(value: str) -> str | None:
    """The canonical 18-character form of a 15/18-character id, or ``None`` if malformed.

    Salesforce accepts the 18-character form in any case; the first 15
    characters are then recovered from the suffix's case bits.
    """
    if len(value) == 18 and value.isascii() and value.isalnum():
        flags = value.encode().translate(_BYTE_BITS)  # the usual case: already canonical
        first, second, third = flags[0:5], flags[5:10], flags[10:15]
        if _PATTERN_CHAR[first] + _PATTERN_CHAR[second] + _PATTERN_CHAR[third] == value[15:]:
            return value
    if len(value) == 15:
        return to_18(value) if _ID15.fullmatch(value) else None
    if len(value) != 18 or not _ID15.fullmatch(value[:15]):
        return None
    suffix = value[15:].upper()
    if any(c not in SUFFIX_ALPHABET for c in suffix):
        return None
    chars = list(value[:15])
    for chunk, code in enumerate(suffix):
        bits = SUFFIX_ALPHABET.index(code)
        for i in range(5):
            pos = chunk * 5 + i
            upper = bool(bits & (1 << i))
            if upper != chars[pos].isupper():
                if not chars[pos].isalpha():
                    return None
                chars[pos] = chars[pos].upper() if upper else chars[pos].lower()
    body = "".join(chars)
    return body + suffix


def key_prefix_sequence(start: str = "a0X") -> str:
    """The key prefix following ``start`` in base-62 order (``a0X`` -> ``a0Y``)."""
    digits = [BASE62.index(c) for c in start]
    i = len(digits) - 1
    while i >= 0:
        digits[i] += 1
        if digits[i] < len(BASE62):
            break
        digits[i] = 0
        i -= 1
    return "".join(BASE62[d] for d in digits)


# The last two base-62 digits of a counter, and their uppercase bits, for fast issuing.
_PAIRS = [a + b for a in BASE62 for b in BASE62]
_PAIR_BITS = [int(p.translate(_BITS)[::-1], 2) for p in _PAIRS]
_BLOCK = len(_PAIRS)


class IdGenerator:
    """Issues ids for one key prefix: ``prefix + instance + base-62 counter``.

    Ids are handed out in increasing order (also as strings), so a table keyed
    by them keeps creation order and Id ranges are contiguous, which is what PK
    chunking relies on. Only the last two counter digits change between most
    consecutive ids, so everything else (and its share of the checksum) is
    computed once per 3,844 ids.
    """

    __slots__ = ("_block", "_block_bits", "_block_text", "_counter", "_head", "_mid_char", "prefix")

    def __init__(self, prefix: str, instance: str = "5j", *, start: int = 1) -> None:
        if len(prefix) != 3 or len(instance) != 2:
            raise ValueError("key prefix must have 3 characters and instance 2")
        self.prefix = prefix
        self._head = prefix + instance
        self._counter = start
        self._block = -1
        self._block_text = ""
        self._block_bits = 0
        self._mid_char = ""

    def peek(self) -> int:
        """The counter value the next id will use."""
        return self._counter

    def _enter_block(self, block: int) -> None:
        digits = []
        n = block
        for _ in range(8):
            n, r = divmod(n, 62)
            digits.append(BASE62[r])
        if n:
            raise OverflowError("id counter exhausted")
        high = "".join(reversed(digits))  # counter digits 0-7
        self._block = block
        self._block_text = self._head + high
        # Suffix characters: chunk 1 = head, chunk 2 = digits 0-4, chunk 3 = digits 5-9.
        self._mid_char = _chunk_char(self._head) + _chunk_char(high[:5])
        self._block_bits = int(high[5:].translate(_BITS)[::-1], 2)

    def next15(self) -> str:
        """The next 15-character id."""
        block, low = divmod(self._counter, _BLOCK)
        self._counter += 1
        if block != self._block:
            self._enter_block(block)
        return self._block_text + _PAIRS[low]

    def next18(self) -> str:
        """The next 18-character id (15 characters plus the case-safe suffix)."""
        block, low = divmod(self._counter, _BLOCK)
        self._counter += 1
        if block != self._block:
            self._enter_block(block)
        last = SUFFIX_ALPHABET[self._block_bits | _PAIR_BITS[low] << 3]
        return self._block_text + _PAIRS[low] + self._mid_char + last
