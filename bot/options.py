"""What a member asked for, checked again in code: Discord's own option checks are not trusted.

`PieceSpec` is the validated request of one piece (it goes into the job record and the stored
piece's settings, so a take, continuation or remix can rebuild it). `ServerDefaults` are the
per-server defaults and limits set with `/cadenza settings`. `Work` is a piece to make: a spec, how it
relates to an earlier piece, and a clip (the job record's request).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.attachments import ClipRef
from bot.settings import BotSettings
from bot.storage import PieceKind
from cadenza.errors import BadInput, TooLong
from cadenza.theory import parse_key
from model.sampling import Creativity

CREATIVITY = tuple(c.value for c in Creativity)  # the presets members choose from, in order
MAX_SEED = 2**31 - 1
PICTURES = ("pianoroll", "score")  # what a reply's embed shows (the first is the default)
SERVER_KEYS = {  # ServerDefaults field -> its key in the stored guild settings
    "genre": "genre",
    "sound": "sound",
    "length": "length",
    "max_length": "max_length",
    "creativity": "creativity",
    "picture": "picture",
    "links": "web_links",  # web.LINKS_KEY (bot does not import web)
    "gallery": "gallery",  # web.GALLERY_KEY
}


@dataclass(frozen=True)
class ServerDefaults:
    """A server's defaults and limits (all optional; None = the bot's own)."""

    genre: str | None = None
    sound: str | None = None
    length: int | None = None
    max_length: int | None = None
    creativity: str | None = None
    picture: str | None = None  # "pianoroll" or "score": the embed's picture
    links: bool | None = None  # False: no link buttons to web pages (None: on)
    gallery: bool | None = None  # True: the server's gallery page is public to link holders

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ServerDefaults:
        """From the stored JSON (unknown keys, e.g. from a newer version, are ignored)."""
        return cls(**{name: values[key] for name, key in SERVER_KEYS.items() if key in values})

    def values(self) -> dict[str, Any]:
        """The JSON to store (unset fields left out)."""
        return {SERVER_KEYS[k]: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class PieceSpec:
    """One piece's validated settings."""

    genre: str
    seconds: int
    seed: int
    key: str | None = None
    tempo: int | None = None
    sound: str | None = None  # a render preset name; None = the genre's usual sound
    creativity: str = "balanced"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the database."""
        return asdict(self)

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> PieceSpec:
        """Back from the database."""
        fields = ("genre", "seconds", "seed", "key", "tempo", "sound", "creativity")
        return cls(**{k: values[k] for k in fields if k in values})

    def with_seed(self, seed: int | None = None) -> PieceSpec:
        """The same settings with another seed (a new random one by default)."""
        return replace(self, seed=new_seed() if seed is None else seed)


@dataclass(frozen=True)
class Work:
    """What to compose: settings, how it relates to an earlier piece, and an optional clip."""

    spec: PieceSpec
    kind: PieceKind = PieceKind.COMPOSE
    parent_id: str | None = None  # continue / remix / take / rewrite of this stored piece
    clip: ClipRef | None = None  # a member's upload to continue or accompany
    bars: tuple[int, int] | None = None  # a rewrite's first and last bar (1-based, checked)

    def to_json(self) -> dict[str, Any]:
        """The job record's request (enough to run it again after a restart)."""
        clip = None if self.clip is None else vars(self.clip)
        return {
            "spec": self.spec.to_json(),
            "kind": self.kind.value,
            "parent_id": self.parent_id,
            "clip": clip,
            "bars": None if self.bars is None else list(self.bars),
        }

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> Work:
        """Back from a job record."""
        clip, bars = values.get("clip"), values.get("bars")
        return cls(
            spec=PieceSpec.from_json(values["spec"]),
            kind=PieceKind(values.get("kind", "compose")),
            parent_id=values.get("parent_id"),
            clip=None if clip is None else ClipRef(**clip),
            bars=None if bars is None else (int(bars[0]), int(bars[1])),
        )


@dataclass(frozen=True)
class PieceFacts:
    """What a reply says about music that was made and what its stored piece keeps (typed, not a dict)."""

    key: str | None = None  # the key it was played in
    tempo: float | None = None  # quarter notes per minute
    sound: str | None = None  # the render preset used
    model: str = ""  # the checkpoint that composed it, kind@step ("" when no model did: rule, upload)
    corpus: str = ""  # the fingerprint of the corpus that checkpoint learnt from ("" when unknown)
    duration_s: float = 0.0
    seed: int | None = None  # the seed that made it (a retried turn used another than asked)
    primer_end_s: float = 0.0  # where the music it continued ends (0: all its own)
    originality: float | None = None  # share of the melody not copied from training (None: unknown)
    remarks: tuple[str, ...] = ()  # things the member should know ("used the first 30 s of your clip")
    bars: int | None = None  # bars in the piece (what a rewrite's range is checked against)


def new_seed() -> int:
    """A fresh random seed a member can quote to get the same piece again."""
    return random.SystemRandom().randint(0, MAX_SEED)


class SpecChecker:
    """Validates raw option values against the loaded model, the sounds and the limits."""

    def __init__(self, settings: BotSettings, genres: Sequence[str], sounds: Sequence[str]) -> None:
        self.settings = settings
        self.genres = list(genres)
        self.sounds = list(sounds)

    def max_seconds(self, server: ServerDefaults) -> int:
        """The longest piece allowed in this server."""
        return min(self.settings.max_seconds, server.max_length or self.settings.max_seconds)

    def build(
        self,
        server: ServerDefaults,
        *,
        genre: str | None = None,
        seconds: int | float | None = None,
        key: str | None = None,
        tempo: int | float | None = None,
        sound: str | None = None,
        creativity: str | None = None,
        seed: int | None = None,
    ) -> PieceSpec:
        """A PieceSpec from options (None = the server's default, then the bot's); BadInput if invalid."""
        return PieceSpec(
            genre=self.genre(genre or server.genre or self.genres[0]),
            seconds=self.seconds(seconds if seconds is not None else server.length, server),
            seed=self.seed(seed),
            key=self.key(key),
            tempo=self.tempo(tempo),
            sound=self.sound(sound or server.sound),
            creativity=self.creativity(creativity or server.creativity or "balanced"),
        )

    def genre(self, value: str) -> str:
        """A genre the loaded model knows."""
        name = value.strip().lower()
        if name not in self.genres:
            raise BadInput(
                f"I don't know the genre `{value}`. Choose one of: {', '.join(self.genres)} (see /genres)."
            )
        return name

    def seconds(self, value: int | float | None, server: ServerDefaults) -> int:
        """A length within the bot's and the server's bounds."""
        s = self.settings
        if value is None:
            return min(s.default_seconds, self.max_seconds(server))
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise BadInput("The length must be a number of seconds.")
        longest = self.max_seconds(server)
        if value > longest:
            raise TooLong(f"Pieces can be at most {longest} s long here. Try `length: {longest}`.")
        if value < s.min_seconds:
            raise BadInput(f"Pieces must be at least {s.min_seconds} s long. Try `length: {s.min_seconds}`.")
        return round(value)

    def key(self, value: str | None) -> str | None:
        """A key name such as 'D minor' (None = the model picks one)."""
        if value is None or not value.strip():
            return None
        if len(value) > 20:
            raise BadInput("That key name is too long. Try something like `D minor` or `Bb major`.")
        try:
            return parse_key(value).name
        except ValueError as e:
            raise BadInput(
                f"I can't read the key `{value}`. Try something like `D minor`, `Bb major` or `F#m`."
            ) from e

    def tempo(self, value: int | float | None) -> int | None:
        """Quarter notes per minute within the configured range (None = the genre's usual tempo)."""
        if value is None:
            return None
        s = self.settings
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not s.min_tempo <= value <= s.max_tempo
        ):
            raise BadInput(f"The tempo must be between {s.min_tempo} and {s.max_tempo} beats per minute.")
        return round(value)

    def sound(self, value: str | None) -> str | None:
        """A sound preset name (None = the genre's usual sound)."""
        if value is None or not value.strip():
            return None
        name = value.strip().lower()
        if name not in self.sounds:
            raise BadInput(f"I don't have the sound `{value}`. Choose one of: {', '.join(self.sounds)}.")
        return name

    def creativity(self, value: str) -> str:
        """safe, balanced or adventurous."""
        name = value.strip().lower()
        if name not in CREATIVITY:
            raise BadInput(f"Creativity must be one of: {', '.join(CREATIVITY)}.")
        return name

    def seed(self, value: int | None) -> int:
        """A seed in 0..2^31-1 (a random one when not given)."""
        if value is None:
            return new_seed()
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
            raise BadInput(f"The seed must be a whole number from 0 to {MAX_SEED}.")
        return value
