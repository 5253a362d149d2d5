"""The training loop: AdamW, warmup + cosine, clipping, bf16 on CUDA, DDP, resumable, best checkpoint kept."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from model.checkpoint import build_model, save_checkpoint
from model.parts import PartTokenizer, tokenizer_from_json
from model.tokenizer import CadenzaTokenizer
from training.dataset import WindowSampler
from training.part_windows import PartWindowSampler, TaskMix
from training.prefetch import Prefetcher
from training.token_store import TokenSplit, genre_stats, read_corpus_meta
from training.train_settings import TrainSettings

log = logging.getLogger(__name__)

# A time-budgeted run measures its speed over steps 10-40 (the first ones warm caches and workers up)
# before it fixes max_steps.
WARM_STEPS, PLAN_AFTER_STEPS = 10, 40


@dataclass(frozen=True)
class TrainResult:
    """What a run ended with."""

    step: int
    best_val_loss: float
    tokens_per_s: float
    seconds: float


def lr_at(step: int, s: TrainSettings) -> float:
    """Linear warmup, then cosine decay to min_lr at max_steps."""
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = min(1.0, (step - s.warmup_steps) / max(1, s.max_steps - s.warmup_steps))
    return s.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (s.lr - s.min_lr)


def model_config(s: TrainSettings, vocab_size: int) -> dict[str, Any]:
    """The architecture's config dict from training settings."""
    if s.arch == "transformer":
        return {
            "vocab_size": vocab_size,
            "block_size": s.seq_len,
            "n_layer": s.n_layer,
            "n_head": s.n_head,
            "d_model": s.d_model,
            "dropout": s.dropout,
        }
    return {
        "vocab_size": vocab_size,
        "n_layer": s.lstm_layers,
        "hidden": s.lstm_hidden,
        "dense": s.lstm_hidden,
        "dropout": s.dropout,
        "block_size": s.seq_len,
    }


@torch.no_grad()
def mean_loss(
    model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]], device: torch.device
) -> float:
    """Mean next-token cross-entropy (nats) over fixed batches."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for x, y in batches:
        logits = model(x.to(device))
        total += F.cross_entropy(logits.flatten(0, 1).float(), y.to(device).flatten(), reduction="sum").item()
        count += y.numel()
    model.train(was)
    return total / max(count, 1)


def warm_start(model: nn.Module, path: Path, tok: CadenzaTokenizer) -> None:
    """Copy a checkpoint's weights into a freshly built model of the same kind and vocabulary.

    Learned positions may grow: rows past the old context repeat the old table (position p starts as
    p mod old), a neutral start that training then refines.
    """
    from cadenza.errors import CheckpointError
    from model.checkpoint import load_checkpoint

    ck = load_checkpoint(path)
    if ck.kind != getattr(model, "kind", None):
        raise CheckpointError(f"--init-from {path} is a {ck.kind}, not a {getattr(model, 'kind', '?')}")
    state = ck.model.state_dict()
    own = model.state_dict()
    if ck.tokenizer.vocab != tok.vocab:
        _map_embeddings(state, own, ck.tokenizer.vocab, tok.vocab, path)
    for name, value in state.items():
        target = own.get(name)
        if target is None or target.shape == value.shape:
            continue
        if name.endswith("pos_emb.weight") and target.shape[1:] == value.shape[1:]:
            reps = -(-target.shape[0] // value.shape[0])
            state[name] = value.repeat(reps, 1)[: target.shape[0]]
        else:
            raise CheckpointError(
                f"--init-from {path}: {name} is {tuple(value.shape)}, this model needs {tuple(target.shape)}"
            )
    model.load_state_dict(state)
    log.info("warm start from %s (step %s)", path, ck.meta.get("training", {}).get("step"))


def _map_embeddings(
    state: dict[str, torch.Tensor],
    own: dict[str, torch.Tensor],
    old_vocab: dict[str, int],
    new_vocab: dict[str, int],
    path: Path,
) -> None:
    """Carry token embeddings over by token name (v1 -> v2: the REMI tokens keep their meaning).

    Tokens the old vocabulary lacks keep this model's fresh initialisation.
    """
    from cadenza.errors import CheckpointError

    shared = [t for t in new_vocab if t in old_vocab]
    if len(shared) < len(old_vocab) // 2:
        raise CheckpointError(f"--init-from {path} was trained with an unrelated vocabulary")
    for name, value in list(state.items()):
        target = own.get(name)
        if target is None or target.shape == value.shape or target.dim() == 0:
            continue
        if value.shape[0] == len(old_vocab) and target.shape[0] == len(new_vocab):
            merged = target.clone()
            for t in shared:
                merged[new_vocab[t]] = value[old_vocab[t]]
            state[name] = merged
    log.info("warm start: %d of %d token embeddings carried over by name", len(shared), len(new_vocab))


def windows(
    split: TokenSplit, tok: CadenzaTokenizer, s: TrainSettings, transpose: bool = True
) -> WindowSampler | PartWindowSampler:
    """The window sampler for the corpus's token format (v1: packed pieces; v2: the task mix)."""
    shift = s.transpose_range if transpose else 0
    if isinstance(tok, PartTokenizer):
        mix = TaskMix(continue_=s.task_continue, infill=s.task_infill, fill=s.task_fill)
        return PartWindowSampler(split, tok, s.seq_len, shift, mix)
    return WindowSampler(split, tok, s.seq_len, shift)


class Trainer:
    """One run; `run()` trains from scratch or resumes from out_dir/last."""

    def __init__(self, settings: TrainSettings, corpus_dir: Path, device: str | None = None) -> None:
        self.s = settings
        self.rank, self.world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        if settings.threads:
            torch.set_num_threads(settings.threads)
        meta = read_corpus_meta(corpus_dir)
        self.corpus_fingerprint = meta["fingerprint"]
        self.tok = tokenizer_from_json(meta["tokenizer"])
        self.genre_stats = genre_stats(TokenSplit.open(corpus_dir, "train"), self.tok)
        self.train_data = windows(TokenSplit.open(corpus_dir, "train"), self.tok, settings)
        val = windows(TokenSplit.open(corpus_dir, "val"), self.tok, settings, transpose=False)
        self.val_batches = val.fixed_batches(settings.seed, settings.eval_batches, settings.batch_size)
        torch.manual_seed(settings.seed)  # identical initial weights on every rank and every run
        self.model = build_model(settings.arch, model_config(settings, len(self.tok))).to(self.device)
        self.model.grad_checkpointing = settings.grad_checkpointing
        if settings.init_from is not None and not self._resumable():
            warm_start(self.model, settings.init_from, self.tok)
        self.opt = torch.optim.AdamW(self._param_groups(), lr=settings.lr, betas=(0.9, 0.95))
        self.step, self.best_val = 0, float("inf")
        self.out = settings.out_dir

    def _param_groups(self) -> list[dict[str, Any]]:
        decay = [p for n, p in self.model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.dim() < 2]
        return [
            {"params": decay, "weight_decay": self.s.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]

    # -- checkpoints -------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {
            "training": {
                **{k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self.s).items()},
                "step": self.step,
                "best_val_loss": self.best_val,
            },
            "corpus_fingerprint": self.corpus_fingerprint,
            "genre_stats": self.genre_stats,
        }

    def save(self, which: str) -> None:
        """Save weights (+ optimizer state for 'last') under out_dir/<which>; rank 0 only."""
        if self.rank:
            return
        raw = self.model.module if isinstance(self.model, nn.parallel.DistributedDataParallel) else self.model
        save_checkpoint(self.out / which, raw, self.tok, self._meta())
        if which == "last":
            flat = {}
            for i, st in self.opt.state_dict()["state"].items():
                for k, v in st.items():
                    flat[f"{i}.{k}"] = (
                        v.detach().cpu().contiguous() if torch.is_tensor(v) else torch.tensor(v)
                    )
            save_file(flat, str(self.out / which / "optimizer.safetensors"))
            (self.out / which / "state.json").write_text(
                json.dumps({"step": self.step, "best_val_loss": self.best_val})
            )

    def _resumable(self) -> bool:
        """Whether out_dir holds a run to continue (then a warm start does not apply)."""
        return (self.s.out_dir / "last" / "state.json").exists()

    def try_resume(self) -> bool:
        """Continue from out_dir/last if it exists; returns whether it did."""
        if not self._resumable():
            return False
        last = self.out / "last"
        from model.checkpoint import load_checkpoint

        ck = load_checkpoint(last, self.device)
        if ck.meta.get("corpus_fingerprint") != self.corpus_fingerprint:
            log.warning("resuming on a different corpus than the checkpoint was trained on")
        self.model.load_state_dict(ck.model.state_dict())
        state = json.loads((last / "state.json").read_text())
        self.step, self.best_val = int(state["step"]), float(state["best_val_loss"])
        flat = load_file(str(last / "optimizer.safetensors"), device=str(self.device))
        opt_state = self.opt.state_dict()
        for key, v in flat.items():
            i, name = key.split(".", 1)
            opt_state["state"].setdefault(int(i), {})[name] = v if name != "step" else v.cpu()
        self.opt.load_state_dict(opt_state)
        log.info("resumed from %s at step %d", last, self.step)
        return True

    # -- the loop ------------------------------------------------------------------------------
    def run(self, stop_after: int | None = None, progress: bool = True) -> TrainResult:
        """Train to max_steps (or stop early after `stop_after` steps, as an interruption would)."""
        self.out.mkdir(parents=True, exist_ok=True)
        self.try_resume()
        model: nn.Module = self.model
        if self.world > 1:
            model = nn.parallel.DistributedDataParallel(self.model)
        if self.s.compile:
            model = torch.compile(model)  # type: ignore[assignment]
        model.train()
        end = self.s.max_steps if stop_after is None else min(self.s.max_steps, stop_after)
        logger = _Logger(self.out, enabled=self.rank == 0)
        feed = Prefetcher(
            self.train_data, self.s.seed, self.rank, self.s.batch_size, self.step, self.s.loader_workers
        )
        budget = _BudgetClock(self.s.time_budget_min * 60, self.step) if self.s.time_budget_min else None
        bar = tqdm(
            total=self.s.max_steps,
            initial=self.step,
            disable=not progress or self.rank != 0,
            unit="step",
            dynamic_ncols=True,
        )
        started, tokens = time.monotonic(), 0
        tok_s = 0.0
        try:
            while self.step < end:
                loss = self._train_step(model, *feed.next())
                tokens += self.s.batch_size * self.s.seq_len * self.world
                self.step += 1
                tok_s = tokens / max(time.monotonic() - started, 1e-9)
                bar.update(1)
                bar.set_postfix(
                    loss=f"{loss:.3f}", tok_s=f"{tok_s:,.0f}", lr=f"{lr_at(self.step, self.s):.1e}"
                )
                logger.train(self.step, loss, lr_at(self.step, self.s), tok_s)
                if budget is not None:
                    end = self._keep_to(budget, end, stop_after)
                    bar.total = self.s.max_steps
                if self.step % self.s.eval_every == 0 or self.step == end:
                    self._evaluate(logger)
        finally:
            feed.close()
            bar.close()
            logger.close()
        return TrainResult(self.step, self.best_val, tok_s, time.monotonic() - started)

    def _keep_to(self, budget: _BudgetClock, end: int, stop_after: int | None) -> int:
        """The run's last step after this one, under its time budget: re-planned once, cut when spent."""
        event = budget.check(self.step)
        if event == "plan":
            return self._plan(budget, stop_after)
        if event == "spent" and self.step < end:  # slower than measured
            log.warning("time budget spent at step %d of %d: stopping here", self.step, end)
            return self.step
        return end

    def _plan(self, budget: _BudgetClock, stop_after: int | None) -> int:
        """Re-plan max_steps so the run ends inside its time budget (measured speed, evaluations and a
        5 % margin counted); returns the new last step."""
        per_step, spent = budget.per_step(), time.monotonic() - budget.started
        t = time.monotonic()
        mean_loss(self.model, self.val_batches, self.device)
        per_eval = time.monotonic() - t
        left = budget.seconds * 0.95 - spent - per_eval
        more = max(1, int(left / (per_step + per_eval / self.s.eval_every)))
        self.s = dataclasses.replace(self.s, max_steps=self.step + more)
        log.info(
            "time budget %.1f min: %.3f s/step, %.2f s/evaluation -> max_steps %d",
            self.s.time_budget_min,
            per_step,
            per_eval,
            self.s.max_steps,
        )
        return self.s.max_steps if stop_after is None else min(self.s.max_steps, stop_after)

    def _train_step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        for group in self.opt.param_groups:
            group["lr"] = lr_at(self.step, self.s)
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        torch.manual_seed(self.s.seed * 1_000_003 + self.step)  # dropout masks fixed by the step: resumable
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            logits = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.s.grad_clip)
        self.opt.step()
        return float(loss.item())

    def _evaluate(self, logger: _Logger) -> None:
        val = mean_loss(self.model, self.val_batches, self.device)
        improved = val < self.best_val
        if improved:
            self.best_val = val
            self.save("best")
        self.save("last")
        logger.val(self.step, val)
        log.info("step %d: val loss %.4f%s", self.step, val, " (best)" if improved else "")


@dataclass
class _BudgetClock:
    """Where a time-budgeted run stands: it times steps WARM_STEPS..PLAN_AFTER_STEPS of this run, asks
    for one re-plan, then says when the budget is spent (a run slower than measured stops there)."""

    seconds: float
    first: int  # the step this run started from (a resumed run measures its own steps)
    started: float = field(default_factory=time.monotonic)
    warm_at: float = 0.0
    planned: bool = False

    def check(self, step: int) -> str:
        """After `step`: "plan" (once), "spent" (budget over), or ""."""
        now, done = time.monotonic(), step - self.first
        if done == WARM_STEPS:
            self.warm_at = now
        if not self.planned:
            self.planned = done >= PLAN_AFTER_STEPS
            return "plan" if self.planned else ""
        return "spent" if now - self.started > self.seconds else ""

    def per_step(self) -> float:
        """Seconds per step over the timed steps."""
        return (time.monotonic() - self.warm_at) / (PLAN_AFTER_STEPS - WARM_STEPS)


class _Logger:
    """CSV log (always) and TensorBoard (when installed) of a run."""

    def __init__(self, out: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.tb: Any = None
        if not enabled:
            return
        new = not (out / "log.csv").exists()
        self.file = (out / "log.csv").open("a", newline="", buffering=1)  # line-buffered: tail -f works
        self.csv = csv.writer(self.file)
        if new:
            self.csv.writerow(["step", "kind", "loss", "lr", "tokens_per_s", "time"])
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(out / "tb"))
        except ImportError:  # TensorBoard is optional
            self.tb = None

    def train(self, step: int, loss: float, lr: float, tok_s: float) -> None:
        if self.enabled and step % 10 == 0:
            self.csv.writerow(
                [step, "train", f"{loss:.5f}", f"{lr:.3e}", f"{tok_s:.0f}", f"{time.time():.0f}"]
            )
            if self.tb:
                self.tb.add_scalar("loss/train", loss, step)

    def val(self, step: int, loss: float) -> None:
        if self.enabled:
            self.csv.writerow([step, "val", f"{loss:.5f}", "", "", f"{time.time():.0f}"])
            self.file.flush()
            if self.tb:
                self.tb.add_scalar("loss/val", loss, step)

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            if self.tb:
                self.tb.close()
