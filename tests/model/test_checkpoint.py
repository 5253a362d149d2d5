"""Checkpoints: save → load gives the same network (same outputs), tokenizer and metadata; bad ones are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cadenza.errors import CheckpointError
from model.checkpoint import META, WEIGHTS, build_model, load_checkpoint, save_checkpoint
from model.tokenizer import CadenzaTokenizer

CONFIGS = {
    "transformer": {"n_layer": 2, "n_head": 2, "d_model": 32, "block_size": 64, "dropout": 0.0},
    "lstm": {"n_layer": 1, "hidden": 32, "dense": 32, "dropout": 0.0},
}


@pytest.fixture(scope="module")
def tok() -> CadenzaTokenizer:
    return CadenzaTokenizer(["chorale", "folk"])


def saved(kind: str, tok: CadenzaTokenizer, path: Path) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(kind, {"vocab_size": len(tok), **CONFIGS[kind]}).eval()
    save_checkpoint(path, model, tok, {"training": {"step": 123}, "evaluation": {"bits_per_note": 3.9}})
    return model


@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_a_saved_checkpoint_loads_as_the_same_network(
    kind: str, tok: CadenzaTokenizer, tmp_path: Path
) -> None:
    model = saved(kind, tok, tmp_path)
    loaded = load_checkpoint(tmp_path)
    idx = torch.randint(0, len(tok), (2, 16), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded.model(idx), model(idx))
    assert loaded.kind == kind and loaded.name == f"{kind}-{loaded.version}@123"
    assert loaded.tokenizer.vocab == tok.vocab and loaded.genres == ["chorale", "folk"]
    assert loaded.meta["evaluation"] == {"bits_per_note": 3.9}
    assert loaded.meta["parameters"] == sum(p.numel() for p in model.parameters())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([META, WEIGHTS])  # no temporary files left


def test_the_transformers_tied_head_is_tied_again_after_loading(
    tok: CadenzaTokenizer, tmp_path: Path
) -> None:
    saved("transformer", tok, tmp_path)
    net = load_checkpoint(tmp_path).model
    assert net.head.weight.data_ptr() == net.tok_emb.weight.data_ptr()  # type: ignore[union-attr]


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 99}, "format version"),
        ({"kind": "gru"}, "unknown model kind"),
        ({"model_config": {"vocab_size": 10, "layers": 3}}, "unknown fields"),
    ],
)
def test_a_checkpoint_from_other_code_is_refused_with_the_reason(
    change: dict[str, object], message: str, tok: CadenzaTokenizer, tmp_path: Path
) -> None:
    saved("transformer", tok, tmp_path)
    meta = json.loads((tmp_path / META).read_text())
    (tmp_path / META).write_text(json.dumps({**meta, **change}))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(tmp_path)


def test_weights_that_do_not_fit_the_model_are_refused(tok: CadenzaTokenizer, tmp_path: Path) -> None:
    saved("transformer", tok, tmp_path)
    meta = json.loads((tmp_path / META).read_text())
    meta["model_config"]["n_layer"] = 3
    (tmp_path / META).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path)
