"""Settings for `cadenza train`: model size and the optimisation schedule."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class TrainSettings:
    """One training run. Defaults train the shipped transformer on a 2-core CPU in about an hour."""

    arch: Literal["transformer", "lstm"] = "transformer"
    out_dir: Path = Path("runs/transformer")  # checkpoints, CSV log, TensorBoard events
    # Transformer size: 4 x 128 (1 M parameters) trains ~3k tokens/s on one core and decodes fast.
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    # LSTM baseline (the seed tutorial's design): layers x hidden units, then a dense ReLU layer.
    lstm_layers: int = 1
    lstm_hidden: int = 128
    dropout: float = 0.1
    seq_len: int = 256  # tokens per training window (~10-25 s of music)
    batch_size: int = 32  # windows per step (per process under DDP)
    max_steps: int = 1300  # optimiser steps in total
    lr: float = 1e-3  # peak learning rate after warmup
    min_lr: float = 1e-4  # floor of the cosine decay
    warmup_steps: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 100  # steps between validation passes (and checkpoints)
    eval_batches: int = 8  # validation windows = eval_batches x batch_size
    seed: int = 1234
    transpose_range: int = 5  # training windows are transposed by up to +/- this many semitones
    grad_checkpointing: bool = False  # trade compute for memory on long contexts
    # Warm start: begin a new run (fresh optimiser and schedule) from this checkpoint's weights. It must be
    # the same architecture and vocabulary; a longer seq_len extends learned positions by repeating them.
    init_from: Path | None = None
    compile: bool = False  # torch.compile the model (measured: no gain on this CPU)
    threads: int = 1  # torch CPU threads; 0 = all cores (2 threads on a busy 2-core box run 3x slower)
    loader_workers: int = (
        0  # processes building the coming batches (a GPU outruns one Python process); 0 = inline
    )
    # Wall-clock budget in minutes (0 = none): after the first steps the run re-plans max_steps so that
    # the whole schedule, evaluations included, ends inside it (a fixed-length rented machine).
    time_budget_min: float = 0.0
    # Composer v2 (a corpus with part tokens): how often each task is drawn for a training example.
    task_continue: float = 0.5
    task_infill: float = 0.3
    task_fill: float = 0.2

    def __post_init__(self) -> None:
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")
        if self.max_steps < 1 or self.batch_size < 1 or self.seq_len < 8:
            raise ValueError("max_steps and batch_size must be >= 1 and seq_len >= 8")
        if self.loader_workers < 0 or self.time_budget_min < 0:
            raise ValueError("loader_workers and time_budget_min must be >= 0")
        if not 0 <= self.dropout < 1:
            raise ValueError("dropout must be in [0, 1)")
