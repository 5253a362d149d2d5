"""Training: a tiny model learns, checkpoints round-trip exactly, resuming equals not stopping, DDP runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cadenza.errors import CheckpointError, ConfigError
from model.checkpoint import load_checkpoint
from tests.tiny_corpus import tiny_train_settings
from training.trainer import Trainer


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_tiny_model_overfits_tiny_corpus(tiny_corpus: Path, tmp_path: Path, arch: str) -> None:
    trainer = Trainer(
        tiny_train_settings(tmp_path, arch=arch, max_steps=120, eval_every=60, lr=1e-2), tiny_corpus, "cpu"
    )
    x, y = trainer.train_data.batch(0, 0, 0, 4)
    before = torch.nn.functional.cross_entropy(trainer.model(x).flatten(0, 1), y.flatten()).item()
    trainer.run(progress=False)
    after = torch.nn.functional.cross_entropy(trainer.model(x).flatten(0, 1), y.flatten()).item()
    assert after < 0.6 * before  # from ~ln(vocab) = 6 down well below
    assert after < 3.0


def test_save_load_gives_identical_logits(tiny_checkpoint: Path) -> None:
    ck = load_checkpoint(tiny_checkpoint)
    again = load_checkpoint(tiny_checkpoint)
    idx = torch.randint(0, len(ck.tokenizer), (2, 20))
    assert torch.equal(ck.model(idx), again.model(idx))
    meta = json.loads((tiny_checkpoint / "model.json").read_text())
    assert {"model_config", "tokenizer", "genres", "training", "corpus_fingerprint", "genre_stats"} <= set(
        meta
    )


def test_checkpoint_that_does_not_match_code_fails_clearly(tiny_checkpoint: Path, tmp_path: Path) -> None:
    meta = json.loads((tiny_checkpoint / "model.json").read_text())
    meta["model_config"]["n_experts"] = 4
    (tmp_path / "model.json").write_text(json.dumps(meta))
    (tmp_path / "model.safetensors").write_bytes((tiny_checkpoint / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="unknown fields"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing")


def test_resumed_run_equals_uninterrupted_run(tiny_corpus: Path, tmp_path: Path) -> None:
    settings = tiny_train_settings(tmp_path / "a", max_steps=20, eval_every=10)
    Trainer(settings, tiny_corpus, "cpu").run(progress=False)
    interrupted = tiny_train_settings(tmp_path / "b", max_steps=20, eval_every=10)
    Trainer(interrupted, tiny_corpus, "cpu").run(stop_after=10, progress=False)
    Trainer(interrupted, tiny_corpus, "cpu").run(progress=False)  # a new process would do the same
    a = load_file(str(tmp_path / "a" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "last" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)


def test_prefetching_workers_feed_exactly_the_inline_batches(tiny_corpus: Path, tmp_path: Path) -> None:
    from training.prefetch import Prefetcher

    trainer = Trainer(tiny_train_settings(tmp_path / "p"), tiny_corpus, "cpu")
    inline = Prefetcher(trainer.train_data, 7, 0, 3, start=5, workers=0)
    ahead = Prefetcher(trainer.train_data, 7, 0, 3, start=5, workers=2)
    try:
        for _ in range(6):  # more than the two-per-worker queue: refills keep the step order
            (xa, ya), (xb, yb) = inline.next(), ahead.next()
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
    finally:
        ahead.close()
    assert ahead.step == inline.step == 11


def test_time_budget_replans_the_schedule_to_end_inside_it(tiny_corpus: Path, tmp_path: Path) -> None:
    from training.trainer import PLAN_AFTER_STEPS

    settings = tiny_train_settings(tmp_path / "t", max_steps=10_000, eval_every=50, time_budget_min=0.05)
    result = Trainer(settings, tiny_corpus, "cpu").run(progress=False)
    assert PLAN_AFTER_STEPS < result.step < 10_000  # stopped by the 3 s budget, not the step count
    assert result.seconds < 0.05 * 60 * 1.5
    meta = json.loads((tmp_path / "t" / "last" / "model.json").read_text())
    assert result.step <= meta["training"]["max_steps"] < 10_000  # the re-planned schedule is recorded


def test_warm_start_copies_weights_and_extends_positions(
    tiny_checkpoint: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    old = load_checkpoint(tiny_checkpoint).model.state_dict()
    settings = tiny_train_settings(tmp_path / "w", seq_len=128, init_from=tiny_checkpoint)
    new = Trainer(settings, tiny_corpus, "cpu").model.state_dict()
    assert new["tok_emb.weight"].shape == old["tok_emb.weight"].shape
    torch.testing.assert_close(new["tok_emb.weight"], old["tok_emb.weight"], rtol=0, atol=0)
    torch.testing.assert_close(new["blocks.0.qkv.weight"], old["blocks.0.qkv.weight"], rtol=0, atol=0)
    pos, old_pos = new["pos_emb.weight"], old["pos_emb.weight"]
    assert pos.shape[0] == 128 and old_pos.shape[0] == 64
    torch.testing.assert_close(pos[:64], old_pos, rtol=0, atol=0)
    torch.testing.assert_close(pos[64:], old_pos, rtol=0, atol=0)  # repeated: position p starts as p mod 64


def test_warm_start_from_another_architecture_fails_clearly(
    tiny_checkpoint: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    settings = tiny_train_settings(tmp_path / "l", arch="lstm", init_from=tiny_checkpoint)
    with pytest.raises(CheckpointError, match="is a transformer, not a lstm"):
        Trainer(settings, tiny_corpus, "cpu")


@pytest.mark.slow
def test_ddp_on_gloo_with_two_processes(tiny_corpus: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[corpus]\nout_dir = "{tiny_corpus}"\n[training]\nout_dir = "{tmp_path / "ddp"}"\nn_layer = 1\nn_head = 2\n'
        "d_model = 32\nseq_len = 32\nbatch_size = 2\nmax_steps = 6\neval_every = 3\neval_batches = 1\nthreads = 1\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as s:  # torchrun's --master_port=0 hangs in rendezvous: pick a free port ourselves
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        f"--master_port={port}",
        "-m",
        "launch.cli",
        "--config",
        str(config),
        "train",
        "--device",
        "cpu",
        "--no-progress",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = json.loads((tmp_path / "ddp" / "last" / "state.json").read_text())
    assert state["step"] == 6


def test_train_set_overrides_are_checked_like_config() -> None:
    from launch.commands.train import training_overrides

    got = training_overrides(["batch_size=16", "lr=5e-4", "init_from=model/checkpoints/transformer"])
    assert got == {"batch_size": 16, "lr": 5e-4, "init_from": Path("model/checkpoints/transformer")}
    with pytest.raises(ConfigError, match=r"unknown key training\.bogus"):
        training_overrides(["bogus=1"])
    with pytest.raises(ConfigError, match="batch_size must be an integer"):
        training_overrides(["batch_size=many"])
