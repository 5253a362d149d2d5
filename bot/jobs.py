"""One piece from a member's request to their reply: admitted, deferred, composed, stored, delivered.

Every job is recorded in the database while it runs, so a restarted bot finishes it (the request,
including a clip's CDN address, is in the record) or fails it with a message in the channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import discord

from bot.attachments import check_declared, download
from bot.errors import message_for
from bot.options import Work
from bot.pipeline import ComposedPiece
from bot.pipeline_adapter import compose_request, describe_progress
from bot.progress import ProgressMessage
from bot.reply import piece_embed, piece_files, piece_title
from bot.services import Services
from bot.storage import Job, JobStatus, Piece
from bot.storage.base import new_id
from bot.views import piece_view
from cadenza.errors import CadenzaError, GenerationFailed

log = logging.getLogger(__name__)
DEFER_WARN_S = 2.0  # a deferral this late is logged: the 3 s limit is close


class JobRunner:
    """Runs pieces for interactions (and for jobs left over from before a restart)."""

    def __init__(self, services: Services, bot: discord.Client) -> None:
        self.services = services
        self.bot = bot

    async def run(self, interaction: discord.Interaction, work: Work) -> Piece:
        """Check, defer within Discord's 3 s, compose with live progress, store, reply once."""
        s = self.services.settings
        if work.clip is not None:
            check_declared(work.clip, s)
        with self.services.admission.admit(interaction.user.id, interaction.guild_id):
            await interaction.response.defer(thinking=True)
            self._note_defer_age(interaction)
            job = await self.services.storage.add_job(
                job_id=new_id(),
                request=work.to_json(),
                user_id=interaction.user.id,
                channel_id=interaction.channel_id or 0,
                application_id=interaction.application_id,
                interaction_token=interaction.token,
                guild_id=interaction.guild_id,
            )
            progress = self.services.progress_message(interaction)
            try:
                started = time.monotonic()
                piece, composed = await self._compose(work, job, progress)
                await progress.close()
                await _finish_progress(interaction, time.monotonic() - started)
            except BaseException as e:
                await progress.close()
                await self._fail(job, e)
                raise
        # The member's job slot is free before they see the piece: a request made on seeing it
        # (another take, the next piece) must not be refused as "already composing".
        try:
            await self._deliver(interaction, piece, composed, work)
        except BaseException as e:
            await self._fail(job, e)
            raise
        await self.services.storage.set_job_status(job.id, JobStatus.DONE, piece_id=piece.id)
        return piece

    def _note_defer_age(self, interaction: discord.Interaction[Any]) -> None:
        """Record how old the interaction was when deferred (Discord gives 3 s); warn when close."""
        age = max(0.0, (discord.utils.utcnow() - interaction.created_at).total_seconds())
        if self.services.metrics is not None:
            self.services.metrics.defer_age.observe(age)
        if age > DEFER_WARN_S:
            log.warning("deferred an interaction %.2f s after it was created (Discord allows 3 s)", age)

    async def _compose(self, work: Work, job: Job, progress: ProgressMessage) -> tuple[Piece, ComposedPiece]:
        """Download, compose and store, within the job time limit."""
        storage, s = self.services.storage, self.services.settings
        await storage.set_job_status(job.id, JobStatus.RUNNING)
        try:
            async with asyncio.timeout(s.job_timeout_s):
                clip = None
                if work.clip is not None:
                    progress.show(f"📥 Reading `{work.clip.filename}`…")
                    clip = await download(work.clip, s, self.services.http)
                parent = None if work.parent_id is None else await storage.get_piece(work.parent_id)
                request = compose_request(work, clip, parent)
                progress.show("🎼 Waiting for the composer…")
                composed = await self.services.pipeline.compose(
                    request, on_progress=lambda event: progress.show(describe_progress(event))
                )
        except TimeoutError as e:
            raise GenerationFailed("That piece took too long to compose. Try a shorter length.") from e
        piece = await self._store(work, job, composed)
        return piece, composed

    async def _store(self, work: Work, job: Job, composed: ComposedPiece) -> Piece:
        meta = composed.meta
        settings = {**work.spec.to_json(), "clip": work.clip.filename if work.clip else None}
        return await self.services.storage.add_piece(
            user_id=job.user_id,
            channel_id=job.channel_id,
            guild_id=job.guild_id,
            kind=work.kind,
            parent_id=work.parent_id,
            midi=composed.midi,
            settings=settings,
            seed=work.spec.seed,
            model=str(meta.get("model", "")),
            title=piece_title(work.spec, work.kind, work.clip.filename if work.clip else None),
            duration_s=float(meta.get("duration_s") or work.spec.seconds),
        )

    async def _deliver(
        self, interaction: discord.Interaction, piece: Piece, composed: ComposedPiece, work: Work
    ) -> None:
        """One followup, or a channel message when the interaction token is about to expire."""
        s = self.services.settings
        embed = piece_embed(
            piece, work.spec, {**composed.meta, "remarks": composed.remarks}, interaction.user
        )
        files = piece_files(composed.audio, composed.midi, composed.png)
        view = piece_view(piece.id)
        age = (datetime.now(UTC) - interaction.created_at).total_seconds()
        if s.token_lifetime_s - age > s.token_margin_s:
            await interaction.followup.send(embed=embed, files=files, view=view)
            return
        log.info("job for piece %s outlived its interaction token; posting in the channel", piece.id)
        await self.post_in_channel(piece.channel_id, piece.user_id, embed=embed, files=files, view=view)

    async def post_in_channel(self, channel_id: int, user_id: int, **message: Any) -> None:
        """A message for `user_id` in a channel (mentioning them), for when the token is gone."""
        channel = self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise GenerationFailed("I can't post in that channel any more.")
        await channel.send(
            content=f"<@{user_id}> here is your piece.",
            allowed_mentions=discord.AllowedMentions(users=True, roles=False, everyone=False),
            **message,
        )

    async def _fail(self, job: Job, error: BaseException) -> None:
        if isinstance(error, asyncio.CancelledError):
            return  # shutting down: the job stays unfinished and is picked up after the restart
        text = str(error) if isinstance(error, CadenzaError) else "unexpected error"
        try:
            await self.services.storage.set_job_status(job.id, JobStatus.FAILED, error=text[:500])
        except Exception:
            log.exception("could not mark job %s failed", job.id)

    # -- after a restart ------------------------------------------------------------------------

    async def recover(self) -> None:
        """Finish the jobs a previous run left unfinished, replying in their channels."""
        for job in await self.services.storage.unfinished_jobs():
            try:
                await self._recover_one(job)
            except Exception as e:
                await self._fail(job, e)
                reason = message_for(e, f"recovered job {job.id}")
                await self._tell(
                    job,
                    f"<@{job.user_id}> I restarted while composing your piece and couldn't finish it: {reason}",
                )

    async def _recover_one(self, job: Job) -> None:
        work = Work.from_json(dict(job.request))
        log.info("resuming job %s after a restart", job.id)
        progress = ProgressMessage(_ignore, self.services.settings.progress_edit_interval_s)
        piece, composed = await self._compose(work, job, progress)
        await progress.close()
        user = self.bot.get_user(job.user_id) or await self.bot.fetch_user(job.user_id)
        embed = piece_embed(piece, work.spec, composed.meta, user)
        files = piece_files(composed.audio, composed.midi, composed.png)
        await self.post_in_channel(
            job.channel_id, job.user_id, embed=embed, files=files, view=piece_view(piece.id)
        )
        await self.services.storage.set_job_status(job.id, JobStatus.DONE, piece_id=piece.id)

    async def _tell(self, job: Job, text: str) -> None:
        try:
            channel = self.bot.get_channel(job.channel_id) or await self.bot.fetch_channel(job.channel_id)
            if isinstance(channel, discord.abc.Messageable):
                await channel.send(text, allowed_mentions=discord.AllowedMentions(users=True))
        except discord.HTTPException as e:
            log.warning("could not tell user %s about failed job %s: %s", job.user_id, job.id, e.text)


async def _finish_progress(interaction: discord.Interaction, seconds: float) -> None:
    """The progress message's last words (so the result arrives as its own message)."""
    try:
        await interaction.edit_original_response(content=f"✅ Composed in {seconds:.0f} s.")
    except discord.HTTPException as e:
        log.debug("final progress edit failed: %s", e)


async def _ignore(text: str) -> None:
    """Progress of a recovered job has no message to edit."""
