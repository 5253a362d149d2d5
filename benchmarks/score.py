"""Sheet music speed: a 30 s piece of every genre to piece.musicxml, verovio's SVG, score.png and piece.mid.

The pieces are the test suite's: one real piece per genre from music21's public-domain collections,
converted as the corpus converts them (a track per part) and cut to 30 s. Stages are timed separately
(`written`: parts, notation and MusicXML; `check`: music21 reading it back, `validate = true`; `svg`:
verovio's first page; `png`: cairosvg; `midi`: piece.mid), over interleaved rounds, medians reported. With `--example PATH` the chorale's
score.png is also written there (docs/score_example.png comes from this). The last line is one JSON object.

Run: .venv/bin/python benchmarks/score.py [--rounds 3] [--example docs/score_example.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import symusic

from render.engrave import first_page_svg, svg_to_png, with_text_glyphs
from render.settings import ScoreSettings
from render.sheet import ScoreSpec, check_musicxml, engrave, score_midi, written_score
from tests.render.genre_pieces import GENRE_PIECES, genre_score

STAGES = ("written", "check", "svg", "png", "midi")
EXAMPLE_TITLE = "J. S. Bach: chorale BWV 66.6"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def one_round(score: symusic.Score, spec: ScoreSpec, settings: ScoreSettings) -> dict[str, float]:
    """Seconds per stage for one piece, plus the total."""
    unchecked = replace(settings, validate=False)
    t_xml, (xml, parts, _, bars) = timed(lambda: written_score(score, spec, unchecked))
    t_check, _ = timed(lambda: check_musicxml(xml, len(parts), bars))
    t_svg, svg = timed(lambda: first_page_svg(xml, settings))
    t_png, _ = timed(lambda: svg_to_png(with_text_glyphs(svg), settings.picture_width))
    t_mid, _ = timed(lambda: score_midi(score, spec, settings))
    stages = {"written": t_xml, "check": t_check, "svg": t_svg, "png": t_png, "midi": t_mid}
    return {**stages, "total": sum(stages.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--example", type=Path, default=None, help="write the chorale's score.png here")
    args = parser.parse_args()
    settings = ScoreSettings()
    pieces = {p.genre: (genre_score(p), ScoreSpec(f"A {p.genre} piece", p.genre)) for p in GENRE_PIECES}
    times: dict[str, list[dict[str, float]]] = {g: [] for g in pieces}
    for _ in range(args.rounds):
        for genre, (score, spec) in pieces.items():
            times[genre].append(one_round(score, spec, settings))
    rows = {}
    print(
        f"{'genre':<12} {'parts':>5} {'bars':>4} {'notes':>5}  "
        + "  ".join(f"{s:>7}" for s in (*STAGES, "total"))
    )
    for genre, (score, spec) in pieces.items():
        files = engrave(score, spec, settings)
        med = {k: statistics.median(r[k] for r in times[genre]) for k in (*STAGES, "total")}
        notes = sum(len(t.notes) for t in score.tracks)
        rows[genre] = {
            "parts": len(files.parts),
            "bars": files.bars,
            "notes": notes,
            **{k: round(v, 3) for k, v in med.items()},
        }
        print(
            f"{genre:<12} {len(files.parts):>5} {files.bars:>4} {notes:>5}  "
            + "  ".join(f"{med[k]:>6.2f}s" for k in (*STAGES, "total"))
        )
    if args.example:
        score, _ = pieces["chorale"]
        args.example.write_bytes(engrave(score, ScoreSpec(EXAMPLE_TITLE, "chorale"), settings).png)
        print(f"wrote {args.example}")
    totals = [r["total"] for r in rows.values()]
    summary = {
        "seconds_per_30s_piece_median": round(statistics.median(totals), 3),
        "seconds_per_30s_piece_max": round(max(totals), 3),
        "per_genre": rows,
        "rounds": args.rounds,
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
