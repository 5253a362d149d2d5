"""A tiny v2 model trained briefly on tiny real data has learned every task: each task's held-out
examples cost it fewer nats than they cost the same network untrained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from model.checkpoint import build_model, load_checkpoint
from model.parts import PartTokenizer
from training.part_windows import PartWindowSampler
from training.token_store import TokenSplit


def mean_nats(model: torch.nn.Module, examples: list[np.ndarray], context: int) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for seq in examples:
            seq = seq[: context + 1]
            x, y = torch.from_numpy(seq[:-1])[None], torch.from_numpy(seq[1:])
            total += float(F.cross_entropy(model(x)[0].float(), y, reduction="sum"))
            count += len(y)
    return total / count


@pytest.mark.parametrize("task", ["continue", "infill", "fill"])
def test_each_task_is_learned(task: str, tiny_corpus: Path, tiny_checkpoint: Path) -> None:
    ck = load_checkpoint(tiny_checkpoint)
    assert isinstance(ck.tokenizer, PartTokenizer)
    val = TokenSplit.open(tiny_corpus, "val")
    sampler = PartWindowSampler(val, ck.tokenizer, int(ck.model.context))
    rng = np.random.default_rng(0)
    chorales = np.flatnonzero(val.index["genre"] == ck.tokenizer.genres.index("chorale"))
    examples = [sampler.example(rng, int(i), task) for i in chorales for _ in range(3)]
    torch.manual_seed(0)
    fresh = build_model(ck.kind, ck.meta["model_config"])
    trained_nats = mean_nats(ck.model, examples, int(ck.model.context))
    assert trained_nats < 0.8 * mean_nats(fresh, examples, int(ck.model.context))
