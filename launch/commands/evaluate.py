"""`cadenza evaluate`: test likelihood, music metrics and originality of one or more checkpoints."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from launch.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza evaluate`."""
    parser.add_argument(
        "checkpoints",
        nargs="*",
        type=Path,
        help="checkpoint folders (default: model/checkpoints/transformer and lstm)",
    )
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: corpus.out_dir)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    parser.add_argument(
        "--samples", type=int, default=32, help="pieces sampled per genre (music metrics, originality)"
    )
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="length of each sampled piece and real excerpt"
    )
    parser.add_argument(
        "--seed", type=int, default=1234, help="fixes the test windows and the sampling seeds"
    )
    parser.add_argument("--windows", type=int, default=64, help="test windows per genre for the likelihood")
    parser.add_argument(
        "--seq-len", type=int, default=0, help="tokens per test window (0: shortest model context, <= 512)"
    )
    parser.add_argument(
        "--real", type=int, default=64, help="held-out real excerpts per genre to compare samples with"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["nll", "music", "originality", "form", "infill", "harmonize"],
        default=None,
        help="run only this part (repeatable)",
    )
    parser.add_argument(
        "--index", type=Path, default=None, help="originality index file (default: <corpus>/originality.npz)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the report here (.json: JSON; else Markdown + JSON)",
    )
    parser.add_argument(
        "--write", action="store_true", help="store each model's figures under 'evaluation' in its model.json"
    )
    parser.add_argument(
        "--write-samples", type=Path, default=None, metavar="DIR", help="write sampled MIDI files here"
    )
    parser.add_argument(
        "--samples-to-write", type=int, default=3, help="MIDI files written per genre with --write-samples"
    )
    parser.add_argument(
        "--repetition-penalty",
        type=float,
        default=None,
        help="sampler override (1 = off; default: balanced preset)",
    )
    parser.add_argument("--key-bias", type=float, default=None, help="sampler override (0 = off)")
    parser.add_argument(
        "--cadence", type=float, default=None, help="sampler override: last-bar tonic-chord bonus (0 = off)"
    )
    parser.add_argument(
        "--phrase-return",
        type=float,
        default=None,
        help="sampler override: phrase-return strength x the genre's rate (0 = off)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")


def run(args: argparse.Namespace, config: Config) -> int:
    """Evaluate and print the tables (or JSON)."""
    import torch

    from render.harmonize import harmonize
    from training.evaluate import default_checkpoints, evaluate, nan_to_none, write_evaluation
    from training.evaluate_report import format_report

    if args.threads:
        torch.set_num_threads(args.threads)
    paths = list(args.checkpoints) or default_checkpoints()
    if not paths:
        print(
            "no checkpoints given and none shipped under model/checkpoints/ (train them first, or name a folder)"
        )
        return 2
    try:
        settings = eval_settings(args)
    except ValueError as e:
        print(f"bad option: {e}")
        return 2
    report = nan_to_none(
        evaluate(
            paths,
            args.corpus or config.corpus.out_dir,
            settings,
            args.index,
            args.write_samples,
            args.samples_to_write,
            harmonizer=lambda melody: harmonize(melody)[0],
        )
    )
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    if args.out is not None:
        write_report(args.out, report)
    if args.write:
        for name, path in zip(report["models"], paths, strict=True):  # the report keeps the order of `paths`
            write_evaluation(path, report["models"][name], report)
            print(f"wrote the evaluation of {name} into {path / 'model.json'}", file=sys.stderr)
    return 0


def eval_settings(args: argparse.Namespace) -> Any:
    """The EvalSettings the options ask for (ValueError names a bad one)."""
    from training.evaluate_settings import PARTS, EvalSettings

    return EvalSettings(
        windows_per_genre=args.windows,
        seq_len=args.seq_len,
        seed=args.seed,
        samples_per_genre=args.samples,
        seconds=args.seconds,
        real_per_genre=args.real,
        parts=tuple(args.only) if args.only else PARTS,
        repetition_penalty=args.repetition_penalty,
        key_bias=args.key_bias,
        cadence=args.cadence,
        phrase_return=args.phrase_return,
    )


def write_report(out: Path, report: dict[str, Any]) -> None:
    """The report as JSON (a .json path) or as Markdown tables with the JSON below them."""
    from training.evaluate_report import format_report

    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=1)
    out.write_text(text if out.suffix == ".json" else f"{format_report(report)}\n\n```json\n{text}\n```\n")
