"""Presets: the names users type, the defaults per genre."""

from __future__ import annotations

import pytest

from cadenza.errors import BadInput
from render import GENRE_PRESETS, PRESETS, get_preset, preset_for_genre

ISSUE_PRESETS = ["piano", "strings", "choir", "organ", "harpsichord", "chamber", "folk band", "chiptune"]


def test_every_preset_named_in_the_issue_exists() -> None:
    assert set(ISSUE_PRESETS) <= set(PRESETS)


@pytest.mark.parametrize("typed", ["Folk Band", "folk_band", "folk-band", " folk band "])
def test_preset_names_ignore_case_and_separators(typed: str) -> None:
    assert get_preset(typed).name == "folk band"


def test_unknown_preset_is_bad_input_listing_the_choices() -> None:
    with pytest.raises(BadInput, match="chiptune"):
        get_preset("kazoo")


@pytest.mark.parametrize("genre", ["chorale", "folk", "celtic", "renaissance", "medieval", "classical"])
def test_every_genre_has_a_default_preset(genre: str) -> None:
    assert preset_for_genre(genre).name == GENRE_PRESETS[genre]


@pytest.mark.parametrize("genre", ["jazz", "", None])
def test_unknown_genre_falls_back_to_piano(genre: str | None) -> None:
    assert preset_for_genre(genre).name == "piano"


def test_chiptune_uses_square_leads() -> None:
    assert get_preset("chiptune").melody[0].program == 80
