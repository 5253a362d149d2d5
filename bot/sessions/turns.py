"""Making one turn of a session: check the limits, compose (or harmonize, or read an upload), store
the piece and the turn, and post it in the thread with its files, its author and its buttons.

Each stored turn holds only its own material (see `render.edits`); the audio posted with a
continuation also plays the bars it continued (shaded on the piano roll), so it is heard in context.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import discord

from bot.attachments import check_declared, download
from bot.bars import bars_of, check_bars
from bot.options import PICTURES, PieceFacts
from bot.pipeline import ComposedPiece
from bot.pipeline_adapter import compose_request, describe_progress
from bot.progress import ProgressMessage
from bot.replies import PieceFiles, turn_message
from bot.services import Services
from bot.sessions.moves import MOVE_KINDS, Move, TurnAsk
from bot.sessions.settings import SessionSettings
from bot.storage import Job, Piece, PieceKind, RemixSession, SessionStatus, Turn
from bot.tasks import Delivery, TaskReader
from cadenza.errors import BadInput, Forbidden, GenerationFailed, RateLimited
from render import RenderJob, ScoreFiles, midi_from_bytes
from render.edits import length_s, midi_to_bytes, own_material, segment
from render.harmonize import harmonize

log = logging.getLogger(__name__)
COMPOSE_TRIES = 3  # a short continuation can come out empty; a new seed usually fixes it
HOURLY_RETRY_S = 600.0  # "try again in" for a member at the hourly turn limit (the window slides)


@dataclass(frozen=True)
class MadeTurn:
    """The music of a turn and the files to post."""

    midi: bytes = field(repr=False)  # the turn's own material, from time 0
    audio: bytes = field(repr=False)
    png: bytes = field(repr=False)
    facts: PieceFacts
    sheet: ScoreFiles | None = field(default=None, repr=False)  # score.png, piece.musicxml, a clean MIDI


@dataclass(frozen=True)
class PostedTurn:
    """A stored turn with its piece and music, ready to post."""

    turn: Turn
    piece: Piece
    made: MadeTurn
    parent_number: int | None = None  # the number of the turn it built on


def is_manager(interaction: discord.Interaction[Any], session: RemixSession) -> bool:
    """The starter, or a member with Manage Threads, may lock, unlock and end a session."""
    perms = getattr(interaction, "permissions", None)
    return interaction.user.id == session.starter_id or bool(perms and perms.manage_threads)


class TurnMaker:
    """Makes and stores turns; `take` runs one through the one path (`bot.jobs`) as a `TurnTask`."""

    def __init__(self, services: Services, settings: SessionSettings) -> None:
        self.services = services
        self.settings = settings

    async def check_room(self, session: RemixSession, user_id: int) -> None:
        """Refuse a turn in a locked or ended session, a full one, or from a member over their hourly limit."""
        if session.status is not SessionStatus.OPEN:
            raise Forbidden(f"This session is {session.status.value}: it takes no new turns.")
        if session.turn_count >= self.settings.max_turns:
            raise Forbidden(
                f"This session has reached its {self.settings.max_turns} turns. "
                "Start a new one with `/session start`, perhaps from a `/session mix`."
            )
        await self.check_hourly_limit(user_id)

    async def check_hourly_limit(self, user_id: int) -> None:
        """The one rule for turns per member per hour (starting a session counts: its piece is a turn)."""
        limit = self.settings.turns_per_member_per_hour
        recent = await self.services.storage.count_recent_turns(user_id, within=timedelta(hours=1))
        if recent >= limit:
            raise RateLimited(
                f"You've taken {limit} turns this hour. Let others play, then try again.", HOURLY_RETRY_S
            )

    async def take(self, interaction: discord.Interaction[Any], session_id: str, ask: TurnAsk) -> str:
        """A member's turn from a button, menu, modal or command, through the one path; the piece id."""
        session = await self.services.storage.get_session(session_id)
        ask = await self._settle_move(session, ask)
        return await self.services.runner.run(interaction, TurnTask(self, session_id, ask))

    async def _settle_move(self, session: RemixSession, ask: TurnAsk) -> TurnAsk:
        """A Continue of a turn that is not the latest is a Branch."""
        if ask.move is not Move.CONTINUE or ask.parent_id is None:
            return ask
        turns = await self.services.storage.session_turns(session.id)
        latest = turns[-1].piece_id if turns else None
        return ask if ask.parent_id == latest else TurnAsk(Move.BRANCH, ask.spec, ask.parent_id, ask.clip)

    async def make(self, ask: TurnAsk, progress: ProgressMessage) -> MadeTurn:
        """The turn's music, by move."""
        if ask.clip is not None:
            return await self._upload(ask, progress)
        if ask.move is Move.HARMONIZE:
            return await self._harmonize(ask, progress)
        return await self._compose(ask, progress)

    async def _parent(self, ask: TurnAsk) -> Piece:
        if ask.parent_id is None:
            raise BadInput("that turn needs an earlier turn to build on")
        return await self.services.storage.get_piece(ask.parent_id)

    async def _compose(self, ask: TurnAsk, progress: ProgressMessage) -> MadeTurn:
        """Start, Continue, Branch or Remix through the model (new seeds if a try adds no notes)."""
        spec = ask.spec
        for _ in range(COMPOSE_TRIES):
            made = await self._compose_once(TurnAsk(ask.move, spec, ask.parent_id, bars=ask.bars), progress)
            if length_s(midi_from_bytes(made.midi)) > 0:
                return made
            log.info("a %s turn came out without new notes; trying another seed", ask.move.value)
            spec = spec.with_seed()
        raise GenerationFailed("The composer found nothing to add this time. Press the button again.")

    async def _compose_once(self, ask: TurnAsk, progress: ProgressMessage) -> MadeTurn:
        kind = MOVE_KINDS[ask.move]
        composed = await self._through_model(ask, progress)
        primer_end = composed.facts.primer_end_s
        if kind is PieceKind.CONTINUE:
            own = own_material(composed.midi, primer_end, ask.spec.seconds)
        elif kind in (PieceKind.REWRITE, PieceKind.HARMONIZE):  # the whole turn, with the bars or parts new
            own = composed.midi
        else:  # a start or a remix is all its own (a remix's opening bars are its motif)
            own = own_material(composed.midi, 0.0, primer_end + ask.spec.seconds)
        return MadeTurn(own, composed.audio, composed.png, composed.facts, composed.rendered.sheet)

    async def _through_model(self, ask: TurnAsk, progress: ProgressMessage) -> ComposedPiece:
        kind = MOVE_KINDS[ask.move]
        parent = None if kind is PieceKind.COMPOSE else await self._parent(ask)
        request = compose_request(ask.work, None, parent)
        progress.show("🎼 Waiting for the composer…")
        return await self.services.pipeline.compose(
            request, on_progress=lambda event: progress.show(describe_progress(event))
        )

    async def _harmonize(self, ask: TurnAsk, progress: ProgressMessage) -> MadeTurn:
        """The parent's melody with parts written under it by the model; by rule (render.harmonize) when
        the model's attempt is refused by a check or adds no part, and the reply says so."""
        made, refused = await self._model_harmony(ask, progress)
        if made is not None:
            return made
        log.info("the model's harmony was refused (%s); harmonizing by rule", refused)
        parent = await self._parent(ask)
        progress.show("🎹 Writing voices under the melody…")
        score, key = await asyncio.to_thread(harmonize, midi_from_bytes(parent.midi))
        remark = (
            f"Harmonized by rule, not by the model ({refused}): melody kept, bass and inner voices added."
        )
        return await self._render(ask, score, key.name, (remark,))

    async def _model_harmony(self, ask: TurnAsk, progress: ProgressMessage) -> tuple[MadeTurn | None, str]:
        """The model's parts under the melody (new seeds if a try adds none), or None and why not."""
        if not self.services.pipeline.does_tasks:
            return None, "this server's model can only continue music"
        spec = ask.spec
        for _ in range(COMPOSE_TRIES):
            try:
                composed = await self._through_model(TurnAsk(ask.move, spec, ask.parent_id), progress)
            except BadInput as e:
                return None, str(e)
            if {int(t.program) for t in composed.piece.score.tracks} - {0}:  # part 0 is the melody kept
                c = composed
                return MadeTurn(c.midi, c.audio, c.png, c.facts, c.rendered.sheet), ""
            spec = spec.with_seed()
        return None, "it added no parts"

    async def _upload(self, ask: TurnAsk, progress: ProgressMessage) -> MadeTurn:
        """A member's clip or MIDI file as a turn (audio is transcribed to notes first)."""
        assert ask.clip is not None
        ingest = self.services.pipeline.ingest
        if ingest is None:
            raise BadInput("reading uploads is not available on this server")
        progress.show(f"📥 Reading `{ask.clip.filename}`…")
        data = await download(ask.clip, self.services.settings, self.services.http)
        progress.show("👂 Listening to your clip…")
        primer = await ingest(data)
        score = segment(primer.score, 0.0, float(self.services.settings.max_seconds))
        if length_s(score) <= 0:
            raise BadInput(f"I found no notes in `{ask.clip.filename}` to add to the session.")
        remarks = (f"Spliced in from `{ask.clip.filename}`.", *primer.notes)
        return await self._render(ask, score, primer.key.name, remarks)

    async def _render(self, ask: TurnAsk, score: Any, key: str, remarks: tuple[str, ...]) -> MadeTurn:
        spec = ask.spec
        rendered = await self.services.pipeline.render_pool.render(
            RenderJob(
                midi=score,
                title=f"{spec.genre.capitalize()} {ask.move.value}",
                genre=spec.genre,
                preset=spec.sound,
                seed=spec.seed,
                key=key,
                sheet=True,
            )
        )
        facts = PieceFacts(
            key=key,
            sound=rendered.preset,
            duration_s=round(length_s(score), 3),
            seed=spec.seed,
            remarks=remarks,
        )
        return MadeTurn(midi_to_bytes(score), rendered.audio, rendered.png, facts, rendered.sheet)

    async def store(
        self, session: RemixSession, ask: TurnAsk, made: MadeTurn, author_id: int, guild_id: int | None
    ) -> PostedTurn:
        """Keep the piece and count it in as the session's next turn (Forbidden if it was locked meanwhile)."""
        storage = self.services.storage
        seed = ask.spec.seed if made.facts.seed is None else made.facts.seed  # a retry used another seed
        settings = {
            **ask.spec.to_json(),
            "seed": seed,
            "move": ask.move.value,
            "session_id": session.id,
            "clip": ask.clip.filename if ask.clip else None,
            "played_key": made.facts.key,
            "bars": made.facts.bars,
            "provenance": {
                "model": made.facts.model or None,
                "corpus_fingerprint": made.facts.corpus or None,
                "seed": seed,
                "parent_id": ask.parent_id,
            },
        }
        piece = await storage.add_piece(
            user_id=author_id,
            channel_id=session.thread_id,
            guild_id=guild_id,
            kind=MOVE_KINDS[ask.move],
            parent_id=ask.parent_id,
            midi=made.midi,
            settings=settings,
            seed=seed,
            model=made.facts.model,
            title=f"{session.title}: {ask.move.value}"[:100],
            duration_s=length_s(midi_from_bytes(made.midi)),
        )
        turn = await storage.add_turn(
            session.id,
            piece.id,
            author_id=author_id,
            kind=piece.kind,
            parent_piece_id=ask.parent_id,
        )
        parent_number = None if ask.parent_id is None else (await storage.get_turn(ask.parent_id)).number
        return PostedTurn(turn, piece, made, parent_number)

    async def reply(
        self, session: RemixSession, posted: PostedTurn, author: discord.abc.User, job: Job
    ) -> dict[str, Any]:
        """A stored turn's message, with the picture the server chose; the author's name kept for pages."""
        await self.services.storage.remember_name(job.guild_id, job.user_id, author.display_name)
        server = await self.services.servers.get(job.guild_id)
        page = self.services.page_url(posted.piece.id, server)
        return turn_reply(session, posted, author, server.picture or PICTURES[0], page)


def turn_reply(
    session: RemixSession,
    posted: PostedTurn,
    author: discord.abc.User,
    picture: str = PICTURES[0],
    page_url: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a posted turn's message (see `bot.replies.turn_message`)."""
    made, turn = posted.made, posted.turn
    files = PieceFiles.of(made.audio, made.midi, made.png, made.sheet)
    return turn_message(
        session, turn, posted.piece, made.facts, author, posted.parent_number, files, picture, page_url
    )


@dataclass(frozen=True)
class TurnTask:
    """A turn in a session as a task of the one path: made, stored as the next turn, posted in the thread."""

    maker: TurnMaker
    session_id: str
    ask: TurnAsk
    kind: ClassVar[str] = "turn"
    too_slow: ClassVar[str] = "That turn took too long to make. Try again."
    ready: ClassVar[str] = "✅ Your turn is ready."

    @classmethod
    def reader(cls, maker: TurnMaker) -> TaskReader:
        """How a job record's request becomes this task again (after a restart)."""
        return lambda request: cls(maker, str(request["session_id"]), TurnAsk.from_json(request["ask"]))

    def to_json(self) -> dict[str, Any]:
        """The job record's request."""
        return {"session_id": self.session_id, "ask": self.ask.to_json()}

    async def check(self, user_id: int) -> None:
        """A locked, ended or full session, the hourly limit, a clip declared too big, a bad bar range."""
        services, ask = self.maker.services, self.ask
        await self.maker.check_room(await services.storage.get_session(self.session_id), user_id)
        if ask.clip is not None:
            check_declared(ask.clip, services.settings)
        if ask.move is Move.REWRITE:
            if not services.pipeline.does_tasks:
                raise BadInput("The model on this server can only continue music: it can't rewrite bars.")
            if ask.bars is None or ask.parent_id is None:
                raise BadInput("A rewrite needs a turn and the bars to write anew.")
            parent = await services.storage.get_piece(ask.parent_id)
            check_bars(ask.bars, bars_of(parent), services.settings.max_rewrite_bars)

    async def make(self, progress: ProgressMessage) -> MadeTurn:
        """The turn's music."""
        return await self.maker.make(self.ask, progress)

    async def deliver(self, made: MadeTurn, job: Job, delivery: Delivery) -> str:
        """Store it as the session's next turn and post it (in the thread the member asked in)."""
        session = await self.maker.services.storage.get_session(self.session_id)
        posted = await self.maker.store(session, self.ask, made, job.user_id, job.guild_id)
        await delivery.send(**await self.maker.reply(session, posted, await delivery.member(), job))
        return posted.piece.id
