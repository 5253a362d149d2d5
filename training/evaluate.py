"""`cadenza evaluate`: test-split likelihood, music metrics of samples, and originality, per checkpoint.

Every checkpoint is scored on the same test windows (drawn once, per genre, from that genre's test
pieces with a fixed seed), samples the same requests (genre, length, seeds), and is compared against
the same held-out real pieces, so the figures of two models differ only because the models do.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cadenza.errors import CheckpointError
from model.checkpoint import Checkpoint, load_checkpoint, read_meta
from model.originality import OriginalityIndex, find_copied_run, top_line
from model.parts import PartTokenizer, tokenizer_from_json
from model.sampling import Creativity, SamplingParams
from model.tokenizer import CadenzaTokenizer
from training.dataset import WindowSampler
from training.evaluate_harmony import Harmonizer, harmonize_report
from training.evaluate_music import Excerpt, music_report, originality_summary, real_pieces
from training.evaluate_settings import EvalSettings
from training.evaluate_tasks import infill_bits
from training.form import generated_form, real_form
from training.part_windows import PartWindowSampler, TaskMix
from training.token_store import TokenSplit, read_corpus_meta

log = logging.getLogger(__name__)

Batches = list[tuple[torch.Tensor, torch.Tensor]]
CONTINUE_ONLY = TaskMix(continue_=1.0, infill=0.0, fill=0.0)  # v2 likelihood: the continuation task alone


@dataclass(frozen=True)
class NLLTotals:
    """Summed negative log-likelihood (nats) over target tokens, and how many targets were notes."""

    nats: float
    tokens: int
    notes: int
    by_kind: dict[str, float] = field(default_factory=dict)  # nats per token kind (Pitch, Duration, Bar…)
    repeated: int = 0  # notes that repeat the window's earlier material (see `repeats_earlier`)
    repeated_nats: float = 0.0  # their Pitch tokens' nats

    def __add__(self, other: NLLTotals) -> NLLTotals:
        kinds = {
            k: self.by_kind.get(k, 0.0) + other.by_kind.get(k, 0.0) for k in {**self.by_kind, **other.by_kind}
        }
        return NLLTotals(
            self.nats + other.nats,
            self.tokens + other.tokens,
            self.notes + other.notes,
            kinds,
            self.repeated + other.repeated,
            self.repeated_nats + other.repeated_nats,
        )

    @property
    def bits_per_token(self) -> float:
        """Average code length of a token."""
        return self.nats / math.log(2) / max(self.tokens, 1)

    @property
    def bits_per_note(self) -> float:
        """Code length of all tokens, shared out over the notes (Pitch tokens): fair across vocabularies."""
        return self.nats / math.log(2) / max(self.notes, 1)

    def to_json(self) -> dict[str, Any]:
        """Rounded figures with their counts."""
        return {
            "bits_per_token": round(self.bits_per_token, 4),
            "bits_per_note": round(self.bits_per_note, 4),
            "tokens": self.tokens,
            "notes": self.notes,
            # where the bits per note go: each kind's share (they add up to bits_per_note)
            "bits_per_note_by_kind": {
                k: round(v / math.log(2) / max(self.notes, 1), 4) for k, v in sorted(self.by_kind.items())
            },
            # does the model use its context? Pitch bits of notes an exact repeat predicts vs the others
            "repeated_notes": {
                "share": round(self.repeated / max(self.notes, 1), 4),
                "pitch_bits": round(self.repeated_nats / math.log(2) / max(self.repeated, 1), 4),
                "pitch_bits_other": round(
                    (self.by_kind.get("Pitch", 0.0) - self.repeated_nats)
                    / math.log(2)
                    / max(self.notes - self.repeated, 1),
                    4,
                ),
            },
        }


# -- likelihood -------------------------------------------------------------------------------------
def genre_windows(
    split: TokenSplit, tok: CadenzaTokenizer, seq_len: int, settings: EvalSettings
) -> dict[str, Batches]:
    """Fixed test windows per genre, each drawn only from that genre's pieces (genres without test pieces left out)."""
    per_batch = settings.batch_size
    count = math.ceil(settings.windows_per_genre / per_batch)
    out: dict[str, Batches] = {}
    for gi, genre in enumerate(tok.genres):
        rows = split.index[split.index["genre"] == gi]
        if len(rows) == 0:
            log.warning("genre %s has no test pieces: left out of the likelihood figures", genre)
            continue
        rows_split = TokenSplit(split.tokens, rows)
        sampler: WindowSampler | PartWindowSampler = (
            PartWindowSampler(rows_split, tok, seq_len, 0, CONTINUE_ONLY)
            if isinstance(tok, PartTokenizer)
            else WindowSampler(rows_split, tok, seq_len)
        )
        batches = sampler.fixed_batches(settings.seed, count, per_batch)
        extra = count * per_batch - settings.windows_per_genre  # trim the last batch to the exact count
        if extra:
            x, y = batches[-1]
            batches[-1] = (x[: per_batch - extra], y[: per_batch - extra])
        out[genre] = batches
    return out


@torch.no_grad()
def score_windows(model: nn.Module, batches: Batches, tok: CadenzaTokenizer) -> NLLTotals:
    """Summed next-token NLL over every target of the batches, in fp32, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    is_pitch = torch.from_numpy(tok.pitch_of >= 0)
    names, kind_of = token_kinds(tok)
    per_kind = torch.zeros(len(names), dtype=torch.float64)
    tokens, notes, repeated, repeated_nats = 0, 0, 0, 0.0
    for x, y in batches:
        logits = model(x.to(device)).float()  # (B, T, V)
        nats = F.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(), reduction="none").cpu().double()
        per_kind.index_add_(0, kind_of[y.flatten()], nats)
        tokens += y.numel()
        notes += int(is_pitch[y].sum())
        again = torch.from_numpy(repeats_earlier(y.numpy(), tok.pitch_of)).flatten()
        repeated += int(again.sum())
        repeated_nats += float(nats[again].sum())
    by_kind = {name: float(v) for name, v in zip(names, per_kind, strict=True) if v > 0}
    return NLLTotals(float(per_kind.sum()), tokens, notes, by_kind, repeated, repeated_nats)


def repeats_earlier(targets: np.ndarray, pitch_of: np.ndarray, context: int = 3) -> np.ndarray:
    """(B, T) mask of the Pitch targets that repeat: the `context` pitches before it came earlier in the
    window and were followed by this same pitch then. A model that reads its context can copy these."""
    out = np.zeros(targets.shape, dtype=bool)
    for b, row in enumerate(pitch_of[targets]):
        seen: dict[tuple[int, ...], int] = {}
        recent: list[int] = []
        for t in np.flatnonzero(row >= 0):
            pitch = int(row[t])
            if len(recent) >= context:
                key = tuple(recent[-context:])
                out[b, t] = seen.get(key) == pitch
                seen[key] = pitch
            recent.append(pitch)
    return out


def token_kinds(tok: CadenzaTokenizer) -> tuple[list[str], torch.Tensor]:
    """Kind names (the part of a token before `_`: Pitch, Duration, Position, Bar…) and each id's kind."""
    kind = [tok.id_to_token[i].split("_")[0] for i in range(len(tok.vocab))]
    names = sorted(set(kind))
    index = {n: i for i, n in enumerate(names)}
    return names, torch.tensor([index[k] for k in kind], dtype=torch.long)


def likelihood(model: nn.Module, windows: dict[str, Batches], tok: CadenzaTokenizer) -> dict[str, Any]:
    """Overall and per-genre bits per token and per note; overall pools every genre's windows."""
    per_genre = {g: score_windows(model, b, tok) for g, b in windows.items()}
    total = sum(per_genre.values(), NLLTotals(0.0, 0, 0))
    return {**total.to_json(), "per_genre": {g: t.to_json() for g, t in per_genre.items()}}


# -- the whole evaluation ---------------------------------------------------------------------------
def model_names(checkpoints: Sequence[Checkpoint], paths: Sequence[Path] = ()) -> list[str]:
    """Each model's key in the report: its kind, or its folder's name when two share a kind
    (transformer and transformer_v1), or kind@step when those clash too."""
    kinds = [ck.kind for ck in checkpoints]
    folders = [p.name for p in paths]
    if len(set(folders)) == len(checkpoints) and len(set(kinds)) < len(kinds):
        return folders
    return [
        ck.kind if kinds.count(ck.kind) == 1 else f"{ck.kind}@{ck.meta.get('training', {}).get('step', i)}"
        for i, ck in enumerate(checkpoints)
    ]


def check_compatible(ck: Checkpoint, path: Path, tok: CadenzaTokenizer, fingerprint: str) -> None:
    """The checkpoint must know the corpus's genres; another corpus version is only worth a warning.

    A checkpoint with another vocabulary (v1 beside v2) is compared on what it composes (music, form,
    originality); its likelihood figures come from its own corpus.
    """
    if ck.genres != tok.genres:
        raise CheckpointError(
            f"{path} was trained on other genres than this corpus; evaluate it on its own corpus"
        )
    if ck.meta.get("corpus_fingerprint") not in (None, fingerprint):
        log.warning(
            "%s was trained on corpus %s, evaluating on %s",
            path,
            ck.meta.get("corpus_fingerprint"),
            fingerprint,
        )


@dataclass(frozen=True)
class _Inputs:
    """What every checkpoint is measured against: built once, shared by all of them."""

    tok: CadenzaTokenizer
    settings: EvalSettings
    windows: dict[str, Batches]
    real: dict[str, list[Excerpt]]
    index: OriginalityIndex | None
    samples_dir: Path | None
    samples_to_write: int
    test: TokenSplit | None = None
    harmonizer: Harmonizer | None = None


def evaluate(
    checkpoint_paths: Sequence[Path],
    corpus_dir: Path,
    settings: EvalSettings,
    index_path: Path | None = None,
    samples_dir: Path | None = None,
    samples_to_write: int = 3,
    harmonizer: Harmonizer | None = None,
) -> dict[str, Any]:
    """Evaluate each checkpoint; returns the report (`{"models": {...}, ...}`) as plain JSON data."""
    from training.originality import load_or_build_index

    meta = read_corpus_meta(corpus_dir)
    tok = tokenizer_from_json(meta["tokenizer"])
    checkpoints = [load_checkpoint(p) for p in checkpoint_paths]
    for ck, path in zip(checkpoints, checkpoint_paths, strict=True):
        check_compatible(ck, path, tok, meta["fingerprint"])
    test = TokenSplit.open(corpus_dir, "test")
    seq_len = settings.seq_len or min([512] + [_context(ck) for ck in checkpoints])
    want_samples = bool({"music", "originality", "form"} & set(settings.parts)) or samples_dir is not None
    inputs = _Inputs(
        tok=tok,
        settings=settings,
        windows=genre_windows(test, tok, seq_len, settings) if "nll" in settings.parts else {},
        real=real_pieces(test, tok, list(meta["splits"]["test"]), settings) if want_samples else {},
        index=load_or_build_index(corpus_dir, index_path) if "originality" in settings.parts else None,
        samples_dir=samples_dir,
        samples_to_write=samples_to_write,
        test=test,
        harmonizer=harmonizer,
    )
    names = model_names(checkpoints, checkpoint_paths)
    report: dict[str, Any] = {"models": {}}
    for name, ck, path in zip(names, checkpoints, checkpoint_paths, strict=True):
        out = None if samples_dir is None else samples_dir / name if len(names) > 1 else samples_dir
        report["models"][name] = {"checkpoint": str(path), **_evaluate_model(ck, inputs, out)}
    if inputs.index is not None:
        real = inputs.real
        baseline = {
            g: [inputs.index.find(top_line(e.notes)) for e in excerpts] for g, excerpts in real.items()
        }
        labels = {g: [e.label for e in excerpts] for g, excerpts in real.items()}
        report["real_test_pieces"] = {"originality": originality_summary(baseline, inputs.index, labels)}
    reference: dict[str, Any] = {}
    for entry in report["models"].values():
        reference.update(entry.pop("_reference", {}))  # Bach's and the rule-based harmonizer's figures
    if "form" in settings.parts:
        reference["real"] = {"form": real_form(test, tok, settings.seconds, settings.real_per_genre)}
    if reference:
        report["reference"] = reference
    report["real_excerpts"] = {g: len(e) for g, e in inputs.real.items()}
    report["settings"] = {**asdict(settings), "seq_len": seq_len, "parts": list(settings.parts)}
    report["corpus"] = {"dir": str(corpus_dir), "fingerprint": meta["fingerprint"]}
    return report


def _evaluate_model(ck: Checkpoint, inputs: _Inputs, samples_dir: Path | None) -> dict[str, Any]:
    """One checkpoint's likelihood, music metrics, originality and written samples."""
    from training.samples import generate_pieces, write_samples

    s = inputs.settings
    entry: dict[str, Any] = {
        "step": ck.meta.get("training", {}).get("step"),
        "parameters": ck.meta.get("parameters"),
    }
    same_tokens = ck.tokenizer.vocab == inputs.tok.vocab
    if inputs.windows and same_tokens:
        log.info("%s: likelihood on %d windows per genre", ck.name, s.windows_per_genre)
        entry.update(likelihood(ck.model, inputs.windows, inputs.tok))
    elif inputs.windows:
        entry["likelihood"] = "another token vocabulary: see the evaluation on its own corpus"
    if "infill" in s.parts and same_tokens and isinstance(inputs.tok, PartTokenizer) and inputs.test:
        log.info("%s: infill on %d pieces per genre", ck.name, s.infill_pieces_per_genre)
        entry["infill"] = infill_bits(ck.model, inputs.tok, inputs.test, s.infill_pieces_per_genre, s.seed)
    if "harmonize" in s.parts and same_tokens and isinstance(inputs.tok, PartTokenizer) and inputs.test:
        log.info("%s: harmonizing %d held-out chorales", ck.name, s.harmonize_chorales)
        harmony = harmonize_report(ck, inputs.test, s.harmonize_chorales, s.seed, inputs.harmonizer)
        entry["harmonize"] = harmony.pop("model")
        entry["_reference"] = harmony  # Bach's own parts and the rule-based harmonizer's
    if not ({"music", "originality", "form"} & set(s.parts) or samples_dir is not None):
        return entry
    pieces = generate_pieces(
        ck, inputs.tok.genres, s.samples_per_genre, s.seconds, s.seed, sampling=sampler(s)
    )
    if "form" in s.parts:
        entry["form"] = generated_form(pieces)
    if "music" in s.parts:
        entry["music"] = music_report(pieces, inputs.real)
    if inputs.index is not None:
        matches = {g: [find_copied_run(p.score, inputs.index) for p in ps] for g, ps in pieces.items()}
        labels = {g: [f"seed {p.request.seed}" for p in ps] for g, ps in pieces.items()}
        entry["originality"] = originality_summary(matches, inputs.index, labels)
    if samples_dir is not None:
        entry["samples"] = [str(p) for p in write_samples(pieces, samples_dir, inputs.samples_to_write)]
    return entry


def sampler(s: EvalSettings) -> SamplingParams | None:
    """The balanced preset with the settings' overrides, or None when there are none."""
    overrides = (s.repetition_penalty, s.key_bias, s.cadence, s.phrase_return)
    if all(v is None for v in overrides):
        return None
    base = Creativity.BALANCED.params
    return dataclasses.replace(
        base,
        repetition_penalty=base.repetition_penalty if s.repetition_penalty is None else s.repetition_penalty,
        key_bias=base.key_bias if s.key_bias is None else s.key_bias,
        cadence=base.cadence if s.cadence is None else s.cadence,
        phrase_return=base.phrase_return if s.phrase_return is None else s.phrase_return,
    )


def _context(ck: Checkpoint) -> int:
    """Longest window the checkpoint was built for (its training block size)."""
    return int(ck.model.context)  # a property of both architectures


def write_evaluation(checkpoint_path: Path, model_report: dict[str, Any], report: dict[str, Any]) -> None:
    """Store one model's figures (with the settings and corpus they were measured with) in its model.json."""
    meta = read_meta(checkpoint_path)
    meta["evaluation"] = {
        **{k: v for k, v in model_report.items() if k not in ("checkpoint", "samples")},
        "settings": report["settings"],
        "corpus": report["corpus"],
    }
    path = checkpoint_path / "model.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1, sort_keys=True))  # same layout as save_checkpoint writes
    tmp.replace(path)


def default_checkpoints(root: Path | None = None) -> list[Path]:
    """The shipped checkpoints that exist (model/checkpoints/<kind>), transformer first."""
    import model

    root = root or Path(model.__file__).resolve().parent / "checkpoints"
    kinds = ("transformer", "transformer_v1", "lstm")
    return [root / kind for kind in kinds if (root / kind / "model.json").exists()]


def nan_to_none(data: Any) -> Any:
    """JSON has no NaN: undefined figures become null."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: nan_to_none(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [nan_to_none(v) for v in data]
    if isinstance(data, np.generic):
        return nan_to_none(data.item())
    return data
