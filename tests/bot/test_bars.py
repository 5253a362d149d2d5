"""Bar ranges a member types for a rewrite: read, then checked against the piece (known answers)."""

from __future__ import annotations

import pytest

from bot.bars import check_bars, parse_bars
from cadenza.errors import BadInput


@pytest.mark.parametrize(
    ("text", "bars"),
    [("5-8", (5, 8)), ("5–8", (5, 8)), (" bars 2 to 3 ", (2, 3)), ("7", (7, 7)), ("8-5", (8, 5))],
)
def test_parse_bars_reads_ranges_and_single_bars(text: str, bars: tuple[int, int]) -> None:
    assert parse_bars(text) == bars


@pytest.mark.parametrize("text", ["", "  ", "five", "5-", "-3", "5,8", "1-2-3"])
def test_parse_bars_refuses_what_is_not_a_range(text: str) -> None:
    with pytest.raises(BadInput, match="like `5-8`, or one bar"):
        parse_bars(text)


@pytest.mark.parametrize(
    ("bars", "reason"),
    [
        ((8, 5), "reversed"),
        ((0, 2), "counted from 1"),
        ((15, 17), "has 16 bars"),
        ((17, 17), "has 16 bars"),
        ((1, 9), "at most 8 bars"),
        ((1, 16), "at most 8 bars"),
    ],
)
def test_check_bars_refuses_ranges_that_do_not_fit(bars: tuple[int, int], reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        check_bars(bars, piece_bars=16, max_bars=8)


def test_check_bars_refuses_the_whole_piece_and_keeps_a_good_range() -> None:
    with pytest.raises(BadInput, match="whole piece"):
        check_bars((1, 4), piece_bars=4, max_bars=8)
    assert check_bars((5, 8), piece_bars=16, max_bars=8) == (5, 8)
    assert check_bars((16, 16), piece_bars=16, max_bars=1) == (16, 16)
