"""Render speed: a 30 s four-part score to a finished MP3, against pretty_midi and the fluidsynth CLI.

Realtime factor = 30 s of score / wall seconds. Every method gets the same voiced score (the
`chamber` preset: flute, clarinet, viola, cello) and the same SoundFont; the peers' audio then goes
through the same mastering and MP3 encoding as ours, so the comparison isolates synthesis. Methods
are measured in interleaved rounds (this machine's load varies) and the medians reported. The last
line is one JSON object.

Run: .venv/bin/python benchmarks/render.py [--rounds 5] [--soundfont auto]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is called render.py: drop its folder from the path so `import render` finds the package.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
sys.path.insert(0, str(_here.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
import pretty_midi  # noqa: E402
import soundfile  # noqa: E402

from render import PRESETS, Renderer, RenderJob, RenderPool, RenderSettings, Tags, encode_mp3  # noqa: E402
from render.mixing import fade_out, master, trim_start  # noqa: E402
from render.synth import resolve_soundfont  # noqa: E402
from render.voicing import arrange, arranged_midi  # noqa: E402

SECONDS = 30.0
PRESET = "chamber"


def four_part_score(seconds: float = SECONDS, tempo: float = 100.0) -> pretty_midi.PrettyMIDI:
    """One merged track like the model writes: chords in quarters (bass, tenor, alto), a melody in eighths."""
    rng = np.random.default_rng(0)
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(0)
    beat, t = 60.0 / tempo, 0.0
    while t < seconds - 1e-6:
        root = 48 + int(rng.integers(0, 12))
        for pitch in (root - 12, root + 4, root + 7):
            inst.notes.append(pretty_midi.Note(90, pitch, t, min(seconds, t + beat)))
        for k in range(2):
            start = t + k * beat / 2
            inst.notes.append(
                pretty_midi.Note(
                    90, root + 12 + int(rng.integers(0, 8)), start, min(seconds, start + beat / 2)
                )
            )
        t += beat
    pm.instruments.append(inst)
    return pm


def band_levels(audio: np.ndarray, rate: int) -> np.ndarray:
    """Average level (dB) in third-octave bands from 50 Hz to 16 kHz."""
    mono = audio.mean(axis=1)
    spec = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    edges = 50 * 2 ** (np.arange(0, 26) / 3)  # 50 Hz .. 16.1 kHz
    return np.array(
        [
            10 * np.log10(spec[(freqs >= lo) & (freqs < hi)].mean() + 1e-20)
            for lo, hi in itertools.pairwise(edges)
        ]
    )


def max_band_difference(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Largest third-octave level difference in dB (bands within 60 dB of the loudest)."""
    la, lb = band_levels(a, rate), band_levels(b, rate)
    keep = la > la.max() - 60
    return float(np.abs(la - lb)[keep].max())


class Bench:
    """The score, its arrangement and the methods being timed."""

    def __init__(self, soundfont: str) -> None:
        self.settings = RenderSettings(soundfont=soundfont)
        self.sf2 = resolve_soundfont(soundfont)
        self.rate = self.settings.sample_rate
        self.midi = four_part_score()
        self.preset = PRESETS[PRESET]
        self.arrangement = arrange(self.midi, self.preset)
        self.voiced = arranged_midi(self.arrangement, self.midi)
        self.ours = Renderer(self.settings)
        self.naive = Renderer(replace(self.settings, synth_threads=1, encode_threads=1))
        self.linear = Renderer(replace(self.settings, interpolation="linear"))
        import fluidsynth

        self.pm_synth = fluidsynth.Synth(samplerate=float(self.rate))
        self.pm_sfid = self.pm_synth.sfload(str(self.sf2))
        self.job = RenderJob(self.midi, title="Benchmark", genre="chorale", preset=PRESET, seed=1)
        self.tags = Tags("Benchmark", "chorale", comment="seed 1")

    def finish(self, dry: np.ndarray, renderer: Renderer) -> bytes:
        """Our mastering and MP3 encoding, the same for every synthesis method."""
        s = self.settings
        audio = trim_start(dry, s.trim_threshold_db, self.rate)
        audio, _ = master(audio, self.rate, s.target_lufs, s.true_peak_dbfs, s.max_limiting_db)
        audio = fade_out(audio, s.fade_out_s, self.rate)
        return renderer.encode(audio, "mp3", self.tags)[0]

    def pretty_midi_dry(self) -> np.ndarray:
        mono = self.voiced.fluidsynth(fs=self.rate, synthesizer=self.pm_synth, sfid=self.pm_sfid)
        return np.repeat(mono.astype(np.float32)[:, None], 2, axis=1)  # pretty_midi mixes down to mono

    def cli_dry(self) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            mid, wav = Path(tmp) / "score.mid", Path(tmp) / "out.wav"
            self.voiced.write(str(mid))
            subprocess.run(
                ["fluidsynth", "-ni", "-q", "-g", "0.4", "-r", str(self.rate), "-F", str(wav), str(self.sf2), str(mid)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            audio, _ = soundfile.read(wav, dtype="float32")
        return audio

    def methods(self) -> dict[str, Callable[[], object]]:
        return {
            "synthesis": lambda: self.ours.synthesize(self.arrangement, self.preset),
            "whole": lambda: self.ours.render(self.job),
            "whole_sheet": lambda: self.ours.render(replace(self.job, sheet=True)),
            "whole_naive": lambda: self.naive.render(self.job),
            "whole_linear": lambda: self.linear.render(self.job),
            "pretty_midi": lambda: self.finish(self.pretty_midi_dry(), self.ours),
            "cli": lambda: self.finish(self.cli_dry(), self.ours),
        }


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(bench: Bench, rounds: int) -> dict[str, float]:
    """Median wall seconds per method over interleaved rounds (plus the stage times of our whole)."""
    times: dict[str, list[float]] = {}
    methods = bench.methods()
    for fn in methods.values():  # warm-up: load the samples each instrument uses
        fn()
    for _ in range(rounds):
        for name, fn in methods.items():
            dt, out = timed(fn)
            times.setdefault(name, []).append(dt)
            if name in ("whole", "whole_sheet"):
                prefix = "stage_" if name == "whole" else "sheetstage_"
                for stage, value in out.timings.items():  # type: ignore[attr-defined]
                    times.setdefault(f"{prefix}{stage}", []).append(value)
    return {name: statistics.median(v) for name, v in times.items()}


def quality_checks(bench: Bench) -> dict[str, float]:
    """Third-octave spectra: time slices vs one synth, linear vs 4th-order interpolation, MP3 qualities."""
    rate, preset, arr = bench.rate, bench.preset, bench.arrangement
    single = bench.naive.synthesize(arr, preset)
    sliced = bench.ours.synthesize(arr, preset)
    linear = bench.linear.synthesize(arr, preset)
    out = {
        "band_diff_db_slices_vs_single": max_band_difference(single, sliced, rate),
        "band_diff_db_linear_vs_4th": max_band_difference(single, linear, rate),
    }
    mastered, _ = master(single, rate, -16.0, -1.0, 6.0)
    for quality in (2, 5, 7):
        t0 = time.perf_counter()
        data = encode_mp3(mastered, rate, bench.tags, 192, quality)
        out[f"mp3_q{quality}_encode_s"] = time.perf_counter() - t0
        decoded, _ = soundfile.read(io.BytesIO(data), dtype="float32")
        out[f"band_diff_db_mp3_q{quality}"] = max_band_difference(
            mastered, decoded[1105 : 1105 + len(mastered)], rate
        )
    return out


async def pool_throughput(soundfont: str, kind: str, jobs: int = 4) -> float:
    """Audio seconds per wall second with `jobs` pieces submitted at once to a 2-worker pool."""
    settings = RenderSettings(soundfont=soundfont, pool_kind=kind, workers=2)  # type: ignore[arg-type]
    job = RenderJob(four_part_score(), title="Pool", preset=PRESET)
    async with RenderPool(settings) as pool:
        await pool.render(job)  # warm
        t0 = time.perf_counter()
        await asyncio.gather(*(pool.render(job) for _ in range(jobs)))
        return jobs * SECONDS / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--soundfont", default="auto")
    args = parser.parse_args()
    bench = Bench(args.soundfont)
    load_before = os.getloadavg()[0]
    t = measure(bench, args.rounds)
    quality = quality_checks(bench)
    pools = {kind: asyncio.run(pool_throughput(args.soundfont, kind)) for kind in ("thread", "process")}
    rtf = {name: SECONDS / seconds for name, seconds in t.items() if "stage_" not in name}
    # Sheet music is engraved beside the sound: a reply waits for whole_sheet, where one after the
    # other it would wait for the sound plus the engraving.
    sheet_s = t["sheetstage_sheet"]
    sequential_sheet = t["whole"] + sheet_s
    mix_mp3 = t["stage_mix"] + t["stage_encode"]
    print(f"Render benchmark: {SECONDS:.0f} s four-part score, preset {PRESET!r}, SoundFont {bench.sf2.name}")
    print(f"{os.cpu_count()} CPUs, load average {load_before:.1f} at start (other jobs share this machine)\n")
    print(f"{'method':<44}{'seconds':>9}{'x realtime':>12}")
    rows = [
        ("synthesis (2 synths in parallel time slices)", t["synthesis"]),
        ("mixing + MP3 (2 encoder slices)", mix_mp3),
        ("whole: score -> MP3 + piano roll", t["whole"]),
        ("whole + sheet music, engraved beside it", t["whole_sheet"]),
        ("whole + sheet music, one after the other", sequential_sheet),
        ("whole, one synth, one encoder (naive)", t["whole_naive"]),
        ("whole, linear interpolation", t["whole_linear"]),
        ("peer: pretty_midi.fluidsynth() + same mix/MP3", t["pretty_midi"]),
        ("peer: fluidsynth CLI + same mix/MP3", t["cli"]),
    ]
    for label, seconds in rows:
        print(f"{label:<44}{seconds:>9.3f}{SECONDS / seconds:>11.0f}x")
    print(
        "\nstages of our whole (median s): "
        + ", ".join(f"{k[6:]} {v:.3f}" for k, v in t.items() if k.startswith("stage_"))
    )
    print(
        "spectra (max third-octave difference, dB): "
        + ", ".join(f"{k[15:]} {v:.2f}" for k, v in quality.items() if k.startswith("band_diff"))
    )
    print(
        "MP3 encode of 30 s (s): " + ", ".join(f"q{q} {quality[f'mp3_q{q}_encode_s']:.3f}" for q in (2, 5, 7))
    )
    print(
        "pool throughput, 4 pieces at once on 2 workers (x realtime): "
        + ", ".join(f"{k} {v:.0f}x" for k, v in pools.items())
    )
    result = {
        "realtime_factor_total": rtf["whole"],
        "whole_with_sheet_s": round(t["whole_sheet"], 3),
        "sheet_engraving_s": round(sheet_s, 3),
        "sheet_beside_vs_after_x": round(sequential_sheet / t["whole_sheet"], 2),
        "realtime_factor_synthesis": rtf["synthesis"],
        "realtime_factor_mix_mp3": SECONDS / mix_mp3,
        "realtime_factor_naive": rtf["whole_naive"],
        "realtime_factor_linear": rtf["whole_linear"],
        "realtime_factor_pretty_midi": rtf["pretty_midi"],
        "realtime_factor_cli": rtf["cli"],
        "pool_thread_x": pools["thread"],
        "pool_process_x": pools["process"],
        **{k: round(v, 3) for k, v in quality.items()},
        "soundfont": bench.sf2.name,
        "preset": PRESET,
        "cpus": os.cpu_count(),
        "load_average_start": load_before,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
