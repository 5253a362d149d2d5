"""What a caller asks the engine for, and what it gets back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum

import symusic

from model.sampling import Creativity, SamplingParams


class Task(Enum):
    """What the composer is asked to do (v2 checkpoints; v1 can only continue)."""

    CONTINUE = "continue"  # new bars after the primer (or from nothing)
    INFILL = "infill"  # bars A-B of `source` written anew, everything around them kept
    FILL = "fill"  # the parts of `source` named in `given_parts` kept, the other parts written


@dataclass(frozen=True)
class GenerationRequest:
    """Every control a user has over one piece. Unset options take the genre's usual values."""

    genre: str
    seconds: float  # length of the new material; converted to whole bars at the tempo and metre
    seed: int = 0
    key: str | None = None  # e.g. "D minor"; None = a key the genre often uses (chosen by the seed)
    tempo: float | None = None  # quarter notes per minute; None = the genre's median tempo
    time_signature: str | None = None  # e.g. "3/4"; must be one the genre's data has
    creativity: Creativity = Creativity.BALANCED
    sampling: SamplingParams | None = None  # explicit settings win over `creativity`
    primer: tuple[int, ...] | None = None  # music tokens (REMI ids) to continue; reproduced verbatim
    timeout_s: float | None = None  # None = the engine's default
    task: Task = Task.CONTINUE
    source: tuple[int, ...] | None = None  # infill/fill: the piece as v2 tokens (PartTokenizer.encode_score)
    bars: tuple[int, int] | None = None  # infill: first and last bar to rewrite, 1-based, inclusive
    given_parts: tuple[int, ...] = (0,)  # fill: parts kept as given (0 = the top part, the melody)
    parts: int | None = None  # fill: parts in the result; None = as many as the genre usually has
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def params(self) -> SamplingParams:
        """The sampling settings in force."""
        return self.sampling or self.creativity.params


@dataclass(frozen=True)
class Progress:
    """A progress event: tokens done out of an estimate, or the queue position while waiting."""

    request_id: str
    tokens_done: int
    tokens_expected: int
    queue_position: int = 0

    @property
    def fraction(self) -> float:
        """0..1, never 1 before the piece is finished."""
        return min(0.99, self.tokens_done / max(1, self.tokens_expected))


@dataclass
class GeneratedPiece:
    """A finished piece: its tokens, the score they decode to, and how it was made."""

    request: GenerationRequest
    tokens: list[int]  # prefix + primer + new tokens, as generated
    score: symusic.Score  # in ticks; tempo and metre as requested
    key: str  # the key it ended up in (after any transposition to the requested key)
    key_requested: str
    tempo: float
    time_signature: str
    bars: int
    primer_tokens: int
    primer_end_s: float  # where the user's material ends (0 without a primer)
    model_name: str
    queue_s: float = 0.0
    compute_s: float = 0.0
    new_bars: tuple[int, int] | None = None  # first and last bar the model wrote (1-based); None = all

    def midi_bytes(self) -> bytes:
        """Standard MIDI file bytes."""
        return bytes(self.score.dumps_midi())
