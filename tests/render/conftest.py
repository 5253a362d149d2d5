"""Render fixtures: settings on the SoundFont shipped with pretty_midi (always present, small), one shared Renderer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from render import Renderer, RenderSettings


@pytest.fixture(scope="session")
def settings() -> RenderSettings:
    """Default settings on the built-in SoundFont, so results do not depend on what apt installed."""
    return RenderSettings(soundfont="builtin")


@pytest.fixture(scope="session")
def renderer(settings: RenderSettings) -> Iterator[Renderer]:
    """One Renderer (synths loaded once) for the whole session."""
    r = Renderer(settings)
    yield r
    r.close()
