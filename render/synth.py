"""FluidSynth in process: SoundFont checks and a synthesiser that renders channel plans to float audio.

pyfluidsynth's `get_samples` returns 16-bit samples (clipping and a copy per call), so the audio is
pulled with `fluid_synth_write_float` straight into a numpy buffer through ctypes, on the library
pyfluidsynth already loaded. ctypes releases the GIL during the call, so synths in different threads
render in parallel.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cadenza.errors import ConfigError, RenderFailed
from render.presets import Preset
from render.settings import INTERPOLATION, RenderSettings
from render.voicing import ChannelPlan

log = logging.getLogger(__name__)

FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")  # Debian's fluid-soundfont-gm
BLOCK = 64  # FluidSynth renders (and applies events) in blocks of this many frames
SYNTH_GAIN = 0.4  # FluidSynth's master gain; float output cannot clip and the mixer normalises anyway


def builtin_soundfont() -> Path:
    """TimGM6mb.sf2, the General MIDI SoundFont shipped inside the pretty_midi package."""
    import pretty_midi.fluidsynth as pmf

    return Path(pmf.__file__).parent / pmf.DEFAULT_SF2


def resolve_soundfont(spec: str) -> Path:
    """'auto' = FluidR3_GM when installed else the built-in one; 'builtin'; or a path."""
    if spec == "auto":
        return FLUID_R3 if FLUID_R3.is_file() else builtin_soundfont()
    if spec == "builtin":
        return builtin_soundfont()
    return Path(spec).expanduser()


def _fluidsynth() -> Any:
    try:
        import fluidsynth
    except ImportError as e:  # pyfluidsynth raises ImportError when libfluidsynth is missing
        raise RenderFailed(f"FluidSynth is not available ({e}); install libfluidsynth3") from e
    return fluidsynth


def check_soundfont(settings: RenderSettings) -> Path:
    """Resolve and load the configured SoundFont once, at start-up; ConfigError says what is wrong."""
    path = resolve_soundfont(settings.soundfont)
    if not path.is_file():
        raise ConfigError(f"render.soundfont: no SoundFont file at {path}")
    with path.open("rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise ConfigError(f"render.soundfont: {path} is not a SoundFont 2 file")
    synth = Synthesizer(path, settings)
    try:
        if synth.program_name(0) is None:
            raise ConfigError(f"render.soundfont: {path} has no General MIDI piano (bank 0, program 0)")
    finally:
        synth.close()
    log.info("SoundFont %s loaded and checked", path)
    return path


class _Lib:
    """ctypes prototypes for the few libfluidsynth calls pyfluidsynth does not wrap usefully."""

    def __init__(self) -> None:
        lib = _fluidsynth()._fl
        vp, i = ctypes.c_void_p, ctypes.c_int
        self.write_float = ctypes.CFUNCTYPE(i, vp, i, vp, i, i, vp, i, i)(("fluid_synth_write_float", lib))
        self.set_interp = ctypes.CFUNCTYPE(i, vp, i, i)(("fluid_synth_set_interp_method", lib))
        self.chorus_on = self._optional(lib, "fluid_synth_chorus_on", ctypes.CFUNCTYPE(i, vp, i, i))

    @staticmethod
    def _optional(lib: Any, name: str, proto: Any) -> Any:
        return proto((name, lib)) if hasattr(lib, name) else None


class Synthesizer:
    """One FluidSynth instance with the SoundFont loaded; not thread-safe, one render at a time."""

    def __init__(self, soundfont: Path, settings: RenderSettings) -> None:
        fluidsynth = _fluidsynth()
        self._lib = _Lib()
        self.sample_rate = settings.sample_rate
        self._synth = fluidsynth.Synth(
            gain=SYNTH_GAIN,
            samplerate=settings.sample_rate,
            channels=16,
            **{
                "synth.polyphony": settings.polyphony,
                "synth.cpu-cores": 1,  # parallelism comes from several synths, measured faster
                "synth.dynamic-sample-loading": int(settings.dynamic_sample_loading),
            },
        )
        self._sfid = self._synth.sfload(str(soundfont))
        if self._sfid < 0:
            self._synth.delete()
            raise ConfigError(f"render.soundfont: FluidSynth could not load {soundfont}")
        self._interp = INTERPOLATION[settings.interpolation]

    def close(self) -> None:
        """Free the synthesiser and its samples."""
        self._synth.delete()

    def program_name(self, program: int, bank: int = 0) -> str | None:
        """The SoundFont's name for a preset, or None when it has none."""
        name = self._synth.sfpreset_name(self._sfid, bank, program)
        return name or None

    def render(
        self, channels: Sequence[ChannelPlan], preset: Preset, start_s: float, frames: int
    ) -> np.ndarray:
        """Play `channels`' notes (times relative to the piece) from `start_s` for `frames` samples: (frames, 2) float32.

        Renders whole blocks so the next render starts on a block boundary too: events land on block
        boundaries, and an offset left over from a previous render would shift every note of the next.
        """
        self._setup(channels, preset)
        out = np.zeros((-(-frames // BLOCK) * BLOCK, 2), dtype=np.float32)
        base = out.ctypes.data
        pos = 0
        times, kinds, chans, pitches, vels = _events(channels, start_s, self.sample_rate)
        synth = self._synth
        for k in range(len(times)):
            target = min(int(times[k]), len(out))
            if target > pos:
                self._write(base, pos, target - pos)
                pos = target
            if kinds[k]:
                synth.noteon(int(chans[k]), int(pitches[k]), int(vels[k]))
            else:
                synth.noteoff(int(chans[k]), int(pitches[k]))
        if len(out) > pos:
            self._write(base, pos, len(out) - pos)
        return out[:frames]

    def _write(self, base: int, pos: int, count: int) -> None:
        ptr = base + pos * 8  # 2 float32 channels per frame, interleaved
        if self._lib.write_float(self._synth.synth, count, ptr, 0, 2, ptr, 1, 2) != 0:
            raise RenderFailed("FluidSynth failed while rendering")

    def _setup(self, channels: Sequence[ChannelPlan], preset: Preset) -> None:
        """Reset the synth (notes, programs, effect tails) and load this piece's instruments and effects."""
        s = self._synth
        s.system_reset()
        r = preset.reverb
        s.set_reverb(r.room, r.damping, r.width, r.level)
        if preset.chorus is not None:
            c = preset.chorus
            s.set_chorus(c.voices, c.level, c.speed_hz, c.depth_ms, 0)
        if self._lib.chorus_on is not None:  # the chorus costs CPU even when no channel sends to it
            self._lib.chorus_on(s.synth, -1, int(preset.chorus is not None))
        self._lib.set_interp(s.synth, -1, self._interp)
        for plan in channels:
            ch, v = plan.channel, plan.voice
            if s.program_select(ch, self._sfid, 128 if plan.is_drum else 0, v.program) != 0:
                raise RenderFailed(f"the SoundFont has no instrument for program {v.program}")
            for cc, value in ((7, v.volume), (10, v.pan), (91, v.reverb), (93, v.chorus)):
                s.cc(ch, cc, value)


def _events(channels: Sequence[ChannelPlan], start_s: float, rate: int) -> tuple[np.ndarray, ...]:
    """Note-on/off events as sample frames from `start_s`, sorted with note-offs first at equal times."""
    rows = [np.column_stack([p.notes, np.full(len(p.notes), p.channel)]) for p in channels if len(p.notes)]
    if not rows:
        return tuple(np.zeros(0) for _ in range(5))
    n = np.concatenate(rows)  # start, end, pitch, velocity, channel
    # A repeated pitch on one channel must end before it starts again, or its note-off cuts the new note.
    order = np.lexsort((n[:, 0], n[:, 2], n[:, 4]))
    n = n[order]
    same = (n[1:, 4] == n[:-1, 4]) & (n[1:, 2] == n[:-1, 2])
    n[:-1, 1] = np.where(same, np.minimum(n[:-1, 1], n[1:, 0]), n[:-1, 1])
    on = np.round((n[:, 0] - start_s) * rate)
    off = np.maximum(np.round((n[:, 1] - start_s) * rate), on + 1)
    times = np.concatenate([on, off])
    kinds = np.concatenate([np.ones(len(n)), np.zeros(len(n))])
    order = np.lexsort((kinds, times))
    chans = np.concatenate([n[:, 4], n[:, 4]])
    pitches = np.concatenate([n[:, 2], n[:, 2]])
    vels = np.concatenate([n[:, 3], np.zeros(len(n))])
    return times[order], kinds[order], chans[order], pitches[order], vels[order]
