"""From a score to finished files: voice, synthesise (in parallel time slices), master, encode, draw.

A `Renderer` owns its synthesisers (one per time slice) and a few helper threads; it renders one
piece at a time. Time slicing is exact because synthesis is linear: each synth plays the notes that
start in its slice (tails and all) and the slices are summed; FluidSynth releases the GIL, so the
slices run on separate cores.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pretty_midi
import symusic

from cadenza.errors import BadInput, CadenzaError, RenderFailed, TooLong
from cadenza.theory import estimate_key, pitch_class_histogram
from render.encode import Tags, encode_mp3, encode_ogg, encode_wav
from render.mixing import MixReport, crossfade_join, fade_out, master, to_stereo, trim_start
from render.pianoroll import RollInfo, piano_roll_png
from render.presets import Preset, get_preset, preset_for_genre
from render.settings import RenderSettings
from render.sheet import ScoreFiles, ScoreSpec, engrave
from render.synth import BLOCK, Synthesizer, check_soundfont
from render.voicing import Arrangement, ChannelPlan, arrange

log = logging.getLogger(__name__)

AudioFormat = Literal["mp3", "wav", "ogg"]
FALLBACK_BITRATES = (160, 128, 112, 96)  # tried in turn when an MP3 would exceed the upload limit


@dataclass(frozen=True)
class RenderJob:
    """One piece to render, with what the picture and tags say about it."""

    midi: pretty_midi.PrettyMIDI
    title: str = "Cadenza piece"
    genre: str | None = None
    preset: str | None = None  # a preset name; None = the genre's default
    seed: int | None = None
    key: str | None = None  # shown on the picture; None = estimated from the notes
    audio_format: AudioFormat = "mp3"
    primer_end_s: float | None = None  # where the user's own material ends (continuations)
    user_tracks: frozenset[int] = frozenset()  # instrument indices that are the user's
    clip: np.ndarray | None = field(
        default=None, repr=False
    )  # the user's recording, joined before primer_end_s
    clip_rate: int = 44100
    rewritten_bars: tuple[int, int] | None = (
        None  # bars (from 1, inclusive) the model wrote anew: shaded on the roll
    )
    sheet: bool = False  # also write sheet music and a clean MIDI file (RenderedPiece.sheet)


@dataclass(frozen=True)
class RenderedPiece:
    """The finished files and what mastering measured."""

    audio: bytes
    audio_format: AudioFormat
    png: bytes
    duration_s: float
    loudness_lufs: float
    true_peak_dbfs: float
    preset: str
    bitrate_kbps: int | None  # MP3 only
    timings: dict[str, float] = field(
        default_factory=dict
    )  # seconds per stage: synth, mix, encode, picture, sheet (engraved beside the sound), sheet_wait
    sheet: ScoreFiles | None = (
        None  # piece.musicxml, score.png, piece.mid if asked for (None: cannot be written)
    )

    @property
    def filename_extension(self) -> str:
        """'mp3', 'wav' or 'ogg'."""
        return self.audio_format


def midi_from_bytes(data: bytes) -> pretty_midi.PrettyMIDI:
    """Parse MIDI file bytes; BadInput when they are not a readable MIDI file."""
    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as e:  # mido raises a zoo of errors (OSError, EOFError, KeySignatureError...)
        raise BadInput("that file is not a readable MIDI file") from e


def resolve_preset(name: str | None, genre: str | None) -> Preset:
    """The named preset, or the genre's default when no name is given."""
    return get_preset(name) if name else preset_for_genre(genre)


class Renderer:
    """Synthesisers and helper threads for rendering pieces, one piece at a time."""

    def __init__(self, settings: RenderSettings, soundfont: Path | None = None) -> None:
        self.settings = settings
        self.soundfont = soundfont or check_soundfont(settings)
        self._synths = [Synthesizer(self.soundfont, settings) for _ in range(settings.synth_threads)]
        helpers = max(settings.synth_threads, settings.encode_threads) - 1
        self._helpers = ThreadPoolExecutor(helpers, thread_name_prefix="render-slice") if helpers else None
        # Sheet music is engraved beside the sound: music21 and the engraver run while FluidSynth and
        # the encoder (C code that lets go of the GIL) work, so a reply waits for the slower of the two.
        self._engraver = ThreadPoolExecutor(1, thread_name_prefix="render-sheet")

    def close(self) -> None:
        """Stop the helper threads and free the synthesisers."""
        if self._helpers is not None:
            self._helpers.shutdown(wait=True)
        self._engraver.shutdown(wait=True)
        for synth in self._synths:
            synth.close()

    def synthesize(self, arrangement: Arrangement, preset: Preset) -> np.ndarray:
        """Dry stereo float audio of an arrangement, the release tail included: (frames, 2)."""
        rate = self.settings.sample_rate
        tail = max(self.settings.fade_out_s, 0.25)
        total = int(np.ceil((arrangement.end_s + tail) * rate))
        slices = _time_slices(arrangement.channels, len(self._synths))
        jobs = []
        for synth, (onset, plans) in zip(self._synths, slices, strict=False):
            start = (int(onset * rate) // BLOCK) * BLOCK / rate  # on a synth block, as one synth would be
            end = max(float(p.notes[:, 1].max()) for p in plans if len(p.notes))
            frames = min(int(np.ceil((end + tail - start) * rate)), total - round(start * rate))
            jobs.append((synth, start, plans, frames))
        futures = (
            [self._helpers.submit(s.render, c, preset, t, n) for s, t, c, n in jobs[1:]]
            if self._helpers
            else []
        )
        rendered = [jobs[0][0].render(jobs[0][2], preset, jobs[0][1], jobs[0][3])]
        if not self._helpers:
            rendered += [s.render(c, preset, t, n) for s, t, c, n in jobs[1:]]
        rendered += [f.result() for f in futures]
        out = np.zeros((total, 2), dtype=np.float32)
        for (_, start, _, _), audio in zip(jobs, rendered, strict=True):
            offset = round(start * rate)
            out[offset : offset + len(audio)] += audio[: total - offset]
        return out

    def render_audio(
        self,
        midi: pretty_midi.PrettyMIDI,
        preset: Preset,
        user_tracks: Collection[int] = (),
        clip: tuple[np.ndarray, int] | None = None,
        primer_end_s: float | None = None,
        timings: dict[str, float] | None = None,
    ) -> tuple[np.ndarray, MixReport, Arrangement]:
        """Mastered stereo float audio of `midi` with `preset`; a `clip` (audio, rate) is joined before `primer_end_s`."""
        timings = {} if timings is None else timings
        s = self.settings
        arrangement = arrange(midi, preset, user_tracks)
        if not arrangement.channels:
            raise BadInput("the piece has no notes to play")
        if arrangement.end_s > s.max_seconds:
            raise TooLong(f"the piece lasts {arrangement.end_s:.0f} s; the limit is {s.max_seconds:.0f} s")
        t0 = time.perf_counter()
        audio = self.synthesize(arrangement, preset)
        t1 = time.perf_counter()
        if clip is not None and primer_end_s:
            user = to_stereo(clip[0], clip[1], s.sample_rate)
            audio = crossfade_join(
                user,
                audio,
                int(primer_end_s * s.sample_rate),
                int(s.crossfade_s * s.sample_rate),
                s.sample_rate,
            )
        audio = trim_start(audio, s.trim_threshold_db, s.sample_rate)
        audio, report = master(audio, s.sample_rate, s.target_lufs, s.true_peak_dbfs, s.max_limiting_db)
        audio = fade_out(audio, s.fade_out_s, s.sample_rate)
        timings.update(synth=t1 - t0, mix=time.perf_counter() - t1)
        return audio, report, arrangement

    def encode(self, audio: np.ndarray, audio_format: AudioFormat, tags: Tags) -> tuple[bytes, int | None]:
        """Encoded bytes (and the MP3 bitrate): MP3 falls back to lower bitrates to fit the upload limit."""
        s = self.settings
        if audio_format == "wav":
            return encode_wav(audio, s.sample_rate), None
        if audio_format == "ogg":
            return encode_ogg(audio, s.sample_rate, s.ogg_quality), None
        for kbps in (s.mp3_bitrate_kbps, *(b for b in FALLBACK_BITRATES if b < s.mp3_bitrate_kbps)):
            data = encode_mp3(
                audio, s.sample_rate, tags, kbps, s.mp3_quality, s.encode_threads, self._helpers
            )
            if len(data) <= s.max_upload_bytes:
                return data, kbps
        raise RenderFailed("the MP3 is too large to upload even at a low bitrate")

    def render(self, job: RenderJob) -> RenderedPiece:
        """Render a job to finished files."""
        timings: dict[str, float] = {}
        preset = resolve_preset(job.preset, job.genre)
        clip = (job.clip, job.clip_rate) if job.clip is not None else None
        engraving = self._engraver.submit(self._timed_sheet, job) if job.sheet else None
        try:
            audio, report, arrangement = self.render_audio(
                job.midi, preset, job.user_tracks, clip, job.primer_end_s, timings
            )
        except BaseException:
            if engraving is not None:
                engraving.cancel()
            raise
        t0 = time.perf_counter()
        comment = f"seed {job.seed}" if job.seed is not None else ""
        tags = Tags(title=job.title, genre=job.genre or "", comment=comment)
        data, kbps = self.encode(audio, job.audio_format, tags)
        t1 = time.perf_counter()
        info = RollInfo(
            job.title,
            job.genre or "",
            job.key or _key_name(arrangement),
            _tempo(job.midi),
            job.seed,
            job.primer_end_s,
            job.rewritten_bars,
        )
        png = piano_roll_png(
            job.midi, arrangement.parts, info, (self.settings.picture_width, self.settings.picture_height)
        )
        t2 = time.perf_counter()
        sheet, sheet_s = engraving.result() if engraving is not None else (None, 0.0)
        # sheet: engraving's own time (beside the sound); sheet_wait: what the reply waited for it after
        timings.update(encode=t1 - t0, picture=t2 - t1, sheet=sheet_s, sheet_wait=time.perf_counter() - t2)
        return RenderedPiece(
            data, job.audio_format, png, len(audio) / self.settings.sample_rate, report.loudness_lufs,
            report.true_peak_dbfs, preset.name, kbps, timings, sheet,
        )  # fmt: skip

    def sheet(self, job: RenderJob) -> ScoreFiles:
        """Sheet music and a clean MIDI file of the job's piece, with the job's title, sound and key."""
        buf = io.BytesIO()
        job.midi.write(buf)
        # symusic keeps only tracks with notes: the member's instrument indices, counted among those.
        sounding = [i for i, inst in enumerate(job.midi.instruments) if inst.notes]
        yours = frozenset(sounding.index(i) for i in job.user_tracks if i in sounding)
        spec = ScoreSpec(
            job.title, job.genre, job.preset, job.key, highlight_bars=job.rewritten_bars, yours=yours
        )
        return engrave(symusic.Score.from_midi(buf.getvalue()), spec, self.settings.score)

    def _timed_sheet(self, job: RenderJob) -> tuple[ScoreFiles | None, float]:
        t = time.perf_counter()
        return self.sheet_or_none(job), time.perf_counter() - t

    def sheet_or_none(self, job: RenderJob) -> ScoreFiles | None:
        """`sheet(job)`, or None when the piece cannot be written down: the member still gets the sound."""
        try:
            return self.sheet(job)
        except CadenzaError as e:  # drums only, too many bars: expected, said in the log
            log.info("no sheet music for %r: %s", job.title, e)
        except Exception:  # a notation bug must not cost the member the MP3 and piano roll
            log.exception("sheet music failed for %r", job.title)
        return None


def _time_slices(channels: Sequence[ChannelPlan], count: int) -> list[tuple[float, list[ChannelPlan]]]:
    """Split the notes by onset into `count` slices of about equal sounding time: (start_s, plans)."""
    notes = np.concatenate([p.notes for p in channels])
    notes = notes[np.argsort(notes[:, 0], kind="stable")]
    share = np.cumsum(notes[:, 1] - notes[:, 0])
    share /= max(float(share[-1]), 1e-9)
    picks = [int(np.searchsorted(share, k / count)) for k in range(1, count)]
    cuts = sorted({0.0, *(float(notes[min(i, len(notes) - 1), 0]) for i in picks)})
    out = []
    for k, lo in enumerate(cuts):
        hi = cuts[k + 1] if k + 1 < len(cuts) else np.inf
        plans = [replace(p, notes=p.notes[(p.notes[:, 0] >= lo) & (p.notes[:, 0] < hi)]) for p in channels]
        if any(len(p.notes) for p in plans):
            out.append((lo, plans))
    return out


def _key_name(arrangement: Arrangement) -> str:
    notes = np.concatenate(
        [p.notes for p in arrangement.parts if p.role.value != "drums"] or [np.zeros((0, 4))]
    )
    if not len(notes):
        return ""
    return estimate_key(pitch_class_histogram(notes[:, 2], notes[:, 1] - notes[:, 0])).name


def _tempo(midi: pretty_midi.PrettyMIDI) -> float | None:
    _, tempi = midi.get_tempo_changes()
    return float(tempi[0]) if len(tempi) else None


def render_audio(
    midi: pretty_midi.PrettyMIDI, preset: str | Preset = "piano", settings: RenderSettings | None = None
) -> np.ndarray:
    """One-off convenience: mastered (frames, 2) float32 audio of `midi` (loads a SoundFont each call)."""
    renderer = Renderer(settings or RenderSettings())
    try:
        chosen = preset if isinstance(preset, Preset) else get_preset(preset)
        return renderer.render_audio(midi, chosen)[0]
    finally:
        renderer.close()
