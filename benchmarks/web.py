"""Web pages: time to first byte and page weight of a piece page, a session page and a gallery.

Serves the test world (tests/web/world.py: five pieces, a session of three turns) with the real app
on 127.0.0.1, the real render pool (pretty_midi's SoundFont) and SQLite, and asks with aiohttp from
the same process. Time to first byte is from sending the request to having the response headers,
median and 95th percentile of `--requests` warm requests; the first request for a piece's audio
renders it (cold) and is timed apart. Page weight is every byte a browser fetches to show the page
(HTML, CSS, JS, the piano roll) and, apart, the MP3 a listener plays. The last line is one JSON object.

Run: .venv/bin/python benchmarks/web.py [--requests 200]
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import aiohttp  # noqa: E402

from tests.web.browser import served_world  # noqa: E402


async def ttfb(http: aiohttp.ClientSession, url: str) -> tuple[float, int, int]:
    """Seconds to the response headers, the status and the body's size."""
    start = time.perf_counter()
    async with http.get(url) as response:
        first = time.perf_counter() - start
        return first, response.status, len(await response.read())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def measure(requests: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        async with served_world(Path(tmp)) as (front, world), aiohttp.ClientSession() as http:
            piece = front.piece_url(world.piece.id)
            pages = {
                "piece page": piece,
                "session page": front.session_url(world.session.id),
                "gallery": front.gallery_url(world.session.guild_id),
            }
            cold_audio, _, audio_bytes = await ttfb(http, piece + "/piece.mp3")
            cold_mix, _, _ = await ttfb(http, front.session_url(world.session.id) + "/mix/3.mp3")
            root = f"http://127.0.0.1:{front.port}/static/"
            assets = {
                k: (await ttfb(http, root + name))[2]
                for k, name in (("css", "style.css"), ("js", "playhead.js"))
            }
            roll = (await ttfb(http, piece + "/roll.png"))[2]
            rows: dict[str, dict[str, float]] = {}
            for label, url in pages.items():
                times, sizes = [], set()
                for _ in range(requests):
                    first, status, size = await ttfb(http, url)
                    assert status == 200, (label, status)
                    times.append(first)
                    sizes.add(size)
                rows[label] = {
                    "ttfb_median_ms": statistics.median(times) * 1000,
                    "ttfb_p95_ms": percentile(times, 95) * 1000,
                    "html_bytes": max(sizes),
                }
            warm_audio = statistics.median([(await ttfb(http, piece + "/piece.mp3"))[0] for _ in range(20)])
    static = assets["css"] + assets["js"]
    rows["piece page"]["page_bytes"] = rows["piece page"]["html_bytes"] + static + roll
    rows["session page"]["page_bytes"] = rows["session page"]["html_bytes"] + static
    rows["gallery"]["page_bytes"] = rows["gallery"]["html_bytes"] + static
    return {
        "pages": rows,
        "css_bytes": assets["css"],
        "js_bytes": assets["js"],
        "roll_png_bytes": roll,
        "mp3_bytes": audio_bytes,
        "audio_cold_ttfb_ms": cold_audio * 1000,
        "mix_cold_ttfb_ms": cold_mix * 1000,
        "audio_warm_ttfb_ms": warm_audio * 1000,
        "requests": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="warm requests per page")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = asyncio.run(measure(args.requests))
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at start (other jobs share this machine)\n")
    print(f"{'page':<16}{'TTFB median':>13}{'TTFB p95':>11}{'HTML':>10}{'page weight':>13}")
    for label, row in result["pages"].items():  # type: ignore[attr-defined]
        print(
            f"{label:<16}{row['ttfb_median_ms']:>10.1f} ms{row['ttfb_p95_ms']:>8.1f} ms"
            f"{row['html_bytes'] / 1024:>7.1f} KB{row['page_bytes'] / 1024:>10.1f} KB"
        )
    print(
        f"\npage weight = HTML + CSS ({result['css_bytes']} B) + JS ({result['js_bytes']} B)"
        f" + piano roll ({result['roll_png_bytes'] / 1024:.0f} KB, piece page only)"
    )
    print(
        f"audio: {result['mp3_bytes'] / 1024:.0f} KB MP3 (6 s); first request renders it: TTFB "
        f"{result['audio_cold_ttfb_ms']:.0f} ms (a 3-turn mix: {result['mix_cold_ttfb_ms']:.0f} ms); "
        f"cached: {result['audio_warm_ttfb_ms']:.1f} ms"
    )
    print(json.dumps({"benchmark": "web", "load_average": load, **result}))


if __name__ == "__main__":
    main()
