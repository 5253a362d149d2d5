"""The one path that makes music for a member: check, admit, defer, progress, time limit, make,
store, deliver, job record — for /compose, /continue, the message command, every button and every
session turn (what varies is a `bot.tasks.Task`).

Every task is recorded in the database while it runs, so a restarted bot finishes it (the request,
including a clip's CDN address, is in the record) or fails it with a message in the channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord

from bot.errors import message_for
from bot.options import Work
from bot.piece_task import PieceTask
from bot.progress import ProgressMessage
from bot.services import Services
from bot.storage import Job, JobStatus
from bot.storage.base import new_id
from bot.tasks import Delivery, Task, TaskReader, post_in_channel
from cadenza.errors import BadInput, CadenzaError, GenerationFailed

log = logging.getLogger(__name__)
DEFER_WARN_S = 2.0  # a deferral this late is logged: the 3 s limit is close


class JobRunner:
    """Runs tasks for interactions (and the tasks left over from before a restart)."""

    def __init__(self, services: Services, bot: discord.Client, readers: Mapping[str, TaskReader]) -> None:
        self.services = services
        self.bot = bot
        # task kind -> how its job record becomes the task again; pieces are always known.
        self.readers = {PieceTask.kind: PieceTask.reader(services), **readers}
        self._running: set[asyncio.Task[Any]] = set()  # tasks in this runner, making or delivering
        self._making: set[asyncio.Task[Any]] = set()  # of those, the ones still making music
        self._stopping = False  # set at shutdown: nothing new starts making

    async def compose(self, interaction: discord.Interaction[Any], work: Work) -> str:
        """A piece (a new one, a take, a continuation, a remix); the stored piece's id."""
        return await self.run(interaction, PieceTask(self.services, work))

    async def run(self, interaction: discord.Interaction[Any], task: Task) -> str:
        """Check, defer within Discord's 3 s, make with live progress, store, reply once; the piece id."""
        current = asyncio.current_task()
        assert current is not None  # interactions are handled in tasks
        self._running.add(current)
        try:
            return await self._run(interaction, task)
        finally:
            self._running.discard(current)

    async def _run(self, interaction: discord.Interaction[Any], task: Task) -> str:
        await task.check(interaction.user.id)
        with self.services.admission.admit(interaction.user.id, interaction.guild_id):
            await interaction.response.defer(thinking=True)
            self._note_defer_age(interaction)
            job = await self._record(interaction, task)
            progress = self.services.progress_message(interaction)
            try:
                started = time.monotonic()
                made = await self._making_phase(lambda: self._make(task, job, progress))
                await progress.close()
                await _last_words(interaction, task.ready.format(seconds=time.monotonic() - started))
            except BaseException as e:
                await progress.close()
                await self._fail(job, e)
                if isinstance(e, BadInput):  # the upload or the piece could not be used: not their fault
                    self.services.admission.refund(interaction.user.id, interaction.guild_id)
                raise
        # The member's job slot is free before they see the result: a request made on seeing it
        # (another take, the next turn) must not be refused as "already composing".
        return await self._deliver(task, made, job, self._delivery(job, interaction))

    async def _record(self, interaction: discord.Interaction[Any], task: Task) -> Job:
        return await self.services.storage.add_job(
            job_id=new_id(),
            request={**task.to_json(), "task": task.kind},
            user_id=interaction.user.id,
            channel_id=interaction.channel_id or 0,
            application_id=interaction.application_id,
            interaction_token=interaction.token,
            guild_id=interaction.guild_id,
        )

    async def _making_phase(self, making: Callable[[], Awaitable[Any]]) -> Any:
        """Run `making`, marked as the phase a shutdown may stop (delivering is let finish)."""
        current = asyncio.current_task()
        assert current is not None
        if self._stopping:
            raise asyncio.CancelledError  # shutting down: the job stays unfinished for the next start
        self._making.add(current)
        try:
            return await making()
        finally:
            self._making.discard(current)

    async def _make(self, task: Task, job: Job, progress: ProgressMessage) -> Any:
        """The task's music, within the job time limit."""
        await self.services.storage.set_job_status(job.id, JobStatus.RUNNING)
        try:
            async with asyncio.timeout(self.services.settings.job_timeout_s):
                return await task.make(progress)
        except TimeoutError as e:
            raise GenerationFailed(task.too_slow) from e

    async def _deliver(self, task: Task, made: Any, job: Job, delivery: Delivery) -> str:
        try:
            piece_id = await task.deliver(made, job, delivery)
        except BaseException as e:
            await self._fail(job, e)
            raise
        await self.services.storage.set_job_status(job.id, JobStatus.DONE, piece_id=piece_id)
        return piece_id

    async def stop(self) -> None:
        """At shutdown, before the pipeline closes: stop the tasks still making music, leaving their
        jobs unfinished (a closing engine would fail them instead), so the next start finishes them;
        let those already delivering finish, so nothing stored is made and posted a second time."""
        self._stopping = True
        for making in list(self._making):
            making.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    def _delivery(self, job: Job, interaction: discord.Interaction[Any] | None) -> Delivery:
        return Delivery(self.bot, self.services.settings, job, interaction)

    def _note_defer_age(self, interaction: discord.Interaction[Any]) -> None:
        """Record how old the interaction was when deferred (Discord gives 3 s); warn when close."""
        age = max(0.0, (discord.utils.utcnow() - interaction.created_at).total_seconds())
        if self.services.metrics is not None:
            self.services.metrics.defer_age.observe(age)
        if age > DEFER_WARN_S:
            log.warning("deferred an interaction %.2f s after it was created (Discord allows 3 s)", age)

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
        """Finish the tasks a previous run left unfinished, posting in their channels."""
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
        request = dict(job.request)
        task = self.readers[str(request.get("task", PieceTask.kind))](request)  # old records: pieces
        log.info("resuming job %s (%s) after a restart", job.id, task.kind)
        progress = ProgressMessage(_ignore, self.services.settings.progress_edit_interval_s)
        try:
            made = await self._make(task, job, progress)
        finally:
            await progress.close()
        await self._deliver(task, made, job, self._delivery(job, None))

    async def _tell(self, job: Job, text: str) -> None:
        try:
            mentions = discord.AllowedMentions(users=True)
            await post_in_channel(self.bot, job.channel_id, content=text, allowed_mentions=mentions)
        except (discord.HTTPException, GenerationFailed) as e:
            log.warning("could not tell user %s about failed job %s: %s", job.user_id, job.id, e)


async def _last_words(interaction: discord.Interaction[Any], text: str) -> None:
    """The progress message's last words (so the result arrives as its own message)."""
    try:
        await interaction.edit_original_response(content=text)
    except discord.HTTPException as e:
        log.debug("final progress edit failed: %s", e)


async def _ignore(text: str) -> None:
    """Progress of a recovered job has no message to edit."""
