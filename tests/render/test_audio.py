"""Known-answer tests of the whole audio path: pitch, duration, level, timbre, isolation between renders."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cadenza.errors import BadInput, ConfigError, TooLong
from render import (
    PRESETS,
    Renderer,
    RenderSettings,
    check_soundfont,
    integrated_loudness,
    resolve_soundfont,
    true_peak,
)
from render.presets import Reverb
from render.synth import FLUID_R3, builtin_soundfont
from tests.render.scores import fundamental_hz, one_note, single_track_chorale, spectral_centroid

RATE = 44100


def test_a4_on_the_piano_preset_sounds_at_440_hz(renderer: Renderer) -> None:
    audio, _, _ = renderer.render_audio(one_note(69, 0.0, 2.0), PRESETS["piano"])
    assert fundamental_hz(audio[: RATE * 2], RATE) == pytest.approx(440.0, rel=0.01)


def test_ten_second_score_renders_to_ten_seconds_plus_the_fade(
    renderer: Renderer, settings: RenderSettings
) -> None:
    audio, _, _ = renderer.render_audio(single_track_chorale(seconds=10.0), PRESETS["piano"])
    assert len(audio) / RATE == pytest.approx(10.0 + settings.fade_out_s, abs=0.05)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_audible_on_target_and_never_clips(renderer: Renderer, preset: str) -> None:
    audio, report, _ = renderer.render_audio(single_track_chorale(seconds=6.0), PRESETS[preset])
    assert audio.dtype == np.float32 and audio.shape[1] == 2
    assert integrated_loudness(audio, RATE) > -22.0  # never silent: within the limiter's allowance of -16
    assert 20 * np.log10(true_peak(audio)) <= -1.0 + 1e-3
    assert report.loudness_lufs == pytest.approx(integrated_loudness(audio, RATE), abs=0.3)


def test_presets_differ_in_timbre(renderer: Renderer) -> None:
    score = single_track_chorale(seconds=6.0)
    flute = spectral_centroid(renderer.render_audio(score, PRESETS["chiptune"])[0], RATE)
    organ = spectral_centroid(renderer.render_audio(score, PRESETS["piano"])[0], RATE)
    assert flute > 1.3 * organ


def test_one_render_does_not_leak_into_the_next(renderer: Renderer) -> None:
    renderer.render_audio(single_track_chorale(seconds=4.0), PRESETS["organ"])  # long reverb tail
    audio, _, _ = renderer.render_audio(one_note(60, 3.0, 4.0), PRESETS["piano"])
    # Leading silence is trimmed, so a leaked tail would show up as sound before the note's attack.
    onset = np.flatnonzero(np.abs(audio).max(axis=1) > 1e-3)[0]
    assert onset < 0.02 * RATE


def test_time_slices_sum_to_the_same_music_as_one_synth(settings: RenderSettings) -> None:
    score = single_track_chorale(seconds=8.0)
    # Dry: FluidSynth's reverb and chorus modulate their delay lines, so their phase differs per synth.
    dry = dataclasses.replace(PRESETS["harpsichord"], reverb=Reverb(level=0.0), chorus=None)
    one = Renderer(RenderSettings(soundfont="builtin", synth_threads=1))
    two = Renderer(RenderSettings(soundfont="builtin", synth_threads=2))
    try:
        from render.voicing import arrange

        a = one.synthesize(arrange(score, dry), dry)
        b = two.synthesize(arrange(score, dry), dry)
    finally:
        one.close()
        two.close()
    assert a.shape == b.shape
    error = np.sum((a - b) ** 2) / np.sum(a**2)
    assert error < 1e-4  # -40 dB: the same notes, summed


def test_empty_piece_is_bad_input(renderer: Renderer) -> None:
    import pretty_midi

    with pytest.raises(BadInput):
        renderer.render_audio(pretty_midi.PrettyMIDI(), PRESETS["piano"])


def test_piece_longer_than_the_limit_is_too_long() -> None:
    r = Renderer(RenderSettings(soundfont="builtin", max_seconds=5.0, synth_threads=1, encode_threads=1))
    try:
        with pytest.raises(TooLong):
            r.render_audio(single_track_chorale(seconds=8.0), PRESETS["piano"])
    finally:
        r.close()


def test_missing_soundfont_is_a_config_error_at_start_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="no SoundFont file"):
        check_soundfont(RenderSettings(soundfont=str(tmp_path / "nope.sf2")))


def test_file_that_is_not_a_soundfont_is_a_config_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(100))
    with pytest.raises(ConfigError, match="not a SoundFont"):
        check_soundfont(RenderSettings(soundfont=str(bad)))


def test_auto_prefers_fluidr3_when_installed() -> None:
    expected = FLUID_R3 if FLUID_R3.is_file() else builtin_soundfont()
    assert resolve_soundfont("auto") == expected
    assert builtin_soundfont().name == "TimGM6mb.sf2" and builtin_soundfont().is_file()


def test_settings_reject_a_piece_length_that_cannot_fit_discord() -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        RenderSettings(max_seconds=2000.0)
