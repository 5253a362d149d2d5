"""Mastering maths with known answers: loudness, true peak, limiting, fades, trimming, crossfades."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from render.mixing import (
    crossfade_join,
    fade_out,
    integrated_loudness,
    limit,
    master,
    to_stereo,
    trim_start,
    true_peak,
)

RATE = 44100


def _sine(freq: float, seconds: float, amp: float = 1.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def test_full_scale_997hz_sine_in_both_channels_is_0_lufs() -> None:
    x = _sine(997, 5.0)
    assert integrated_loudness(np.c_[x, x], RATE) == pytest.approx(0.0, abs=0.05)
    assert integrated_loudness(x[:, None], RATE) == pytest.approx(-3.01, abs=0.05)


def test_loudness_agrees_with_pyloudnorm_on_noise() -> None:
    noise = np.random.default_rng(0).standard_normal((RATE * 5, 2)).astype(np.float32) * 0.1
    ours = integrated_loudness(noise, RATE)
    theirs = pyloudnorm.Meter(RATE).integrated_loudness(noise.astype(np.float64))
    assert ours == pytest.approx(theirs, abs=0.2)


def test_silence_measures_as_the_absolute_gate() -> None:
    assert integrated_loudness(np.zeros((RATE, 2), np.float32), RATE) == -70.0


def test_true_peak_finds_the_peak_between_samples() -> None:
    # fs/4 sine at 45 degrees: every sample is at 0.707, the waveform peaks at 1.0 between them.
    x = _sine(RATE / 4, 1.0, phase=np.pi / 4)
    assert np.abs(x).max() == pytest.approx(0.7071, abs=1e-3)
    assert true_peak(np.c_[x, x]) == pytest.approx(1.0, abs=0.02)


def test_limiter_keeps_every_sample_under_the_ceiling() -> None:
    x = np.c_[_sine(220, 1.0, 0.5), _sine(220, 1.0, 0.5)]
    x[RATE // 2 : RATE // 2 + 100] *= 3.0  # a burst 10 dB over
    out, gain = limit(x, 0.6, RATE)
    assert gain is not None
    assert np.abs(out).max() <= 0.6 + 1e-6
    assert -20 * np.log10(gain.min()) > 6.0
    assert np.abs(out[: RATE // 4]).max() == pytest.approx(0.5, abs=1e-3)  # far from the burst: untouched


@pytest.mark.parametrize("amp", [0.01, 0.3, 0.99])
def test_master_reaches_the_target_without_exceeding_the_ceiling(amp: float) -> None:
    rng = np.random.default_rng(1)
    x = (
        np.c_[_sine(330, 4.0, amp), _sine(440, 4.0, amp)]
        + rng.standard_normal((4 * RATE, 2)).astype(np.float32) * amp * 0.05
    )
    out, report = master(x.astype(np.float32), RATE, -16.0, -1.0, 6.0)
    assert integrated_loudness(out, RATE) == pytest.approx(-16.0, abs=0.5)
    assert 20 * np.log10(true_peak(out)) <= -1.0 + 1e-3
    assert report.true_peak_dbfs <= -1.0


def test_master_leaves_very_spiky_audio_quieter_rather_than_crushing_it() -> None:
    x = np.zeros((4 * RATE, 2), np.float32)
    x[:: RATE // 2] = 1.0  # isolated clicks: reaching -16 LUFS would need >40 dB of limiting
    _out, report = master(x, RATE, -16.0, -1.0, 6.0)
    assert report.limited_db <= 6.0 + 1e-3
    assert report.loudness_lufs < -20.0


def test_fade_out_ends_in_silence_and_keeps_the_start() -> None:
    x = np.ones((RATE * 2, 2), np.float32)
    out = fade_out(x, 1.0, RATE)
    assert out[-1].max() == pytest.approx(0.0, abs=1e-6)
    assert out[:RATE].min() == 1.0


def test_trim_start_drops_leading_silence() -> None:
    x = np.concatenate([np.zeros((RATE, 2), np.float32), np.full((RATE, 2), 0.5, np.float32)])
    out = trim_start(x, -60.0, RATE)
    assert len(out) == pytest.approx(RATE + 0.01 * RATE, abs=2)


def test_mono_clip_at_another_rate_becomes_stereo_at_ours() -> None:
    clip = _sine(440, 1.0)[::2]  # 22050 Hz mono
    out = to_stereo(clip, 22050, RATE)
    assert out.shape == (RATE, 2)


def test_crossfade_hands_over_from_clip_to_rendered_audio() -> None:
    clip = np.c_[_sine(440, 3.0, 0.1), _sine(440, 3.0, 0.1)]
    rendered = np.c_[_sine(440, 5.0, 0.4), _sine(440, 5.0, 0.4)]
    out = crossfade_join(clip, rendered, at_frame=2 * RATE, fade_frames=RATE // 2, rate=RATE)
    assert out.shape == rendered.shape
    np.testing.assert_allclose(out[3 * RATE :], rendered[3 * RATE :])
    # The clip was matched in loudness to the rendered audio, so the level does not jump.
    before, after = np.abs(out[RATE : RATE + 4410]).max(), np.abs(out[3 * RATE : 3 * RATE + 4410]).max()
    assert before == pytest.approx(after, rel=0.05)
