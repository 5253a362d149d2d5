"""Scores to sound and pictures: FluidSynth synthesis, mixing, MP3/WAV/OGG, piano-roll PNG, sheet music.

Public API (the bot uses only these):
- `RenderSettings`: the `[render]` config table.
- `check_soundfont(settings)`: call at start-up; ConfigError names a missing or broken SoundFont.
- `RenderPool(settings)`: `await pool.start()`, `await pool.render(RenderJob(...)) -> RenderedPiece`, `await pool.close()`.
- `PRESETS`, `GENRE_PRESETS`, `get_preset(name)`, `preset_for_genre(genre)`: the sounds users choose.
- `engrave(score, ScoreSpec(...), settings.score) -> ScoreFiles`: piece.musicxml, score.png, piece.mid of a
  symusic Score (or `RenderJob(sheet=True)` through the pool: `RenderedPiece.sheet`, None when the piece
  cannot be written down); `ScoreFiles.save(folder)`; `score_musicxml`, `score_midi` for one file.
- `Renderer`, `render_audio`, `encode_mp3`, `piano_roll_png`, `crossfade_join`: the steps, for tools and tests.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from render.encode import Tags, encode_mp3, encode_ogg, encode_wav
    from render.mixing import crossfade_join, integrated_loudness, true_peak
    from render.pianoroll import RollInfo, piano_roll_png
    from render.piece import RenderedPiece, Renderer, RenderJob, midi_from_bytes, render_audio, resolve_preset
    from render.pool import RenderPool
    from render.presets import GENRE_PRESETS, PRESETS, Preset, Role, Voice, get_preset, preset_for_genre
    from render.settings import RenderSettings, ScoreSettings
    from render.sheet import ScoreFiles, ScoreSpec, engrave, score_midi, score_musicxml
    from render.synth import check_soundfont, resolve_soundfont
    from render.voicing import Arrangement, Part, arrange, split_skyline

# Names load their module on first use: reading config (render.settings) must not pull in scipy,
# pydub and FluidSynth for every `cadenza` command.
_LAZY = {
    "Tags": "render.encode",
    "encode_mp3": "render.encode",
    "encode_ogg": "render.encode",
    "encode_wav": "render.encode",
    "crossfade_join": "render.mixing",
    "integrated_loudness": "render.mixing",
    "true_peak": "render.mixing",
    "RollInfo": "render.pianoroll",
    "piano_roll_png": "render.pianoroll",
    "RenderedPiece": "render.piece",
    "Renderer": "render.piece",
    "RenderJob": "render.piece",
    "midi_from_bytes": "render.piece",
    "render_audio": "render.piece",
    "resolve_preset": "render.piece",
    "RenderPool": "render.pool",
    "GENRE_PRESETS": "render.presets",
    "PRESETS": "render.presets",
    "Preset": "render.presets",
    "Role": "render.presets",
    "Voice": "render.presets",
    "get_preset": "render.presets",
    "preset_for_genre": "render.presets",
    "RenderSettings": "render.settings",
    "ScoreSettings": "render.settings",
    "ScoreFiles": "render.sheet",
    "ScoreSpec": "render.sheet",
    "engrave": "render.sheet",
    "score_midi": "render.sheet",
    "score_musicxml": "render.sheet",
    "check_soundfont": "render.synth",
    "resolve_soundfont": "render.synth",
    "Arrangement": "render.voicing",
    "Part": "render.voicing",
    "arrange": "render.voicing",
    "split_skyline": "render.voicing",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'render' has no attribute {name!r}")


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
    "ScoreFiles",
    "ScoreSettings",
    "ScoreSpec",
    "Tags",
    "Voice",
    "arrange",
    "check_soundfont",
    "crossfade_join",
    "encode_mp3",
    "encode_ogg",
    "encode_wav",
    "engrave",
    "get_preset",
    "integrated_loudness",
    "midi_from_bytes",
    "piano_roll_png",
    "preset_for_genre",
    "render_audio",
    "resolve_preset",
    "resolve_soundfont",
    "score_midi",
    "score_musicxml",
    "split_skyline",
    "true_peak",
]
