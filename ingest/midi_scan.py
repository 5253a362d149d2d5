"""A bounded walk over a MIDI file's bytes, before any real parser sees it.

Standard parsers build an object per event and pretty_midi allocates an array as long as the last
tick, so a small hostile file (a million notes, a delta time of years, a zero tempo) can cost
seconds or gigabytes. This walk touches each byte once, keeps nothing but counters, and stops as
soon as a limit is crossed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NoReturn

from cadenza.errors import BadInput, TooLong
from ingest.settings import IngestSettings

# pretty_midi keeps one float per tick up to the last one; 4 M ticks is 32 MB and ~30 minutes at
# 960 ticks per quarter and 140 bpm, more than any real primer needs.
MAX_TICKS = 4_000_000
_DATA_BYTES = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}  # by status high nibble


@dataclass(frozen=True)
class MidiFacts:
    """What the walk learned: enough to decide whether the file is worth parsing."""

    tracks: int
    notes: int
    ticks_per_quarter: int
    last_tick: int
    seconds: float
    tempos_bpm: tuple[float, ...]


def scan_midi(data: bytes, settings: IngestSettings) -> MidiFacts:
    """Check a MIDI file's structure and limits; `BadInput`/`TooLong` with a clear reason otherwise."""
    if len(data) > settings.midi_max_bytes:
        raise TooLong(f"That MIDI file is too large (limit {settings.midi_max_bytes // 1024} KB).")
    ppq = _header(data)
    walk = _Walk(data, settings)
    pos = 8 + struct.unpack(">I", data[4:8])[0]
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if body + length > len(data):
            raise BadInput("That MIDI file is truncated or damaged.")
        if kind == b"MTrk":
            walk.track(body, body + length)
        pos = body + length
    if walk.tracks == 0:
        raise BadInput("That MIDI file has no tracks.")
    seconds = _seconds_at(walk.last_tick, sorted(walk.tempo_events), ppq)
    if seconds > settings.midi_max_seconds:
        raise TooLong(f"That MIDI file is absurdly long ({seconds / 60:.0f} minutes).")
    bpms = tuple(60e6 / us for _, us in sorted(walk.tempo_events))
    return MidiFacts(walk.tracks, walk.notes, ppq, walk.last_tick, seconds, bpms)


def _header(data: bytes) -> int:
    """Validate MThd and return ticks per quarter note."""
    if len(data) < 14 or not data.startswith(b"MThd"):
        raise BadInput("That MIDI file is truncated or damaged.")
    length, fmt, _, division = struct.unpack(">IHHH", data[4:14])
    if length < 6 or fmt > 2:
        raise BadInput("That MIDI file has an unknown header format.")
    if division & 0x8000:
        raise BadInput("MIDI files timed in SMPTE frames are not supported; export with beats (PPQ).")
    if division == 0:
        raise BadInput("That MIDI file declares zero ticks per beat.")
    return division


class _Walk:
    """Counters for a walk over all tracks, checking limits as it goes."""

    def __init__(self, data: bytes, settings: IngestSettings) -> None:
        self.data, self.settings = data, settings
        self.tracks = self.notes = self.last_tick = 0
        self.tempo_events: list[tuple[int, int]] = []  # (tick, microseconds per quarter)

    def track(self, pos: int, end: int) -> None:
        """Walk one MTrk chunk's events."""
        self.tracks += 1
        if self.tracks > self.settings.midi_max_tracks:
            raise TooLong(f"That MIDI file has more than {self.settings.midi_max_tracks} tracks.")
        data, tick, status = self.data, 0, 0
        while pos < end:
            delta, pos = self._varlen(pos, end)
            tick += delta
            if tick > MAX_TICKS:
                raise TooLong("That MIDI file is absurdly long (its timing runs past any real song).")
            byte = data[pos] if pos < end else self._damaged()
            if byte & 0x80:
                status, pos = byte, pos + 1
            elif status == 0:
                self._damaged()  # running status with nothing to run on
            if status == 0xFF:
                pos, status = self._meta(pos, end, tick), 0
            elif status in (0xF0, 0xF7):
                length, pos = self._varlen(pos, end)
                pos, status = pos + length, 0
            elif status >= 0xF0:
                self._damaged()
            else:
                pos = self._channel(status, pos, end)
        self.last_tick = max(self.last_tick, tick)

    def _channel(self, status: int, pos: int, end: int) -> int:
        n = _DATA_BYTES[status >> 4]
        if pos + n > end:
            self._damaged()
        if status >> 4 == 0x9 and self.data[pos + 1] > 0:
            self.notes += 1
            if self.notes > self.settings.midi_max_notes:
                raise TooLong(f"That MIDI file has more than {self.settings.midi_max_notes:,} notes.")
        return pos + n

    def _meta(self, pos: int, end: int, tick: int) -> int:
        if pos >= end:
            self._damaged()
        kind = self.data[pos]
        length, pos = self._varlen(pos + 1, end)
        if pos + length > end:
            self._damaged()
        if kind == 0x51:
            self._tempo(self.data[pos : pos + length], tick)
        return pos + length

    def _tempo(self, body: bytes, tick: int) -> None:
        us = int.from_bytes(body[:3], "big") if len(body) >= 3 else 0
        bpm = 60e6 / us if us else float("inf")
        lo, hi = self.settings.min_bpm, self.settings.max_bpm
        if not lo <= bpm <= hi:
            shown = "zero" if not us else f"{bpm:.4g} bpm"
            raise BadInput(
                f"That MIDI file sets an impossible tempo ({shown}); tempos must be {lo:g}-{hi:g} bpm."
            )
        self.tempo_events.append((tick, us))

    def _varlen(self, pos: int, end: int) -> tuple[int, int]:
        """A variable-length quantity: at most 4 bytes, 7 bits each."""
        value = 0
        for i in range(4):
            if pos + i >= end:
                self._damaged()
            byte = self.data[pos + i]
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                return value, pos + i + 1
        return self._damaged()

    @staticmethod
    def _damaged() -> NoReturn:
        raise BadInput("That MIDI file is truncated or damaged.")


def _seconds_at(tick: int, tempos: list[tuple[int, int]], ppq: int) -> float:
    """Seconds at `tick` under a tempo map of (tick, microseconds per quarter); 120 bpm before the first."""
    seconds, last_tick, us = 0.0, 0, 500_000
    for t, new_us in tempos:
        if t >= tick:
            break
        seconds += (t - last_tick) * us / ppq / 1e6
        last_tick, us = t, new_us
    return seconds + (tick - last_tick) * us / ppq / 1e6
