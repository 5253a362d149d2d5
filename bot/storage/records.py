"""What the storage layer hands back: frozen records and the closed sets their fields come from.

Records are plain values, detached from any database session, so callers can keep them across awaits
and processes without lazy loads.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class PieceKind(enum.StrEnum):
    """How a piece came to be."""

    COMPOSE = "compose"  # /compose from nothing (or from a clip)
    CONTINUE = "continue"  # extends its parent
    REMIX = "remix"  # parent's material with a new genre, sound or tempo
    TAKE = "take"  # "Another take": parent's settings, new seed
    HARMONIZE = "harmonize"  # accompanies the parent's melody
    UPLOAD = "upload"  # a member's own clip or MIDI, stored as a piece
    MIX = "mix"  # a session path rendered as one track
    REWRITE = "rewrite"  # the parent with some bars written anew by the model
    ACCOMPANY = "accompany"  # a member's melody with parts written under it by the model


class JobStatus(enum.StrEnum):
    """Where a job in flight stands; `done` and `failed` are final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UNFINISHED_JOBS = (JobStatus.QUEUED, JobStatus.RUNNING)


class SessionStatus(enum.StrEnum):
    """A remix session is open to turns, locked (readable, no turns) or ended for good."""

    OPEN = "open"
    LOCKED = "locked"
    ENDED = "ended"


@dataclass(frozen=True)
class Piece:
    """A stored piece of music: who made it where, how, and its MIDI."""

    id: str  # short url-safe id, fits in a Discord button custom_id
    user_id: int
    guild_id: int | None  # None in direct messages
    channel_id: int
    parent_id: str | None  # the piece this one continues, remixes or answers
    kind: PieceKind
    settings: Mapping[str, Any]  # genre, length, key, tempo, sound, creativity, seed...
    seed: int
    model: str  # checkpoint name that composed it
    midi: bytes = field(repr=False)
    title: str
    duration_s: float
    created_at: datetime
    removed_at: datetime | None = None  # its maker removed it: pages say so and serve none of it

    @property
    def removed(self) -> bool:
        """True once its maker removed it."""
        return self.removed_at is not None


@dataclass(frozen=True)
class GuildSettings:
    """A server's stored defaults and limits (empty `values` when never set)."""

    guild_id: int
    values: Mapping[str, Any]
    updated_by: int | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Job:
    """A composition job in flight, kept so a restarted bot can finish or cleanly fail it."""

    id: str
    request: Mapping[str, Any]  # the piece request, as JSON
    user_id: int
    guild_id: int | None
    channel_id: int
    application_id: int
    interaction_token: str = field(repr=False)  # a credential for 15 minutes: never log it
    status: JobStatus
    piece_id: str | None  # the result, once done
    error: str | None  # the user-safe reason, once failed
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RemixSession:
    """A community remix session: a thread where members build one piece together."""

    id: str
    guild_id: int
    thread_id: int
    title: str
    genre: str
    sound: str
    starter_id: int
    status: SessionStatus
    root_piece_id: str | None  # the first turn's piece; None until it is composed
    turn_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Turn:
    """One turn of a session: a stored piece built on an earlier turn (None for the first)."""

    session_id: str
    piece_id: str
    number: int  # 1, 2, 3... in the order turns were added
    author_id: int
    kind: PieceKind
    parent_piece_id: str | None
    created_at: datetime
    votes: int  # likes at the time of reading
