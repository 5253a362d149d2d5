"""`cadenza train`: train the transformer or the LSTM baseline on the built corpus (resumable)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from launch.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `cadenza train` (each overrides the [training] table)."""
    parser.add_argument("--arch", choices=["transformer", "lstm"], default=None, help="which network")
    parser.add_argument("--out", type=Path, default=None, help="run folder (checkpoints, log.csv)")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: corpus.out_dir)")
    parser.add_argument("--steps", type=int, default=None, help="total optimiser steps")
    parser.add_argument(
        "--stop-after", type=int, default=None, help="stop at this step without changing the schedule"
    )
    parser.add_argument(
        "--init-from", type=Path, default=None, help="start from this checkpoint's weights (new schedule)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any [training] key for this run, e.g. --set batch_size=16 --set lr=5e-4 (repeatable)",
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")


def training_overrides(pairs: list[str]) -> dict[str, object]:
    """Parse `KEY=VALUE` pairs (VALUE in TOML syntax, bare words as strings) into checked [training] values."""
    import tomllib

    from cadenza.errors import ConfigError
    from launch.config_loader import build_section
    from training.train_settings import TrainSettings

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out[key] = getattr(build_section(TrainSettings, {key: value}, "training"), key)
    return out


def run(args: argparse.Namespace, config: Config) -> int:
    """Train; resumes from <out>/last when present. Under torchrun, every rank runs this."""
    from training.trainer import Trainer

    changes: dict[str, object] = {}
    if args.arch:
        changes["arch"] = args.arch
        if args.out is None and args.arch != config.training.arch:
            changes["out_dir"] = config.training.out_dir.parent / args.arch
    if args.out is not None:
        changes["out_dir"] = args.out
    if args.init_from is not None:
        changes["init_from"] = args.init_from
    if args.steps is not None:
        changes["max_steps"] = args.steps
    changes.update(training_overrides(args.set))
    settings = dataclasses.replace(config.training, **changes)  # type: ignore[arg-type]
    trainer = Trainer(settings, args.corpus or config.corpus.out_dir, device=args.device)
    result = trainer.run(stop_after=args.stop_after, progress=not args.no_progress)
    print(
        f"{settings.arch}: step {result.step}, best validation loss {result.best_val_loss:.4f}, "
        f"{result.tokens_per_s:,.0f} tokens/s, {result.seconds / 60:.1f} min; checkpoints in {settings.out_dir}"
    )
    return 0
