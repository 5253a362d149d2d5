"""A piece as a task of the one path (`bot.jobs`): /compose, /continue, the message command, the buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.attachments import check_declared, download
from bot.bars import bars_of, check_bars
from bot.options import PICTURES, Work
from bot.pipeline import ComposedPiece
from bot.pipeline_adapter import KIND_TASKS, compose_request, describe_progress
from bot.progress import ProgressMessage
from bot.replies import PieceFiles, piece_message, piece_title
from bot.services import Services
from bot.storage import Job, PieceKind
from bot.tasks import Delivery, TaskReader
from cadenza.errors import BadInput


@dataclass(frozen=True)
class PieceTask:
    """Compose one piece (`work`), store it with its parent, reply with its files and buttons."""

    services: Services
    work: Work
    kind: ClassVar[str] = "piece"
    too_slow: ClassVar[str] = "That piece took too long to compose. Try a shorter length."
    ready: ClassVar[str] = "✅ Composed in {seconds:.0f} s."

    @classmethod
    def reader(cls, services: Services) -> TaskReader:
        """How a job record's request becomes this task again."""
        return lambda request: cls(services, Work.from_json(dict(request)))

    def to_json(self) -> dict[str, Any]:
        """The job record's request."""
        return self.work.to_json()

    async def check(self, user_id: int) -> None:
        """Refused before anything starts (costing nothing): a clip declared too big or not a clip, a
        rewrite's bar range that does not fit its piece, a task the loaded model cannot do."""
        work = self.work
        if work.clip is not None:
            check_declared(work.clip, self.services.settings)
        if work.kind in KIND_TASKS and not self.services.pipeline.does_tasks:
            raise BadInput("The model on this server can only continue music: it can't rewrite or accompany.")
        if work.kind is PieceKind.REWRITE:
            if work.parent_id is None or work.bars is None:
                raise BadInput("A rewrite needs a piece and the bars to write anew.")
            parent = await self.services.storage.get_piece(work.parent_id)
            check_bars(work.bars, bars_of(parent), self.services.settings.max_rewrite_bars)

    async def make(self, progress: ProgressMessage) -> ComposedPiece:
        """Download the clip (if any), read the parent (if any), compose."""
        work, storage, s = self.work, self.services.storage, self.services.settings
        clip = None
        if work.clip is not None:
            progress.show(f"📥 Reading `{work.clip.filename}`…")
            clip = await download(work.clip, s, self.services.http)
        parent = None if work.parent_id is None else await storage.get_piece(work.parent_id)
        progress.show("🎼 Waiting for the composer…")
        return await self.services.pipeline.compose(
            compose_request(work, clip, parent),
            on_progress=lambda event: progress.show(describe_progress(event)),
        )

    async def deliver(self, made: ComposedPiece, job: Job, delivery: Delivery) -> str:
        """Store the piece with its parent and settings, post it with its files and buttons."""
        work, clip_name = self.work, self.work.clip.filename if self.work.clip else None
        storage, member = self.services.storage, await delivery.member()
        piece = await storage.add_piece(
            user_id=job.user_id,
            channel_id=job.channel_id,
            guild_id=job.guild_id,
            kind=work.kind,
            parent_id=work.parent_id,
            midi=made.midi,
            settings={
                **work.spec.to_json(),
                "clip": clip_name,
                "bars": made.facts.bars,
                "rewritten_bars": None if work.bars is None else list(work.bars),
                "provenance": provenance_of(work, made),
            },
            seed=work.spec.seed,
            model=made.facts.model,
            title=piece_title(work.spec, work.kind, clip_name),
            duration_s=made.facts.duration_s or float(work.spec.seconds),
        )
        await storage.remember_name(job.guild_id, job.user_id, member.display_name)
        files = PieceFiles.of(made.audio, made.midi, made.png, made.rendered.sheet)
        server = await self.services.servers.get(job.guild_id)
        picture, page = server.picture or PICTURES[0], self.services.page_url(piece.id, server)
        await delivery.send(**piece_message(piece, work.spec, made.facts, member, files, picture, page))
        return piece.id


def provenance_of(work: Work, made: ComposedPiece) -> dict[str, Any]:
    """The stored piece's provenance: model and version, corpus fingerprint, seed, the piece it came from."""
    return {
        "model": made.facts.model or None,
        "corpus_fingerprint": made.facts.corpus or None,
        "seed": work.spec.seed,
        "parent_id": work.parent_id,
    }
