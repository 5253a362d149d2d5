"""Checkpoints that describe themselves: weights as safetensors plus a JSON of everything else.

`model.json` holds the model kind and config, the tokenizer (config and full vocabulary), the genre
list, the training config, the corpus fingerprint and evaluation figures. Loading never unpickles.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from cadenza.errors import CheckpointError
from model.lstm import LSTMComposer, LSTMConfig
from model.parts import tokenizer_from_json
from model.tokenizer import CadenzaTokenizer
from model.transformer import Transformer, TransformerConfig

log = logging.getLogger(__name__)

FORMAT = "cadenza-checkpoint"
FORMAT_VERSION = 1
WEIGHTS, META = "model.safetensors", "model.json"
ComposerNet = Transformer | LSTMComposer  # what every caller of a checkpoint's model can rely on
ARCHS: dict[str, tuple[type[nn.Module], type]] = {
    "transformer": (Transformer, TransformerConfig),
    "lstm": (LSTMComposer, LSTMConfig),
}


@dataclass
class Checkpoint:
    """A loaded model with its tokenizer and metadata."""

    model: ComposerNet
    tokenizer: CadenzaTokenizer
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """'transformer' or 'lstm'."""
        return str(self.meta["kind"])

    @property
    def genres(self) -> list[str]:
        """Genres the model was trained on, in token order."""
        return list(self.tokenizer.genres)

    @property
    def name(self) -> str:
        """A short name for logs and piece metadata, e.g. 'transformer-v2@2600' (v1: one merged stream)."""
        return f"{self.kind}-{self.version}@{self.meta.get('training', {}).get('step', '?')}"

    @property
    def version(self) -> str:
        """The composer generation: 'v2' for part tokens with tasks, 'v1' for the merged stream."""
        return "v2" if getattr(self.tokenizer, "format", "") == "parts" else "v1"


def build_model(kind: str, config: dict[str, Any]) -> ComposerNet:
    """Instantiate an architecture from its config dict."""
    if kind not in ARCHS:
        raise CheckpointError(f"unknown model kind {kind!r} (known: {', '.join(ARCHS)})")
    cls, cfg_cls = ARCHS[kind]
    names = {f.name for f in dataclasses.fields(cfg_cls)}
    if set(config) - names:
        raise CheckpointError(
            f"checkpoint model config has unknown fields {sorted(set(config) - names)}: newer code?"
        )
    model: ComposerNet = cls(cfg_cls(**config))  # type: ignore[assignment]
    return model


def save_checkpoint(path: Path, model: nn.Module, tokenizer: CadenzaTokenizer, meta: dict[str, Any]) -> None:
    """Write `path/model.safetensors` and `path/model.json` (atomically replacing older files)."""
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if getattr(model, "kind", "") == "transformer":
        state.pop("head.weight", None)  # tied to tok_emb.weight; safetensors refuses shared storage
    full = {
        **meta,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": model.kind,
        "model_config": dataclasses.asdict(model.cfg),  # type: ignore[call-overload]
        "tokenizer": tokenizer.to_json(),
        "genres": tokenizer.genres,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    save_file(state, str(path / (WEIGHTS + ".tmp")))
    (path / (META + ".tmp")).write_text(json.dumps(full, indent=1, sort_keys=True))
    (path / (WEIGHTS + ".tmp")).replace(path / WEIGHTS)
    (path / (META + ".tmp")).replace(path / META)


def read_meta(path: Path) -> dict[str, Any]:
    """The JSON half of a checkpoint, checked for format and version."""
    try:
        meta: dict[str, Any] = json.loads((path / META).read_text())
    except FileNotFoundError as e:
        raise CheckpointError(f"no checkpoint at {path} (expected {META} and {WEIGHTS})") from e
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path / META} is not valid JSON: {e}") from e
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} is not a Cadenza checkpoint of format version {FORMAT_VERSION} "
            f"(found {meta.get('format')!r} version {meta.get('format_version')!r})"
        )
    return meta


@contextlib.contextmanager
def serial_torch() -> Iterator[None]:
    """Run torch on one CPU thread inside the block (the thread count is restored after).

    Loading a checkpoint in one thread and decoding in the engine's own thread is the normal case.
    Measured on the 2-core CPU: once a thread has run torch ops on a 2-thread OpenMP team, the
    engine thread's own 2-thread team decodes 1.7-2.2x slower per step, for as long as the process
    lives; when the loading thread never starts a team, the engine thread gets full speed.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_checkpoint(path: Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load weights and metadata; any mismatch with this code is a CheckpointError naming it."""
    with serial_torch():
        return _load(path, device)


def _load(path: Path, device: str | torch.device) -> Checkpoint:
    meta = read_meta(path)
    tokenizer = tokenizer_from_json(meta["tokenizer"])
    model = build_model(meta["kind"], meta["model_config"])
    if model.cfg.vocab_size != len(tokenizer):
        raise CheckpointError(
            f"{path}: model vocabulary {model.cfg.vocab_size} != tokenizer {len(tokenizer)}"
        )
    try:
        state = load_file(str(path / WEIGHTS), device=str(device))
    except Exception as e:
        raise CheckpointError(f"cannot read weights {path / WEIGHTS}: {e}") from e
    if meta["kind"] == "transformer":
        state["head.weight"] = state["tok_emb.weight"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: weights do not match the model (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    model.to(device).eval()
    return Checkpoint(model, tokenizer, meta)
