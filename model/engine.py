"""The asyncio-facing batch engine: `await engine.generate(request)` from any number of tasks.

One thread owns the model and its cache and runs the continuous-batching loop; the event loop never
blocks on torch. The queue in front is bounded (a full queue raises `Busy` with an estimated wait),
every request has a deadline, a cancelled request leaves the batch at the next step, and if the loop
dies every waiting request gets the error at once and the loop starts again with a fresh cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from cadenza.errors import Busy, CadenzaError, GenerationFailed
from cadenza.priority import run_nicer
from model.batcher import Batcher, Row
from model.checkpoint import Checkpoint
from model.engine_settings import EngineSettings
from model.finish import finish_piece
from model.part_finish import finish_part_piece
from model.parts import PartTokenizer
from model.request import GeneratedPiece, GenerationRequest, Progress

log = logging.getLogger(__name__)
ProgressCallback = Callable[[Progress], None]


@dataclass(eq=False)
class _Job:
    request: GenerationRequest
    future: asyncio.Future[GeneratedPiece]
    loop: asyncio.AbstractEventLoop
    on_progress: ProgressCallback | None
    enqueued: float = field(default_factory=time.monotonic)
    cancelled: bool = False
    row: Row | None = None

    def resolve(self, result: GeneratedPiece | None = None, error: BaseException | None = None) -> None:
        def _set() -> None:
            if not self.future.done():
                if error is not None:
                    self.future.set_exception(error)
                else:
                    self.future.set_result(result)  # type: ignore[arg-type]

        self.loop.call_soon_threadsafe(_set)

    def progress(self, done: int, expected: int) -> None:
        if self.on_progress is not None:
            self.loop.call_soon_threadsafe(
                self.on_progress, Progress(self.request.request_id, done, expected)
            )


class Engine:
    """Continuous-batching generation over one checkpoint."""

    def __init__(self, checkpoint: Checkpoint, settings: EngineSettings | None = None) -> None:
        self.ck = checkpoint
        self.settings = settings or EngineSettings()
        want = self.settings.device
        self.device = torch.device(
            "cuda" if want == "cuda" or (want == "auto" and torch.cuda.is_available()) else "cpu"
        )
        self.ck.model.to(self.device).eval()
        self.stats = checkpoint.meta.get("genre_stats", {})
        self._incoming: queue.Queue[_Job] = queue.Queue(maxsize=self.settings.max_queue)
        self._active: list[_Job] = []
        self._admitting: list[_Job] = []  # taken from the queue, not yet in a row
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seconds_per_request = 1.0  # running estimate, for Busy's retry_after
        self.tokens_generated = 0
        self.restarts = 0
        self.last_batch_size = 0

    # -- public API --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._supervise, name="cadenza-engine", daemon=True)
            self._thread.start()

    async def close(self) -> None:
        """Stop the thread; requests still waiting get GenerationFailed."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
        self._fail_all(GenerationFailed("the composer is shutting down; please try again in a minute"))

    @property
    def queue_depth(self) -> int:
        """Requests waiting to join the batch."""
        return self._incoming.qsize()

    @property
    def active_rows(self) -> int:
        """Requests being generated right now."""
        return len(self._active)

    def estimated_wait(self) -> float:
        """Seconds until a new request would start, roughly."""
        waves = (self.queue_depth + self.active_rows) / self.settings.max_batch
        return round(self.seconds_per_request * max(1.0, waves), 1)

    async def generate(
        self, request: GenerationRequest, on_progress: ProgressCallback | None = None
    ) -> GeneratedPiece:
        """Compose one piece. Raises BadInput, Busy or GenerationFailed (all user-safe)."""
        self.start()
        loop = asyncio.get_running_loop()
        job = _Job(request, loop.create_future(), loop, on_progress)
        try:
            self._incoming.put_nowait(job)
        except queue.Full:
            wait = self.estimated_wait()
            raise Busy(
                f"The composer is busy; please try again in about {wait:.0f} s.", retry_after=wait
            ) from None
        if on_progress is not None:
            on_progress(Progress(request.request_id, 0, 1, queue_position=self.queue_depth))
        timeout = (request.timeout_s or self.settings.request_timeout_s) + 5.0
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), timeout)
        except TimeoutError:
            job.cancelled = True
            raise GenerationFailed("Composing took too long and was stopped; try a shorter piece.") from None
        except asyncio.CancelledError:
            job.cancelled = True  # the row leaves the batch at the next step
            if job.row is not None:
                job.row.cancelled = True
            raise

    # -- the engine thread ---------------------------------------------------------------------
    def _supervise(self) -> None:
        """Run the loop; if it dies, fail everyone waiting, then start again with a fresh cache."""
        run_nicer(self.settings.nice)  # before torch starts this thread's OpenMP team, which inherits it
        # This thread's own OpenMP team (see model.checkpoint.serial_torch for why loading stays serial).
        torch.set_num_threads(self.settings.threads or os.cpu_count() or 1)
        while not self._stop.is_set():
            try:
                self._loop(
                    Batcher(
                        self.ck.model, self.ck.tokenizer, self.stats, self.settings.max_batch, self.device
                    )
                )
            except Exception as e:
                self.restarts += 1
                log.exception("engine loop died (restart %d)", self.restarts)
                self._fail_all(
                    GenerationFailed("The composer hit an internal error; please try again.").with_traceback(
                        None
                    ),
                    cause=e,
                )

    def _fail_all(self, error: GenerationFailed, cause: BaseException | None = None) -> None:
        error.__cause__ = cause
        # Take every waiting job first, then resolve: a caller woken by a resolution may enqueue a new
        # request at once, and that one belongs to the restarted loop, not to this failure.
        waiting: list[_Job] = []
        while True:
            try:
                waiting.append(self._incoming.get_nowait())
            except queue.Empty:
                break
        jobs = [*self._active, *self._admitting, *waiting]
        self._active.clear()
        self._admitting = []
        for job in jobs:
            job.resolve(error=error)

    def _loop(self, batcher: Batcher) -> None:
        while not self._stop.is_set():
            self._admit(batcher)
            if not batcher.rows:
                continue
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                finished = batcher.step()
            self.last_batch_size = len(batcher.rows) + len(finished)
            self.tokens_generated += self.last_batch_size
            for row in finished:
                self._complete(row)

    def _admit(self, batcher: Batcher) -> None:
        """Move waiting jobs into free rows; when idle, wait briefly for company."""
        if not batcher.rows:
            try:
                first = self._incoming.get(timeout=0.1)
            except queue.Empty:
                return
            jobs = [first]
            deadline = time.monotonic() + self.settings.batch_wait_ms / 1000
            while len(jobs) < batcher.free and (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(queue.Empty):
                    jobs.append(self._incoming.get(timeout=left))
        else:
            jobs = []
            while len(jobs) < batcher.free:
                try:
                    jobs.append(self._incoming.get_nowait())
                except queue.Empty:
                    break
        self._admitting = jobs  # visible to _fail_all if starting one of them kills the loop
        while self._admitting:
            self._start_job(batcher, self._admitting.pop(0))

    def _start_job(self, batcher: Batcher, job: _Job) -> None:
        if job.cancelled:
            return
        timeout = job.request.timeout_s or self.settings.request_timeout_s
        try:
            row = batcher.prepare(job.request, deadline=time.monotonic() + timeout)
        except CadenzaError as e:
            job.resolve(error=e)
            return
        row.on_progress = job.progress
        job.row = row
        row.job = job  # type: ignore[attr-defined]
        self._active.append(job)
        batcher.admit(row)

    def _complete(self, row: Row) -> None:
        job: _Job = row.job  # type: ignore[attr-defined]
        self._active.remove(job)
        if row.cancelled or job.cancelled:
            return
        if not row.grammar.finished and time.monotonic() > row.deadline:
            job.resolve(
                error=GenerationFailed("Composing took too long and was stopped; try a shorter piece.")
            )
            return
        queue_s = row.started - job.enqueued
        tok = self.ck.tokenizer
        if isinstance(tok, PartTokenizer):
            piece = finish_part_piece(row, tok, self.ck.name, queue_s)
        else:
            piece = finish_piece(row, tok, self.ck.name, queue_s)
        piece.compute_s = time.monotonic() - row.started
        self.seconds_per_request = 0.8 * self.seconds_per_request + 0.2 * (piece.compute_s + queue_s)
        job.resolve(result=piece)
