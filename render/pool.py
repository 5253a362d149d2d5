"""Renders beside the event loop: a bounded pool of workers, each with its own synthesisers.

Processes are the default: in benchmarks/render.py the two kinds gave the same throughput within
this shared machine's noise (thread 23-47x, process 33-42x realtime over three runs), and processes
keep the Python parts of rendering (event loops, mixing glue, drawing) off the bot's GIL. Processes are spawned, not forked, because the bot process runs
threads. Threads remain an option where memory is tight (FluidSynth and LAME release the GIL).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from cadenza.errors import Busy, CadenzaError, RenderFailed
from cadenza.priority import run_nicer
from render.piece import RenderedPiece, Renderer, RenderJob
from render.settings import RenderSettings
from render.synth import check_soundfont

log = logging.getLogger(__name__)

# Process workers keep their Renderer here: one per process, made by the pool's initializer.
_process_renderer: Renderer | None = None


def _init_process(settings: RenderSettings, soundfont: Path) -> None:
    global _process_renderer
    run_nicer(settings.nice)  # the process's main thread, and the slice threads it starts later
    _process_renderer = Renderer(settings, soundfont)


def _render_in_process(job: RenderJob) -> RenderedPiece:
    assert _process_renderer is not None, "process pool initializer did not run"
    return _process_renderer.render(job)


class RenderPool:
    """`await pool.render(job)` renders on a worker; Busy when `queue_limit` jobs already wait."""

    def __init__(self, settings: RenderSettings) -> None:
        self.settings = settings
        self._executor: Executor | None = None
        self._renderers: queue.SimpleQueue[Renderer] = queue.SimpleQueue()
        self._all: list[Renderer] = []
        self._pending = 0
        # One slot per worker: a job waits for a free worker here, and its timeout starts only when it
        # gets one (waiting behind a burst of 200 is not "rendering took too long"; the bot's job timeout
        # bounds the whole wait).
        self._slots = asyncio.Semaphore(settings.workers)

    async def start(self) -> None:
        """Check the SoundFont and start the workers (loading their synthesisers); raises ConfigError."""
        loop = asyncio.get_running_loop()
        soundfont = await loop.run_in_executor(None, check_soundfont, self.settings)
        n = self.settings.workers
        if self.settings.pool_kind == "process":
            self._executor = ProcessPoolExecutor(
                n,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_process,
                initargs=(self.settings, soundfont),
            )
            # Start every process now, so a broken worker fails start-up rather than the first request.
            await asyncio.gather(*(loop.run_in_executor(self._executor, _noop) for _ in range(n)))
        else:
            self._executor = ThreadPoolExecutor(
                n, thread_name_prefix="render", initializer=run_nicer, initargs=(self.settings.nice,)
            )
            for _ in range(n):
                renderer = await loop.run_in_executor(None, Renderer, self.settings, soundfont)
                self._all.append(renderer)
                self._renderers.put(renderer)
        log.info("render pool started: %d %s worker(s), SoundFont %s", n, self.settings.pool_kind, soundfont)

    async def render(self, job: RenderJob) -> RenderedPiece:
        """Render `job` on a worker within the job timeout."""
        if self._executor is None:
            raise RenderFailed("the render pool is not running")
        if self._pending >= self.settings.queue_limit + self.settings.workers:
            raise Busy("too many pieces are being rendered; try again shortly", retry_after=5.0)
        self._pending += 1
        loop = asyncio.get_running_loop()
        try:
            async with self._slots:
                if self._executor is None:
                    raise RenderFailed("the render pool is not running")
                if self.settings.pool_kind == "process":
                    future = loop.run_in_executor(self._executor, _render_in_process, job)
                else:
                    future = loop.run_in_executor(self._executor, self._render_in_thread, job)
                return await asyncio.wait_for(future, self.settings.job_timeout_s)
        except TimeoutError as e:
            raise RenderFailed(f"rendering took longer than {self.settings.job_timeout_s:.0f} s") from e
        except CadenzaError:
            raise
        except Exception as e:
            log.exception("render failed")
            raise RenderFailed("the piece could not be rendered") from e
        finally:
            self._pending -= 1

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished."""
        return self._pending

    def _render_in_thread(self, job: RenderJob) -> RenderedPiece:
        renderer = self._renderers.get()  # one per worker thread, so never empty here
        try:
            return renderer.render(job)
        finally:
            self._renderers.put(renderer)

    async def close(self) -> None:
        """Wait for running renders, then stop the workers and free the synthesisers."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown, True)
        for renderer in self._all:
            renderer.close()
        self._all.clear()

    async def __aenter__(self) -> RenderPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _noop() -> None:
    return None
