"""Training batches built ahead in worker processes.

A batch is a pure function of (seed, step, rank), so workers can build the batches of the coming
steps in any order while the accelerator trains: the model sees exactly the data a single process
would have fed it (a resumed or a prefetched run is the same run). Building v2 task examples is pure
Python, which on a GPU otherwise leaves the accelerator waiting for the next batch.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from typing import Any

import numpy as np
import torch

from training.dataset import WindowSampler

_SAMPLER: WindowSampler | None = None  # the forked workers' copy


def _init(sampler: WindowSampler) -> None:
    global _SAMPLER
    _SAMPLER = sampler
    torch.set_num_threads(1)


def _build(args: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, step, rank, batch_size = args
    assert _SAMPLER is not None
    x, y = _SAMPLER.batch(seed, step, rank, batch_size)
    return x.numpy(), y.numpy()


class Prefetcher:
    """Batches for steps start, start+1, ... from `workers` processes (0: built in this process)."""

    def __init__(
        self, sampler: WindowSampler, seed: int, rank: int, batch_size: int, start: int, workers: int
    ) -> None:
        self.sampler, self.seed, self.rank, self.batch_size = sampler, seed, rank, batch_size
        self.step, self.workers = start, workers
        self._pool: Any = None
        self._ahead: deque[Any] = deque()  # pending results, in step order
        self._queued = start
        if workers > 0:
            # fork: the workers inherit the sampler and its memory-mapped corpus without pickling it.
            self._pool = mp.get_context("fork").Pool(workers, initializer=_init, initargs=(sampler,))
            self._fill()

    def _fill(self) -> None:
        while len(self._ahead) < 2 * self.workers:  # bounded: at most two batches per worker wait
            job = (self.seed, self._queued, self.rank, self.batch_size)
            self._ahead.append(self._pool.apply_async(_build, (job,)))
            self._queued += 1

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of the next step."""
        if self._pool is None:
            x, y = self.sampler.batch(self.seed, self.step, self.rank, self.batch_size)
        else:
            xn, yn = self._ahead.popleft().get()
            self._fill()
            x, y = torch.from_numpy(xn), torch.from_numpy(yn)
        self.step += 1
        return x, y

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
