"""Batch engine throughput and latency on the shipped model (issue 5).

Measures, in one run: tokens/s and requests/s at 1, 4, 16 and 64 concurrent 30 s requests; batched
throughput with 32 concurrent requests against the same 32 one at a time; a mixed-length workload
(10 s to 120 s, 96 requests through 32 rows) against a same-length one of equal total length; p50/p95 latency of a 30 s piece
at 1 and 16 concurrent requests. The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from model.checkpoint import Checkpoint, load_checkpoint, serial_torch
from model.engine import Engine
from model.engine_settings import EngineSettings
from model.request import GenerationRequest

THREADS = [0]  # set from --threads
MIXED = 96  # requests in the mixed-length and same-length workloads (32 rows: three rounds)
GENRE = "chorale"  # the densest common genre (~45 tokens a bar): a conservative load


async def run_batch(ck: Checkpoint, seconds: list[float], max_batch: int, seed0: int = 0) -> dict[str, float]:
    """Submit every request at once; return wall time, new tokens and per-request latencies."""
    engine = Engine(
        ck, EngineSettings(max_batch=max_batch, max_queue=max(64, len(seconds)), threads=THREADS[0])
    )
    engine.start()
    started = time.monotonic()

    async def one(i: int, s: float) -> tuple[float, int]:
        piece = await engine.generate(GenerationRequest(genre=GENRE, seconds=s, seed=seed0 + i))
        return time.monotonic() - started, len(piece.tokens) - 3

    results = await asyncio.gather(*(one(i, s) for i, s in enumerate(seconds)))
    wall = time.monotonic() - started
    await engine.close()
    tokens = sum(t for _, t in results)
    return {
        "wall": wall,
        "tokens": tokens,
        "tok_s": tokens / wall,
        "req_s": len(seconds) / wall,
        "lat": [lat for lat, _ in results],
    }


async def run_sequential(ck: Checkpoint, seconds: list[float], seed0: int = 0) -> dict[str, float]:
    """The same requests one at a time (each waits for the previous)."""
    engine = Engine(ck, EngineSettings(max_batch=1, threads=THREADS[0]))
    engine.start()
    started, tokens, lat = time.monotonic(), 0, []
    for i, s in enumerate(seconds):
        t0 = time.monotonic()
        piece = await engine.generate(GenerationRequest(genre=GENRE, seconds=s, seed=seed0 + i))
        lat.append(time.monotonic() - t0)
        tokens += len(piece.tokens) - 3
    wall = time.monotonic() - started
    await engine.close()
    return {"wall": wall, "tokens": tokens, "tok_s": tokens / wall, "req_s": len(seconds) / wall, "lat": lat}


def op_overhead_us() -> float:
    """Microseconds for one tiny torch op (a 1x128 linear layer): this machine's per-call overhead today.

    Decode steps at small batch are mostly such overhead, so figures from different days or machines
    compare only alongside this number.
    """
    layer, x = torch.nn.Linear(128, 384), torch.randn(1, 128)
    with torch.no_grad():
        for _ in range(200):
            layer(x)
        started = time.perf_counter()
        for _ in range(2000):
            layer(x)
    return (time.perf_counter() - started) / 2000 * 1e6


def pct(values: list[float], q: float) -> float:
    """Percentile q (0-100) by linear interpolation."""
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", type=Path, default=Path("model/checkpoints/transformer"))
    parser.add_argument("--threads", type=int, default=0, help="engine torch threads (0 = all cores)")
    args = parser.parse_args()
    THREADS[0] = args.threads or os.cpu_count() or 1  # the engine thread's torch threads
    with serial_torch():
        overhead = op_overhead_us()
    ck = load_checkpoint(args.checkpoint)
    await run_batch(ck, [5.0] * 4, 4)  # warm-up: allocator, kernels
    rows = []
    for c in (1, 4, 16, 64):
        r = await run_batch(ck, [30.0] * c, max_batch=max(c, 1), seed0=100 * c)
        rows.append((f"{c} concurrent x 30 s", r))
    seq = await run_sequential(ck, [30.0] * 32, seed0=5000)
    bat = await run_batch(ck, [30.0] * 32, max_batch=32, seed0=5000)
    # Mixed lengths through the continuous batch: three times as many requests as rows, so rows that
    # finish early are refilled from the queue (what continuous batching is for); same total seconds.
    mixed_lengths = [10.0 + 110.0 * ((i * 37) % MIXED) / (MIXED - 1) for i in range(MIXED)]
    mixed = await run_batch(ck, mixed_lengths, max_batch=32, seed0=7000)
    same = await run_batch(ck, [sum(mixed_lengths) / MIXED] * MIXED, max_batch=32, seed0=7000)
    one = await run_sequential(ck, [30.0] * 5, seed0=9000)
    sixteen = await run_batch(ck, [30.0] * 16, max_batch=16, seed0=9100)
    rows += [
        ("32 one at a time", seq),
        ("32 concurrent", bat),
        (f"{MIXED} mixed 10-120 s", mixed),
        (f"{MIXED} same length", same),
    ]

    print(
        f"Cadenza engine benchmark: {ck.name}, {sum(p.numel() for p in ck.model.parameters()):,} parameters, "
        f"torch {torch.__version__}, {THREADS[0]} engine threads, {platform.processor() or platform.machine()}"
    )
    print(f"per-call overhead of a tiny torch op on this machine now: {overhead:.1f} µs")
    print(f"{'workload':<24}{'wall s':>9}{'tokens':>9}{'tokens/s':>11}{'requests/s':>12}")
    for name, r in rows:
        print(f"{name:<24}{r['wall']:>9.2f}{r['tokens']:>9}{r['tok_s']:>11.0f}{r['req_s']:>12.2f}")
    figures = {
        "model": ck.name,
        "device": "cpu",
        "threads": THREADS[0],
        "torch_op_us": round(overhead, 1),
        "tokens_per_s": {
            str(c): round(r["tok_s"], 1) for c, (_, r) in zip((1, 4, 16, 64), rows[:4], strict=True)
        },
        "requests_per_s": {
            str(c): round(r["req_s"], 3) for c, (_, r) in zip((1, 4, 16, 64), rows[:4], strict=True)
        },
        "batched_vs_sequential_32": round(bat["tok_s"] / seq["tok_s"], 2),
        "mixed_vs_same_length": round(mixed["tok_s"] / same["tok_s"], 3),
        "p50_s_30s_1": round(statistics.median(one["lat"]), 3),
        "p95_s_30s_1": round(pct(one["lat"], 95), 3),
        "p50_s_30s_16": round(statistics.median(sixteen["lat"]), 3),
        "p95_s_30s_16": round(pct(sixteen["lat"], 95), 3),
    }
    print(
        f"batched vs sequential (32): {figures['batched_vs_sequential_32']}x   mixed vs same length: {figures['mixed_vs_same_length']}"
    )
    print(
        f"30 s piece latency: p50 {figures['p50_s_30s_1']} s / p95 {figures['p95_s_30s_1']} s alone; "
        f"p50 {figures['p50_s_30s_16']} s / p95 {figures['p95_s_30s_16']} s at 16 concurrent"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
