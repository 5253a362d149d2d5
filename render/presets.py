"""Sound presets: which General MIDI instruments play which part of a piece, with what effects.

A piece is voiced into roles (melody on top, inner voices, bass; drums stay drums). A preset gives
each role one or more instruments (several = doubling) plus a balance that keeps the melody on top:
melody notes are louder, inner voices quieter and panned apart so nothing masks the tune.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cadenza.errors import BadInput


class Role(enum.Enum):
    """What a part does in the texture, from the top down."""

    MELODY = "melody"
    INNER = "inner"
    BASS = "bass"
    DRUMS = "drums"


@dataclass(frozen=True)
class Voice:
    """One General MIDI instrument playing a role, with its mixer settings (MIDI controller values)."""

    program: int  # General MIDI program, 0-based (0 = Acoustic Grand Piano)
    volume: int = 100  # CC7: balances instruments of different loudness in the SoundFont
    pan: int = 64  # CC10: 0 = left, 64 = centre, 127 = right
    reverb: int = 40  # CC91: send to the reverb
    chorus: int = 0  # CC93: send to the chorus

    def __post_init__(self) -> None:
        for name in ("program", "volume", "pan", "reverb", "chorus"):
            if not 0 <= getattr(self, name) <= 127:
                raise ValueError(f"{name} must be 0..127")


@dataclass(frozen=True)
class Reverb:
    """FluidSynth reverb (Freeverb) parameters."""

    room: float = 0.5
    damping: float = 0.3
    width: float = 0.8
    level: float = 0.5


@dataclass(frozen=True)
class Chorus:
    """FluidSynth chorus parameters; None on a preset switches the chorus off (it costs CPU)."""

    voices: int = 3
    level: float = 1.2
    speed_hz: float = 0.3
    depth_ms: float = 8.0


@dataclass(frozen=True)
class Preset:
    """A named sound: instruments per role, velocities per role, and effects."""

    name: str
    description: str
    melody: tuple[Voice, ...]
    inner: tuple[Voice, ...]  # several inner voices take these in turn, lowest voice first
    bass: tuple[Voice, ...]
    velocity: dict[Role, int] = field(
        default_factory=lambda: {Role.MELODY: 100, Role.INNER: 66, Role.BASS: 80, Role.DRUMS: 80}
    )
    reverb: Reverb = Reverb()
    chorus: Chorus | None = None

    def voices(self, role: Role) -> tuple[Voice, ...]:
        """The instruments that play `role` (drums use the GM kit on channel 10)."""
        if role is Role.DRUMS:
            return (Voice(0, volume=90, reverb=20),)
        return {Role.MELODY: self.melody, Role.INNER: self.inner, Role.BASS: self.bass}[role]


def _all(program: int, melody: int = 110, inner: int = 84, bass: int = 96, reverb: int = 40) -> dict:
    """One instrument for every role, balanced by channel volume (for organ-like sounds without velocity)."""
    return {
        "melody": (Voice(program, volume=melody, pan=70, reverb=reverb),),
        "inner": (
            Voice(program, volume=inner, pan=50, reverb=reverb),
            Voice(program, volume=inner, pan=80, reverb=reverb),
        ),
        "bass": (Voice(program, volume=bass, pan=58, reverb=reverb),),
    }


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("piano", "grand piano", **_all(0, reverb=45), reverb=Reverb(0.55, 0.3, 0.8, 0.5)),
        Preset(
            "strings",
            "violin lead, string ensemble, cello",
            melody=(Voice(40, volume=112, pan=72, reverb=50, chorus=20),),
            inner=(
                Voice(48, volume=78, pan=44, reverb=55, chorus=30),
                Voice(48, volume=78, pan=84, reverb=55, chorus=30),
            ),
            bass=(Voice(42, volume=98, pan=60, reverb=50),),
            reverb=Reverb(0.7, 0.2, 0.9, 0.6),
            chorus=Chorus(),
        ),
        Preset(
            "choir",
            "choir aahs with voice oohs",
            melody=(Voice(52, volume=112, pan=66, reverb=60, chorus=20),),
            inner=(
                Voice(53, volume=82, pan=46, reverb=60, chorus=25),
                Voice(53, volume=82, pan=82, reverb=60, chorus=25),
            ),
            bass=(Voice(52, volume=96, pan=58, reverb=60),),
            reverb=Reverb(0.8, 0.2, 1.0, 0.7),
            chorus=Chorus(),
        ),
        Preset(
            "organ",
            "church organ",
            **_all(19, melody=112, inner=78, bass=100, reverb=70),
            reverb=Reverb(0.9, 0.1, 1.0, 0.75),
        ),
        Preset("harpsichord", "harpsichord", **_all(6, reverb=35), reverb=Reverb(0.4, 0.4, 0.6, 0.4)),
        Preset(
            "chamber",
            "flute lead, clarinet and viola, cello",
            melody=(Voice(73, volume=110, pan=70, reverb=45),),
            inner=(Voice(71, volume=80, pan=40), Voice(41, volume=84, pan=88)),
            bass=(Voice(42, volume=100, pan=56),),
            reverb=Reverb(0.6, 0.3, 0.8, 0.5),
        ),
        Preset(
            "folk band",
            "fiddle doubled by a tin whistle, guitar, acoustic bass",
            melody=(Voice(110, volume=110, pan=52, reverb=35), Voice(78, volume=64, pan=84, reverb=35)),
            inner=(Voice(25, volume=88, pan=34, reverb=30),),
            bass=(Voice(32, volume=100, pan=64, reverb=20),),
            reverb=Reverb(0.4, 0.5, 0.7, 0.35),
        ),
        Preset(
            "chiptune",
            "square leads over a soft triangle-like bass",
            melody=(Voice(80, volume=96, pan=64, reverb=12),),
            inner=(Voice(80, volume=58, pan=40, reverb=10), Voice(80, volume=58, pan=88, reverb=10)),
            bass=(
                Voice(82, volume=110, pan=64, reverb=8),
            ),  # GM has no triangle wave: calliope is the closest
            velocity={Role.MELODY: 100, Role.INNER: 70, Role.BASS: 90, Role.DRUMS: 80},
            reverb=Reverb(0.2, 0.5, 0.5, 0.15),
        ),
    )
}

# The sound each genre gets when the user picks none; unknown genres get piano.
GENRE_PRESETS: dict[str, str] = {
    "chorale": "organ",  # Bach chorales are church music
    "folk": "folk band",
    "celtic": "folk band",  # fiddle tunes
    "renaissance": "choir",  # Palestrina, Josquin, Monteverdi wrote for voices
    "medieval": "chamber",  # trecento song: winds and strings
    "classical": "strings",  # the corpus is string quartets
}
FALLBACK_PRESET = "piano"


def get_preset(name: str) -> Preset:
    """The preset called `name` (case and '-'/'_' for spaces do not matter); BadInput lists the choices."""
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    try:
        return PRESETS[key]
    except KeyError:
        raise BadInput(f"unknown sound {name!r}: choose one of {', '.join(PRESETS)}") from None


def preset_for_genre(genre: str | None) -> Preset:
    """The default preset for a genre (piano for unknown or missing genres)."""
    return PRESETS[GENRE_PRESETS.get((genre or "").strip().lower(), FALLBACK_PRESET)]
