"""Settings for turning scores into audio and pictures (the `[render]` table of config.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# FluidSynth interpolation methods by name (fluid_interp enum values).
INTERPOLATION = {"none": 0, "linear": 1, "4th": 4, "7th": 7}

# Discord's default attachment limit (discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES).
DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class ScoreSettings:
    """How sheet music is written (MusicXML) and engraved (verovio SVG, then PNG): `[render.score]`."""

    grid: tuple[int, ...] = (
        4,
        3,
    )  # a beat is cut into sixteenths or triplet eighths; notes snap to the nearer
    treble_from_pitch: float = 63.0  # a part whose mean pitch is E-flat 4 or above gets the treble clef...
    tenor_from_pitch: float = (
        56.0  # ...from A-flat 3 up the tenor's treble-8vb clef, and below that the bass clef
    )
    max_bars: int = 600  # longest score written (300 s of 2/4 at 240 bpm); longer is TooLong
    picture_width: int = 1200  # score.png width in pixels: about four bars a system on a phone
    page_width: int = 1500  # verovio page width (its units, tenths of a millimetre at 100 %)
    page_height: int = 1900  # the first page's height: three to five systems, so the notes stay large
    scale: int = 45  # verovio's zoom in percent; with page_width it sets how large the staves are drawn
    max_title_chars: int = (
        40  # score.png shows this much of the title (verovio does not wrap); MusicXML keeps it all
    )
    validate: bool = True  # re-read the MusicXML with music21 and compare bars and parts before replying

    def __post_init__(self) -> None:
        if not self.grid or any(not 1 <= d <= 16 for d in self.grid):
            raise ValueError("grid must list divisions of a beat between 1 and 16")
        if not self.tenor_from_pitch < self.treble_from_pitch:
            raise ValueError("tenor_from_pitch must be below treble_from_pitch")
        if self.max_bars < 1:
            raise ValueError("max_bars must be at least 1")
        if not 400 <= self.picture_width <= 4000:
            raise ValueError("picture_width must be within 400 .. 4000")
        if not (500 <= self.page_width <= 10000 and 500 <= self.page_height <= 20000):
            raise ValueError("page_width must be within 500 .. 10000 and page_height within 500 .. 20000")
        if self.max_title_chars < 8:
            raise ValueError("max_title_chars must be at least 8")
        if not 10 <= self.scale <= 200:
            raise ValueError("scale must be within 10 .. 200 percent")


@dataclass(frozen=True)
class RenderSettings:
    """How pieces are synthesised, mixed, encoded and drawn, and how many render at once."""

    soundfont: str = (
        "auto"  # "auto" = FluidR3_GM when installed, else pretty_midi's TimGM6mb; "builtin"; or a path
    )
    sample_rate: int = 44100  # Hz; every output is stereo at this rate
    target_lufs: float = -16.0  # integrated loudness (EBU R128 / BS.1770); -16 leaves piano transients room
    true_peak_dbfs: float = -1.0  # ceiling for 4x-oversampled peaks, so MP3 decoding never clips
    max_limiting_db: float = 6.0  # at most this much peak limiting; beyond it the piece is left quieter
    fade_out_s: float = 1.0  # the release tail after the last note, faded out
    trim_threshold_db: float = -60.0  # leading audio below this level is trimmed as silence
    crossfade_s: float = 0.4  # overlap where a user's clip hands over to the continuation
    mp3_bitrate_kbps: int = 192  # CBR; 300 s is 7.2 MB, inside Discord's 10 MiB upload limit
    mp3_quality: int = 7  # LAME quality 0 (slow) .. 9; 7 measured spectrally equal to 2, 3x faster
    ogg_quality: float = 0.6  # Vorbis quality 0..1 when OGG is requested
    max_seconds: float = 300.0  # longest piece we render; longer is TooLong
    max_upload_bytes: int = DISCORD_UPLOAD_LIMIT  # an MP3 above this is re-encoded at a lower bitrate
    interpolation: Literal["none", "linear", "4th", "7th"] = "4th"  # FluidSynth's default; linear: no gain
    polyphony: int = 128  # voices per synth; a four-part piece with reverb tails uses < 40
    dynamic_sample_loading: bool = True  # load only used instruments' samples (FluidR3: 148 MB a synth)
    synth_threads: int = 2  # a piece is split by note onsets across this many synths rendering in parallel
    encode_threads: int = 2  # the MP3 is encoded in this many time slices in parallel
    # Same throughput as threads within this machine's noise; processes keep render work off the bot's GIL.
    pool_kind: Literal["thread", "process"] = "process"
    workers: int = 1  # pieces rendered at once; each already uses synth_threads cores
    nice: int = 5  # render workers run this much nicer than the bot's event loop (0 = same priority)
    queue_limit: int = 32  # pieces waiting for a worker before new requests get Busy (>= bot.max_jobs)
    job_timeout_s: float = 60.0  # a render taking longer than this (once a worker has it) fails: RenderFailed
    picture_width: int = 1200  # piano-roll PNG size in pixels; readable in a phone's Discord embed
    picture_height: int = 500
    score: ScoreSettings = field(default_factory=ScoreSettings)  # sheet music: the [render.score] table

    def __post_init__(self) -> None:
        if self.sample_rate not in (22050, 32000, 44100, 48000):
            raise ValueError("sample_rate must be 22050, 32000, 44100 or 48000")
        if not -40.0 <= self.target_lufs <= -5.0:
            raise ValueError("target_lufs must be between -40 and -5")
        if not -20.0 <= self.true_peak_dbfs <= 0.0:
            raise ValueError("true_peak_dbfs must be between -20 and 0")
        if self.max_limiting_db < 0 or self.fade_out_s < 0 or self.crossfade_s < 0:
            raise ValueError("max_limiting_db, fade_out_s and crossfade_s must not be negative")
        if self.mp3_bitrate_kbps not in (96, 112, 128, 160, 192, 224, 256, 320):
            raise ValueError("mp3_bitrate_kbps must be one of 96, 112, 128, 160, 192, 224, 256, 320")
        if not 0 <= self.mp3_quality <= 9 or not 0.0 <= self.ogg_quality <= 1.0:
            raise ValueError("mp3_quality must be 0..9 and ogg_quality 0..1")
        if self.max_seconds <= 0:
            raise ValueError("max_seconds must be positive")
        # The longest piece must fit Discord's limit at the lowest bitrate we fall back to.
        if (self.max_seconds + self.fade_out_s) * 96_000 / 8 > self.max_upload_bytes:
            raise ValueError("max_seconds is too long to fit max_upload_bytes even at 96 kbps")
        if not 0 <= self.nice <= 19:
            raise ValueError("nice must be between 0 and 19")
        if min(self.polyphony, self.synth_threads, self.encode_threads, self.workers, self.queue_limit) < 1:
            raise ValueError("polyphony, synth_threads, encode_threads, workers and queue_limit must be >= 1")
        if self.job_timeout_s <= 0:
            raise ValueError("job_timeout_s must be positive")
        if not (400 <= self.picture_width <= 4000 and 200 <= self.picture_height <= 2000):
            raise ValueError("picture size must be within 400x200 .. 4000x2000")
