"""Form and endings from the notes alone: known-answer pieces for every figure."""

from __future__ import annotations

import numpy as np

from model.notes import Notes
from training.form import form_of, summarise


def piece(events: list[tuple[float, int]], qpb: float = 4.0, duration: float = 1.0) -> Notes:
    """Notes from (onset in quarters, pitch) pairs at 120 bpm."""
    events = sorted(events)
    onset = np.array([e[0] for e in events], dtype=float)
    pitch = np.array([e[1] for e in events], dtype=np.int16)
    return Notes(onset, np.full(len(events), duration), pitch, onset / 2, float(onset.max() / 2 + 0.5), qpb)


PHRASE = [(0.0, 60), (1.0, 62), (2.0, 64), (3.0, 65), (4.0, 67), (6.0, 64)]  # two bars of 4/4


def test_a_returning_two_bar_phrase_is_found_even_transposed() -> None:
    again = PHRASE + [(t + 16.0, p + 5) for t, p in PHRASE] + [(9.0, 71), (12.0, 69)]
    assert form_of(piece(again), 0, 4).repeats_2_bars
    wandering = [(float(i), 60 + (i * 7) % 13) for i in range(32)]
    assert not form_of(piece(wandering), 0, 4).repeats_2_bars


def test_ending_on_the_tonic_reads_the_lowest_note_of_the_final_sonority() -> None:
    ends_c = piece([*PHRASE, (8.0, 72), (8.0, 64), (8.0, 48)])
    assert form_of(ends_c, 0, 4).ends_on_tonic
    assert not form_of(ends_c, 7, 4).ends_on_tonic  # in G major the same ending is not on the tonic


def test_a_thick_final_stab_is_a_pileup_and_a_tripled_pitch_is_flagged() -> None:
    body = [(float(t), p) for t in range(16) for p in (60 + t % 5, 67 + t % 3)]
    stab = [(16.0, p) for p in (48, 55, 60, 60, 60, 64, 67, 72)]
    f = form_of(piece(body + stab), 0, 4)
    assert f.end_pileup and f.tripled_pitch
    plain = form_of(piece(body), 0, 4)
    assert not plain.end_pileup and not plain.tripled_pitch


def test_strong_beats_follow_the_metre() -> None:
    on_strong = piece([(float(t), 60) for t in range(0, 32, 2)])
    assert form_of(on_strong, 0, 4).strong_beat_share == 1.0
    offbeats = piece([(t + 0.5, 60) for t in range(16)])
    assert form_of(offbeats, 0, 4).strong_beat_share == 0.0
    waltz = piece([(float(t), 60) for t in range(12)], qpb=3.0)
    assert abs(form_of(waltz, 0, 3).strong_beat_share - 1 / 3) < 1e-9


def test_a_piece_that_is_one_block_twice_repeats_half_of_itself() -> None:
    block = [(float(t), 60 + t % 7) for t in range(16)]
    twice = piece(block + [(t + 16.0, p) for t, p in block])
    f = form_of(twice, 0, 4)
    assert f.self_repeat_share == 0.5
    summary = summarise([f, form_of(piece(block), 0, 4)])
    assert summary["pieces"] == 2 and summary["self_repeat_over_half"] == 0.0


def test_an_ending_off_the_bar_grid_still_counts() -> None:
    # music21 exports pickup bars unpadded: a real final chord can sit mid-bar on the MIDI grid.
    ends_c_offbeat = piece([*PHRASE, (9.0, 72), (9.0, 64), (9.0, 48)])
    assert form_of(ends_c_offbeat, 0, 4).ends_on_tonic
