"""Inflating Bulk 2.0 result pages: every encoding, gzip pages of several
members with a member boundary anywhere in the slices the page is fed in,
and pages that end early."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from sfbulk_sdk.core.bulk2_flows import _inflated, _Page
from sfbulk_sdk.core.flow import DECODE_SLICE


def _rows(n: int, start: int = 0) -> bytes:
    return b"".join(b'"%d","name %d","x"\n' % (i, i) for i in range(start, start + n))


def _inflate(encoding: str, body: bytes) -> bytes:
    pieces = list(_inflated(_Page(encoding, body)))
    assert all(len(p) <= DECODE_SLICE for p in pieces)
    return b"".join(pieces)


ENCODINGS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "deflate-raw": lambda data: zlib.compress(data, wbits=-15),
    "identity": lambda data: data,
    "": lambda data: data,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("rows", [0, 1, 3000, 40_000])
def test_every_encoding_inflates_to_the_page(encoding: str, rows: int) -> None:
    csv = _rows(rows)
    header = encoding.removesuffix("-raw")
    assert _inflate(header, ENCODINGS[encoding](csv)) == csv


@pytest.mark.timeout(60)
@pytest.mark.parametrize("first_rows", [1, 2500, 9000, 40_000])
def test_a_gzip_page_of_several_members_is_every_member_in_order(first_rows: int) -> None:
    """A multi-member gzip page used to loop for ever once the first member
    ended after more than one slice of output (zlib keeps its old
    ``unconsumed_tail`` after a member's end)."""
    members = [_rows(first_rows), _rows(3000, first_rows), b"", _rows(7, 99_999)]
    body = b"".join(gzip.compress(m) for m in members)
    assert _inflate("gzip", body) == b"".join(members)


def _member_ending_at(target: int, rng: random.Random) -> bytes:
    """Incompressible text whose gzip member is exactly ``target`` bytes long."""
    size = target
    for _ in range(20):
        data = rng.randbytes(size)
        length = len(gzip.compress(data, mtime=0))
        if length == target:
            return data
        size += target - length
    raise AssertionError(f"no member of {target} bytes")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 2, DECODE_SLICE // 2])
@pytest.mark.parametrize("slices", [1, 2])
def test_a_member_boundary_anywhere_in_a_slice(offset: int, slices: int) -> None:
    rng = random.Random(offset * 7 + slices)
    first = _member_ending_at(slices * DECODE_SLICE + offset, rng)
    second = rng.randbytes(3 * DECODE_SLICE + 5)
    third = b"x" * (5 * DECODE_SLICE)  # inflates to far more than one slice of input
    body = gzip.compress(first, mtime=0) + gzip.compress(second) + gzip.compress(third)
    assert len(gzip.compress(first, mtime=0)) == slices * DECODE_SLICE + offset
    assert _inflate("gzip", body) == first + second + third


@pytest.mark.timeout(60)
def test_many_small_members() -> None:
    members = [_rows(3, 3 * n) for n in range(3000)]
    body = b"".join(gzip.compress(m) for m in members)
    assert _inflate("gzip", body) == b"".join(members)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cut", [1, 12, 100, 5000])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw"])
def test_a_page_cut_short_is_refused(encoding: str, cut: int) -> None:
    body = ENCODINGS[encoding](_rows(40_000))
    with pytest.raises(zlib.error, match="ends early"):
        _inflate(encoding.removesuffix("-raw"), body[:-cut])


@pytest.mark.timeout(60)
def test_a_second_member_cut_short_is_refused() -> None:
    body = gzip.compress(_rows(9000)) + gzip.compress(_rows(3000))[:-20]
    with pytest.raises(zlib.error, match="ends early"):
        _inflate("gzip", body)
