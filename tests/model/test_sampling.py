"""Sampling, known answers: temperature, top-k, top-p, the repetition penalty and one stream per row.

The random numbers are counter-based (`uniforms`), so each figure below is the same on every run: a
distribution is checked on many rows at once, each with its own stream, against the exact probabilities.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from model.sampling import Creativity, SamplingParams, sample_rows, stream_key, uniforms

ROWS = 20_000  # rows per distribution check; a frequency's standard error is at most 0.0036
TOLERANCE = 0.015  # four standard errors
KEYS = np.array([stream_key(seed) for seed in range(ROWS)], dtype=np.uint64)  # one stream per row
PLAIN = SamplingParams(temperature=1.0, top_k=0, top_p=1.0, repetition_penalty=1.0)


def frequencies(
    logits: list[float],
    params: SamplingParams,
    recent: list[int] | None = None,
    allowed: list[bool] | None = None,
) -> np.ndarray:
    """How often each token is drawn when ROWS rows with these logits are sampled, one stream each."""
    v = len(logits)
    picks = sample_rows(
        torch.tensor([logits] * ROWS),
        torch.tensor([allowed or [True] * v] * ROWS),
        [params] * ROWS,
        KEYS,
        np.zeros(ROWS, dtype=np.int64),
        [recent or [] for _ in range(ROWS)],
    )
    return np.bincount(picks, minlength=v) / ROWS


def softmax(logits: list[float], temperature: float = 1.0) -> np.ndarray:
    e = np.exp(np.array(logits) / temperature - max(logits) / temperature)
    return e / e.sum()


def test_each_draw_is_the_inverse_cdf_of_its_rows_own_uniform_number() -> None:
    keys = np.array([stream_key(s) for s in range(500)], dtype=np.uint64)
    draws = np.arange(500, dtype=np.int64) % 7
    u = uniforms(keys, draws)
    picks = sample_rows(
        torch.log(torch.tensor([[0.5, 0.3, 0.2]] * 500)),
        torch.ones(500, 3, dtype=torch.bool),
        [PLAIN] * 500,
        keys,
        draws,
        [[] for _ in range(500)],
    )
    expected = np.where(u < 0.5, 0, np.where(u < 0.8, 1, 2))
    assert picks == expected.tolist()


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_temperature_divides_the_logits(temperature: float) -> None:
    logits = [2.0, 1.0, 0.0, -1.0]
    params = SamplingParams(temperature=temperature, top_p=1.0, repetition_penalty=1.0)
    np.testing.assert_allclose(frequencies(logits, params), softmax(logits, temperature), atol=TOLERANCE)


def test_the_lowest_temperature_all_but_always_takes_the_likeliest_token() -> None:
    params = SamplingParams(temperature=0.05, top_p=1.0, repetition_penalty=1.0)
    assert frequencies([1.0, 0.5, 0.0], params)[0] > 0.9999


def test_top_k_keeps_the_k_likeliest_tokens_in_their_proportions() -> None:
    logits = [3.0, 2.0, 1.0, 0.0]
    got = frequencies(logits, SamplingParams(top_k=2, top_p=1.0, repetition_penalty=1.0))
    p = softmax(logits)[:2]
    np.testing.assert_allclose(got, [*(p / p.sum()), 0.0, 0.0], atol=TOLERANCE)


@pytest.mark.parametrize(
    ("top_p", "kept"),
    [(0.4, 1), (0.7, 2), (0.85, 3), (1.0, 4)],  # the smallest set whose mass reaches top_p
)
def test_top_p_keeps_the_smallest_set_holding_that_much_probability(top_p: float, kept: int) -> None:
    probs = [0.5, 0.3, 0.15, 0.05]
    got = frequencies(list(np.log(probs)), SamplingParams(top_p=top_p, repetition_penalty=1.0))
    expected = np.array(probs[:kept] + [0.0] * (4 - kept))
    np.testing.assert_allclose(got, expected / expected.sum(), atol=TOLERANCE)


def test_a_nucleus_wider_than_the_first_candidates_reaches_every_token() -> None:
    got = frequencies([0.0] * 200, SamplingParams(top_p=0.99, repetition_penalty=1.0))
    assert np.count_nonzero(got) >= 197  # 99 % of 200 equal tokens, not only the 64 ranked first
    assert got.max() < 3 / 200


@pytest.mark.parametrize("logit", [2.0, -1.0])  # positive logits are divided, negative ones multiplied
def test_repetition_penalty_lowers_recent_pitches_only(logit: float) -> None:
    params = SamplingParams(top_p=1.0, repetition_penalty=2.0)
    got = frequencies([logit, logit], params, recent=[0])
    penalised = logit / 2.0 if logit > 0 else logit * 2.0
    p0 = math.exp(penalised) / (math.exp(penalised) + math.exp(logit))
    np.testing.assert_allclose(got, [p0, 1 - p0], atol=TOLERANCE)


def test_repetition_penalty_forgets_pitches_older_than_its_window() -> None:
    params = SamplingParams(top_p=1.0, repetition_penalty=2.0, repetition_window=3)
    got = frequencies([1.0, 1.0], params, recent=[0, 1, 1, 1])  # token 0 is four notes back
    p1 = math.exp(0.5) / (math.exp(0.5) + math.exp(1.0))
    np.testing.assert_allclose(got, [1 - p1, p1], atol=TOLERANCE)


def test_a_masked_token_is_never_drawn_however_likely() -> None:
    got = frequencies([10.0, 0.0, 0.0], PLAIN, allowed=[False, True, True])
    assert got[0] == 0.0
    np.testing.assert_allclose(got, [0.0, 0.5, 0.5], atol=TOLERANCE)


def test_a_rows_draws_depend_only_on_its_own_seed_and_count() -> None:
    key = stream_key(42)
    alone = uniforms(np.array([key], dtype=np.uint64), np.array([5]))[0]
    crowd_keys = np.array([stream_key(s) for s in range(10)] + [key], dtype=np.uint64)
    crowd = uniforms(crowd_keys, np.array([0] * 10 + [5]))
    assert crowd[-1] == alone
    assert uniforms(np.array([key], dtype=np.uint64), np.array([6]))[0] != alone  # the next draw differs
    assert stream_key(42) != stream_key(43)


def test_a_rows_token_is_the_same_whatever_shares_the_batch() -> None:
    logits = torch.randn(9, 50, generator=torch.Generator().manual_seed(3))
    params = [PLAIN, Creativity.SAFE.params, Creativity.ADVENTUROUS.params] * 3
    keys = np.array([stream_key(s) for s in range(9)], dtype=np.uint64)
    draws = np.arange(9, dtype=np.int64)
    recent = [[i, i + 1] for i in range(9)]
    together = sample_rows(logits, torch.ones(9, 50, dtype=torch.bool), params, keys, draws, recent)
    for i in range(9):
        one = sample_rows(
            logits[i : i + 1],
            torch.ones(1, 50, dtype=torch.bool),
            [params[i]],
            keys[i : i + 1],
            draws[i : i + 1],
            [recent[i]],
        )
        assert one == [together[i]]


def test_uniform_numbers_are_uniform_in_the_unit_interval() -> None:
    u = uniforms(np.full(ROWS, stream_key(7), dtype=np.uint64), np.arange(ROWS))
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.histogram(u, bins=10, range=(0.0, 1.0))[0] / ROWS
    np.testing.assert_allclose(counts, 0.1, atol=TOLERANCE)


def test_creativity_presets_grow_bolder_in_order() -> None:
    safe, balanced, bold = (c.params for c in Creativity)
    assert safe.temperature < balanced.temperature < bold.temperature
    assert safe.top_p < balanced.top_p < bold.top_p


@pytest.mark.parametrize(
    "bad",
    [{"temperature": 0.0}, {"temperature": 4.0}, {"top_p": 0.0}, {"top_k": -1}, {"repetition_penalty": 0.9}],
)
def test_sampling_params_refuse_values_out_of_range(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SamplingParams(**bad)  # type: ignore[arg-type]
