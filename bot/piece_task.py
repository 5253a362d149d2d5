"""A piece as a task of the one path (`bot.jobs`): /compose, /continue, the message command, the buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.attachments import check_declared, download
from bot.options import Work
from bot.pipeline import ComposedPiece
from bot.pipeline_adapter import compose_request, describe_progress
from bot.progress import ProgressMessage
from bot.replies import piece_message, piece_title
from bot.services import Services
from bot.storage import Job
from bot.tasks import Delivery, TaskReader


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
        """A clip declared too big (or not a clip) is refused before anything starts."""
        if self.work.clip is not None:
            check_declared(self.work.clip, self.services.settings)

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
        piece = await self.services.storage.add_piece(
            user_id=job.user_id,
            channel_id=job.channel_id,
            guild_id=job.guild_id,
            kind=work.kind,
            parent_id=work.parent_id,
            midi=made.midi,
            settings={**work.spec.to_json(), "clip": clip_name},
            seed=work.spec.seed,
            model=made.facts.model,
            title=piece_title(work.spec, work.kind, clip_name),
            duration_s=made.facts.duration_s or float(work.spec.seconds),
        )
        files = (made.audio, made.midi, made.png)
        await delivery.send(**piece_message(piece, work.spec, made.facts, await delivery.member(), files))
        return piece.id
