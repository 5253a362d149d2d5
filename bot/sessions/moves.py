"""What a member can do in a session (a `Move`), a request for a turn, and who takes turns.

Value types at the bottom of the sessions package: the buttons (`bot.sessions.views`) build `TurnAsk`s
and hand them to a `TurnTaker` (`bot.sessions.turns.TurnMaker`) without importing it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.attachments import ClipRef
from bot.options import PieceSpec, Work
from bot.sessions.settings import SessionSettings
from bot.storage import PieceKind


class Move(enum.StrEnum):
    """What a turn did (stored in the piece's settings as "move"; the tree colours by it)."""

    START = "start"
    CONTINUE = "continue"
    BRANCH = "branch"  # a continuation of an earlier turn than the latest
    REMIX = "remix"
    HARMONIZE = "harmonize"
    UPLOAD = "upload"
    REWRITE = "rewrite"  # bars of a turn written anew, the rest kept


MOVE_KINDS = {
    Move.START: PieceKind.COMPOSE,
    Move.CONTINUE: PieceKind.CONTINUE,
    Move.BRANCH: PieceKind.CONTINUE,
    Move.REMIX: PieceKind.REMIX,
    Move.HARMONIZE: PieceKind.HARMONIZE,
    Move.UPLOAD: PieceKind.UPLOAD,
    Move.REWRITE: PieceKind.REWRITE,
}


@dataclass(frozen=True)
class TurnAsk:
    """A member's request for a turn."""

    move: Move
    spec: PieceSpec
    parent_id: str | None = None  # the turn built on (None for the first turn)
    clip: ClipRef | None = None  # an upload to splice in (Move.UPLOAD, or START with a clip)
    bars: tuple[int, int] | None = None  # Move.REWRITE: the first and last bar written anew

    @property
    def work(self) -> Work:
        """The piece this turn asks for."""
        return Work(self.spec, MOVE_KINDS[self.move], self.parent_id, self.clip, self.bars)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the job record: a `Work`'s, plus the move."""
        return {"move": self.move.value, **self.work.to_json()}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> TurnAsk:
        """Back from a job record."""
        work = Work.from_json(dict(values))
        return cls(Move(values["move"]), work.spec, work.parent_id, work.clip, work.bars)


class TurnTaker(Protocol):
    """Takes a member's turn in a session (`bot.sessions.turns.TurnMaker`)."""

    settings: SessionSettings

    async def take(self, interaction: discord.Interaction[Any], session_id: str, ask: TurnAsk) -> object: ...
