"""Scores to sound and pictures: FluidSynth synthesis, mixing, MP3/WAV/OGG, piano-roll PNG.

Public API (the bot uses only these):
- `RenderSettings`: the `[render]` config table.
- `check_soundfont(settings)`: call at start-up; ConfigError names a missing or broken SoundFont.
- `RenderPool(settings)`: `await pool.start()`, `await pool.render(RenderJob(...)) -> RenderedPiece`, `await pool.close()`.
- `PRESETS`, `GENRE_PRESETS`, `get_preset(name)`, `preset_for_genre(genre)`: the sounds users choose.
- `Renderer`, `render_audio`, `encode_mp3`, `piano_roll_png`, `crossfade_join`: the steps, for tools and tests.
"""

from render.encode import Tags, encode_mp3, encode_ogg, encode_wav
from render.mixing import crossfade_join, integrated_loudness, true_peak
from render.pianoroll import RollInfo, piano_roll_png
from render.piece import RenderedPiece, Renderer, RenderJob, midi_from_bytes, render_audio, resolve_preset
from render.pool import RenderPool
from render.presets import GENRE_PRESETS, PRESETS, Preset, Role, Voice, get_preset, preset_for_genre
from render.settings import RenderSettings
from render.synth import check_soundfont, resolve_soundfont
from render.voicing import Arrangement, Part, arrange, split_skyline

__all__ = [
    "GENRE_PRESETS",
    "PRESETS",
    "Arrangement",
    "Part",
    "Preset",
    "RenderJob",
    "RenderPool",
    "RenderSettings",
    "RenderedPiece",
    "Renderer",
    "Role",
    "RollInfo",
    "Tags",
    "Voice",
    "arrange",
    "check_soundfont",
    "crossfade_join",
    "encode_mp3",
    "encode_ogg",
    "encode_wav",
    "get_preset",
    "integrated_loudness",
    "midi_from_bytes",
    "piano_roll_png",
    "preset_for_genre",
    "render_audio",
    "resolve_preset",
    "resolve_soundfont",
    "split_skyline",
    "true_peak",
]
