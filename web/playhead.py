"""Where the audio is on the piano roll: the picture's time axis, as fractions of its width.

render/pianoroll.py draws time from x = 52 px to width - 12 px, from 0 s to the end of the last note;
tests/web/test_playhead.py checks these numbers against a drawn roll, so a change there fails here.
The rendered audio starts at the first note (render trims leading silence, keeping 10 ms), so the
playhead is at `start_s + audio time` on the roll's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from render import arrange, midi_from_bytes, resolve_preset
from web.media import sound_of, text_setting

ROLL_LEFT_PX = 52  # render.pianoroll: left edge of the time axis
ROLL_RIGHT_MARGIN_PX = 12  # render.pianoroll: the axis ends this far from the right edge
TRIM_KEEP_S = 0.01  # render.mixing.trim_start keeps this much before the first sound


@dataclass(frozen=True)
class Playhead:
    """The roll's time axis (fractions of the picture's width) and where the audio starts on it."""

    left: float
    right: float
    start_s: float
    end_s: float


def playhead_for(midi: bytes, settings: Mapping[str, object], picture_width: int) -> Playhead:
    """The playhead of a piece's roll as render/ draws it (blocking: call from a thread)."""
    preset = resolve_preset(sound_of(settings), text_setting(settings, "genre"))
    parts = arrange(midi_from_bytes(midi), preset).parts
    notes = [p.notes for p in parts if len(p.notes)]
    every = np.concatenate(notes) if notes else np.zeros((0, 4))
    end = max(float(every[:, 1].max()) if len(every) else 1.0, 1.0)
    first = float(every[:, 0].min()) if len(every) else 0.0
    return Playhead(
        left=ROLL_LEFT_PX / picture_width,
        right=(picture_width - ROLL_RIGHT_MARGIN_PX) / picture_width,
        start_s=max(0.0, first - TRIM_KEEP_S),
        end_s=end,
    )
