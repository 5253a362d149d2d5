"""A bar range a member typed ("5-8", "5–8", "5"), read and checked against the piece it rewrites.

Checked before a job is admitted, so a bad range costs the member nothing from their rate limit.
"""

from __future__ import annotations

import re

from bot.storage import Piece
from cadenza.errors import BadInput
from render import midi_from_bytes

_RANGE = re.compile(r"\s*(?:bars?\s*)?(\d{1,4})\s*(?:(?:-|–|—|to|\.\.)\s*(\d{1,4}))?\s*", re.IGNORECASE)


def parse_bars(text: str) -> tuple[int, int]:
    """`"5-8"` -> (5, 8); `"5"` -> (5, 5); BadInput for anything else (a reversed range is kept, and refused
    by `check_bars` with its own reason)."""
    if not (text or "").strip():
        raise BadInput("Write the bars to rewrite, like `5-8`, or one bar: `5`.")
    match = _RANGE.fullmatch(text)
    if not match:
        raise BadInput(
            f"I can't read the bars `{text.strip()[:20]}`. Write a range like `5-8`, or one bar: `5`."
        )
    first = int(match[1])
    return first, int(match[2]) if match[2] else first


def check_bars(bars: tuple[int, int], piece_bars: int, max_bars: int) -> tuple[int, int]:
    """The range if it lies inside a piece of `piece_bars` bars and spans at most `max_bars`, else BadInput."""
    first, last = bars
    if first < 1 or last < 1:
        raise BadInput("Bars are counted from 1: the first bar is bar 1.")
    if last < first:
        raise BadInput(
            f"The range {first}-{last} is reversed: write the first bar first, like `{last}-{first}`."
        )
    if first > piece_bars or last > piece_bars:
        raise BadInput(
            f"The piece has {piece_bars} bar{'s' if piece_bars != 1 else ''}: "
            f"choose bars between 1 and {piece_bars}."
        )
    if last - first + 1 > max_bars:
        raise BadInput(
            f"I can rewrite at most {max_bars} bars at a time; {first}-{last} is {last - first + 1}."
        )
    if first == 1 and last == piece_bars:
        raise BadInput("That is the whole piece: nothing would be kept. Use Another take for a new piece.")
    return first, last


def bars_of(piece: Piece) -> int:
    """How many bars a stored piece has (stored with it since rewrites came; else counted from its MIDI)."""
    stored = piece.settings.get("bars")
    if isinstance(stored, int) and not isinstance(stored, bool) and stored > 0:
        return stored
    score = midi_from_bytes(piece.midi)
    end = score.get_end_time()
    return max(1, sum(1 for t in score.get_downbeats() if t < end - 1e-3))
