"""Scale-out throughput: the Redis queue with 1 and with 2 `cadenza worker` processes on this machine.

Each configuration gets fresh workers (one torch thread each: a worker stands for one GPU), a warm-up
job per worker, then `--rounds` batches of `--jobs` requests at once from one bot-side client.
Reported: jobs/s and generated tokens/s (median batch), time to reply (median, p95 over all jobs) and
the workers' peak memory. This machine's load varies: compare figures from one run. The last line is
one JSON object.

Run: .venv/bin/python benchmarks/scale.py --checkpoint PATH [--jobs 64] [--seconds 8] [--workers 1,2]
(default checkpoint: model/checkpoints/transformer; a private redis-server is started unless --redis-url).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator

from model.checkpoint import read_meta
from model.queues.client import RedisQueue
from model.request import GeneratedPiece, GenerationRequest
from tests.scale.workers import WorkerProcess, scale_settings, start_worker, write_config
from tests.servers import redis_server


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", type=Path, default=Path("model/checkpoints/transformer"))
    p.add_argument("--jobs", type=int, default=64, help="requests per configuration")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each piece")
    p.add_argument(
        "--rounds", type=int, default=3, help="batches of --jobs per configuration; medians reported"
    )
    p.add_argument("--workers", default="1,2", help="worker counts to compare")
    p.add_argument("--max-batch", type=int, default=16, help="engine rows per worker")
    p.add_argument("--redis-url", default=None, help="use this Redis instead of a private one")
    return p.parse_args()


@contextlib.contextmanager
def redis(url: str | None) -> Iterator[str]:
    if url:
        yield url
    else:
        with redis_server() as server:
            yield server.url


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(n: int, args: argparse.Namespace, url: str, genre: str, work: Path) -> dict[str, float]:
    settings = scale_settings(progress_interval_s=0.5, read_count=args.max_batch)
    config = write_config(work / f"config-{n}.toml", settings)
    workers = [
        start_worker(f"bench{n}-{i}", config, args.checkpoint, url, work, max_batch=args.max_batch)
        for i in range(n)
    ]
    queue = RedisQueue(settings, url)
    try:
        await asyncio.gather(*(asyncio.to_thread(w.wait_ready) for w in workers))
        await queue.start()
        # Warm-up: enough jobs that every worker composes at least one (first steps are slower).
        await asyncio.gather(*(queue.generate(GenerationRequest(genre, 2.0, seed=-i)) for i in range(2 * n)))
        replies: list[float] = []
        walls: list[float] = []
        pieces: list[GeneratedPiece] = []

        async def one(i: int) -> GeneratedPiece:
            t = time.monotonic()
            piece = await queue.generate(GenerationRequest(genre, args.seconds, seed=i))
            replies.append(time.monotonic() - t)
            return piece

        for r in range(args.rounds):
            started = time.monotonic()
            pieces += await asyncio.gather(*(one(r * args.jobs + i) for i in range(args.jobs)))
            walls.append(time.monotonic() - started)
        rss = [peak_rss_mb(w.proc.pid) for w in workers]
    finally:
        await queue.close()
        codes = [_stop(w) for w in workers]
    tokens = sum(len(p.tokens) - p.primer_tokens - 3 for p in pieces) / args.rounds  # new tokens per round
    wall = statistics.median(walls)
    replies.sort()
    return {
        "workers": n,
        "jobs": args.jobs,
        "wall_s": round(wall, 2),
        "jobs_per_s": round(args.jobs / wall, 2),
        "tokens_per_s": round(tokens / wall, 1),
        "reply_p50_s": round(statistics.median(replies), 2),
        "reply_p95_s": round(replies[int(0.95 * (len(replies) - 1))], 2),
        "worker_peak_rss_mb": round(max(rss), 1),
        "clean_exits": sum(code == 0 for code in codes),
    }


def _stop(worker: WorkerProcess) -> int:
    try:
        return worker.stop()
    except Exception:
        return -1


async def main() -> None:
    args = parse_args()
    meta = read_meta(args.checkpoint)
    genre = meta["genres"][0]
    counts = [int(x) for x in args.workers.split(",")]
    rows = []
    with redis(args.redis_url) as url, tempfile.TemporaryDirectory(prefix="cadenza-scale-") as tmp:
        for n in counts:
            rows.append(await measure(n, args, url, genre, Path(tmp)))
    print(
        f"Scale-out on {platform.machine()} with {os.cpu_count()} CPU cores; model {args.checkpoint} "
        f"({meta.get('parameters', '?')} parameters), {args.rounds} x {args.jobs} jobs of {args.seconds:g} s ({genre}), "
        f"engine batch {args.max_batch}, 1 torch thread per worker"
    )
    header = (
        f"{'workers':>7} {'jobs/s':>8} {'tokens/s':>9} {'p50 s':>7} {'p95 s':>7} {'wall s':>7} {'peak MB':>8}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['workers']:>7} {r['jobs_per_s']:>8} {r['tokens_per_s']:>9} {r['reply_p50_s']:>7} "
            f"{r['reply_p95_s']:>7} {r['wall_s']:>7} {r['worker_peak_rss_mb']:>8}"
        )
    speedup = rows[-1]["jobs_per_s"] / rows[0]["jobs_per_s"] if len(rows) > 1 else 1.0
    print(f"speed-up {rows[-1]['workers']} vs {rows[0]['workers']} workers: {speedup:.2f}x")
    print(
        json.dumps(
            {
                "benchmark": "scale",
                "cpu_cores": os.cpu_count(),
                "jobs": args.jobs,
                "rounds": args.rounds,
                "seconds": args.seconds,
                "results": rows,
                "speedup": round(speedup, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
