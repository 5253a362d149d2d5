"""The piano-roll picture: time across with bars, pitch up with note names, a colour per part.

Drawn with Pillow at about 1200x500 so it stays readable in a Discord embed on a phone. For a
continuation, the stretch the user played is shaded and labelled, and the user's own tracks are
outlined in white; for a rewrite, the bars the model wrote anew are shaded and labelled "new".
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi
from PIL import Image, ImageDraw, ImageFont

from cadenza.theory import note_name
from render.presets import Role
from render.voicing import Part

Scale = Callable[[float], float]  # seconds -> x, or pitch -> y, in pixels

BACKGROUND = (24, 26, 33)
GRID = (52, 56, 68)
BAR = (98, 104, 122)
TEXT = (226, 228, 236)
MUTED = (150, 155, 170)
USER_SHADE = (40, 46, 62)
NEW_SHADE = (64, 52, 30)  # warm, so "new" bars read apart from the user's (cool) part
ROLE_COLOURS = {
    Role.MELODY: [(255, 170, 60), (255, 120, 90)],
    Role.INNER: [(80, 200, 170), (120, 170, 240), (170, 140, 230), (100, 220, 110)],
    Role.BASS: [(90, 140, 255), (70, 110, 210)],
    Role.DRUMS: [(170, 170, 170)],
}


@dataclass(frozen=True)
class RollInfo:
    """The words on the picture."""

    title: str
    genre: str = ""
    key: str = ""  # e.g. "D minor"
    tempo_bpm: float | None = None
    seed: int | None = None
    primer_end_s: float | None = None  # end of the user's own material, shaded
    highlight_bars: tuple[int, int] | None = None  # bars first..last (from 1, inclusive) shaded as new


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font still reads
        return ImageFont.load_default()


def piano_roll_png(
    midi: pretty_midi.PrettyMIDI, parts: Sequence[Part], info: RollInfo, size: tuple[int, int] = (1200, 500)
) -> bytes:
    """PNG bytes of the piano roll of `parts` (from `render.voicing.arrange`) with bars from `midi`."""
    width, height = size
    img = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(img)
    left, right, top, bottom = 52, width - 12, 50, height - 28
    pitched = [p for p in parts if p.role is not Role.DRUMS and len(p.notes)]
    all_notes = (
        np.concatenate([p.notes for p in parts if len(p.notes)])
        if any(len(p.notes) for p in parts)
        else np.zeros((0, 4))
    )
    end = max(float(all_notes[:, 1].max()) if len(all_notes) else 1.0, 1.0)
    pitches = np.concatenate([p.notes[:, 2] for p in pitched]) if pitched else np.array([60.0])
    lo, hi = int(pitches.min()) - 2, int(pitches.max()) + 2
    if hi - lo < 24:  # at least two octaves, so a short tune is not drawn as fat bricks
        mid = (hi + lo) // 2
        lo, hi = mid - 12, mid + 12
    x_of = lambda t: left + (right - left) * t / end  # noqa: E731
    row = (bottom - top) / (hi - lo + 1)
    y_of = lambda p: bottom - (p - lo + 1) * row  # noqa: E731

    if info.primer_end_s:
        draw.rectangle([left, top, x_of(min(info.primer_end_s, end)), bottom], fill=USER_SHADE)
        draw.text((left + 6, top + 4), "your part", fill=MUTED, font=_font(13))
    if info.highlight_bars:
        span = bar_span(midi, info.highlight_bars, end)
        if span is not None:
            draw.rectangle([x_of(span[0]), top, x_of(span[1]), bottom], fill=NEW_SHADE)
            draw.text((x_of(span[0]) + 6, top + 4), "new", fill=TEXT, font=_font(13))
    _pitch_axis(draw, lo, hi, left, right, y_of, row)
    _bars(draw, midi, end, x_of, top, bottom)
    colours = _part_colours(parts)
    for part, colour in zip(parts, colours, strict=True):
        for start, stop, pitch, _ in part.notes:
            p = min(max(pitch, lo), hi) if part.role is Role.DRUMS else pitch
            box = [x_of(start), y_of(p) + 1, max(x_of(stop) - 1, x_of(start) + 2), y_of(p) + max(row - 1, 2)]
            draw.rectangle(box, fill=colour, outline=(255, 255, 255) if part.is_user else None)
    _title(draw, info, left, width)
    _legend(draw, parts, colours, right)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def bar_span(midi: pretty_midi.PrettyMIDI, bars: tuple[int, int], end: float) -> tuple[float, float] | None:
    """Seconds from the downbeat of bar `bars[0]` to the end of bar `bars[1]` (bars from 1); None if outside."""
    try:
        downbeats = [float(t) for t in midi.get_downbeats()]
    except (ValueError, IndexError):
        return None
    first, last = bars
    if not downbeats or first < 1 or last < first or first > len(downbeats):
        return None
    stop = downbeats[last] if last < len(downbeats) else max(end, downbeats[-1])
    return downbeats[first - 1], min(stop, end)


def _part_colours(parts: Sequence[Part]) -> list[tuple[int, int, int]]:
    used: dict[Role, int] = {}
    out = []
    for p in parts:
        palette = ROLE_COLOURS[p.role]
        out.append(palette[used.get(p.role, 0) % len(palette)])
        used[p.role] = used.get(p.role, 0) + 1
    return out


def _pitch_axis(
    draw: ImageDraw.ImageDraw, lo: int, hi: int, left: int, right: int, y_of: Scale, row: float
) -> None:
    """Horizontal lines at every C (stronger) and note names on the left: all naturals when there is room."""
    font = _font(11)
    for pitch in range(lo, hi + 1):
        y = y_of(pitch) + row / 2
        natural = pitch % 12 in (0, 2, 4, 5, 7, 9, 11)
        if pitch % 12 == 0:
            draw.line([left, y_of(pitch) + row, right, y_of(pitch) + row], fill=GRID)
        if pitch % 12 == 0 or (natural and row >= 12) or (pitch % 12 in (4, 7) and row >= 7):
            draw.text(
                (left - 6, y),
                note_name(pitch),
                fill=TEXT if pitch % 12 == 0 else MUTED,
                font=font,
                anchor="rm",
            )


def _bars(
    draw: ImageDraw.ImageDraw, midi: pretty_midi.PrettyMIDI, end: float, x_of: Scale, top: int, bottom: int
) -> None:
    """A line at every downbeat and its bar number underneath (every n-th when bars are narrow)."""
    try:
        downbeats = [float(t) for t in midi.get_downbeats() if t < end]
    except (ValueError, IndexError):
        downbeats = []
    if not downbeats:
        return
    spacing = (x_of(end) - x_of(0)) / max(len(downbeats), 1)
    every = max(1, int(np.ceil(24 / max(spacing, 1e-6))))
    font = _font(11)
    for number, t in enumerate(downbeats, start=1):
        x = x_of(t)
        draw.line([x, top, x, bottom], fill=BAR if number % every == 1 or every == 1 else GRID)
        if (number - 1) % every == 0:
            draw.text((x + 2, bottom + 4), str(number), fill=MUTED, font=font)


def _title(draw: ImageDraw.ImageDraw, info: RollInfo, left: int, width: int) -> None:
    facts = [
        info.genre,
        info.key,
        f"{info.tempo_bpm:.0f} bpm" if info.tempo_bpm else "",
        f"seed {info.seed}" if info.seed is not None else "",
    ]
    draw.text((left, 10), info.title, fill=TEXT, font=_font(20))
    draw.text((left, 33), "  ·  ".join(f for f in facts if f), fill=MUTED, font=_font(12))


def _legend(
    draw: ImageDraw.ImageDraw, parts: Sequence[Part], colours: Sequence[tuple[int, int, int]], right: int
) -> None:
    font = _font(12)
    x = float(right)
    for part, colour in reversed(list(zip(parts, colours, strict=True))):
        label = part.label + (" (yours)" if part.is_user else "")
        w = draw.textlength(label, font=font)
        x -= w
        draw.text((x, 14), label, fill=TEXT, font=font)
        x -= 16
        draw.rectangle([x, 16, x + 11, 27], fill=colour, outline=(255, 255, 255) if part.is_user else None)
        x -= 14
