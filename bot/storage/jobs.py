"""Jobs in flight: enough to answer a user after a restart, or to tell them cleanly that it failed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.storage.base import StoreBase, row_values
from bot.storage.records import UNFINISHED_JOBS, Job, JobStatus
from bot.storage.schema import jobs
from cadenza.errors import NotFound


def _job(row: sa.Row[Any]) -> Job:
    return Job(
        id=row.id,
        request=row.request,
        user_id=row.user_id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        application_id=row.application_id,
        interaction_token=row.interaction_token,
        status=JobStatus(row.status),
        piece_id=row.piece_id,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class JobStore(StoreBase):
    """Jobs in flight."""

    async def add_job(
        self,
        *,
        job_id: str,
        request: Mapping[str, Any],
        user_id: int,
        channel_id: int,
        application_id: int,
        interaction_token: str,
        guild_id: int | None = None,
    ) -> Job:
        """Record a queued job (its id comes from the queue, so the bot and workers agree on it)."""
        now = self._now()
        job = Job(
            id=job_id,
            request=dict(request),
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            application_id=application_id,
            interaction_token=interaction_token,
            status=JobStatus.QUEUED,
            piece_id=None,
            error=None,
            created_at=now,
            updated_at=now,
        )
        async with self._write() as conn:
            await conn.execute(jobs.insert().values(row_values(jobs, job)))
        return job

    async def get_job(self, job_id: str) -> Job:
        """The job with this id; NotFound if there is none (finished jobs may have been deleted)."""
        async with self._read() as conn:
            row = (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).first()
        if row is None:
            raise NotFound(f"job {job_id} does not exist")
        return _job(row)

    async def set_job_status(
        self, job_id: str, status: JobStatus, *, piece_id: str | None = None, error: str | None = None
    ) -> Job:
        """Move a job to `status`, with its result piece (done) or user-safe reason (failed)."""
        values: dict[str, Any] = {"status": JobStatus(status), "updated_at": self._now()}
        if piece_id is not None:
            values["piece_id"] = piece_id
        if error is not None:
            values["error"] = error
        async with self._write() as conn:
            result = await conn.execute(jobs.update().where(jobs.c.id == job_id).values(values))
            if result.rowcount == 0:
                raise NotFound(f"job {job_id} does not exist")
            row = (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).one()
        return _job(row)

    async def unfinished_jobs(self) -> list[Job]:
        """Jobs still queued or running (what a restarted bot must finish or fail), oldest first."""
        query = (
            sa.select(jobs).where(jobs.c.status.in_(UNFINISHED_JOBS)).order_by(jobs.c.created_at, jobs.c.id)
        )
        async with self._read() as conn:
            return [_job(row) for row in await conn.execute(query)]

    async def delete_job(self, job_id: str) -> bool:
        """Forget a job; False if it was not there."""
        async with self._write() as conn:
            result = await conn.execute(jobs.delete().where(jobs.c.id == job_id))
        return bool(result.rowcount)

    async def delete_finished_jobs(self, older_than: timedelta) -> int:
        """Forget done and failed jobs last updated more than `older_than` ago; returns how many."""
        cutoff = self._now() - older_than
        query = jobs.delete().where(jobs.c.status.not_in(UNFINISHED_JOBS), jobs.c.updated_at < cutoff)
        async with self._write() as conn:
            result = await conn.execute(query)
        return int(result.rowcount)
