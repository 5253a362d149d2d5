"""Turn a GenerationRequest into a concrete plan: key, metre, tempo, bar count and the prompt tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from cadenza.errors import BadInput
from cadenza.theory import KEY_NAMES, parse_key
from model.grammar import Vocabulary
from model.request import GenerationRequest
from model.tokenizer import CadenzaTokenizer


@dataclass(frozen=True)
class Plan:
    """Everything decided before the first token is sampled."""

    key_index: int
    time_signature: str
    time_sig_id: int
    tempo: float
    tempo_id: int
    target_bars: int  # bars in the whole output (primer bars + new bars)
    new_bars: int
    prompt: list[int]  # prefix + primer (or the opening Bar TimeSig)
    primer_len: int
    expected_tokens: int  # estimate of new tokens, for progress
    keep: int = 3  # prompt tokens kept in front when the window slides (the conditioning prefix)


def make_plan(
    req: GenerationRequest,
    tok: CadenzaTokenizer,
    vocab: Vocabulary,
    stats: dict[str, Any],
    rng: torch.Generator,
) -> Plan:
    """Resolve unset controls from the genre's statistics (choices drawn from the row's generator)."""
    if req.genre not in tok.genres:
        raise BadInput(f"unknown genre {req.genre!r}; choose one of: {', '.join(tok.genres)}")
    if not 1 <= req.seconds <= 600:
        raise BadInput("length must be between 1 and 600 seconds")
    gstats = stats.get(req.genre, {})
    key_index = _key_index(req, gstats, rng)
    primer = list(req.primer or ())
    metre = (
        req.time_signature
        or _primer_value(tok, primer, "TimeSig_")
        or _pick(gstats.get("time_signatures", {}), rng)
        or "4/4"
    )
    if f"TimeSig_{metre}" not in tok.vocab:
        raise BadInput(f"time signature {metre} is not supported; try 4/4, 3/4, 2/4, 6/8 or 2/2")
    tempo = req.tempo or _float(_primer_value(tok, primer, "Tempo_")) or float(gstats.get("tempo", 100.0))
    if not 20 <= tempo <= 300:
        raise BadInput("tempo must be between 20 and 300 beats per minute")
    num, den = (int(x) for x in metre.split("/"))
    bar_seconds = num * 4 / den * 60.0 / tempo
    new_bars = max(1, math.ceil(req.seconds / bar_seconds - 1e-6))
    primer_bars = sum(1 for t in primer if t == tok.bar_id)
    prompt = tok.prefix(req.genre, key_index) + (primer or [tok.bar_id, tok.vocab[f"TimeSig_{metre}"]])
    per_bar = float(gstats.get("tokens_per_bar", 30.0))
    return Plan(
        key_index=key_index,
        time_signature=metre,
        time_sig_id=tok.vocab[f"TimeSig_{metre}"],
        tempo=float(tempo),
        tempo_id=vocab.nearest_tempo(tempo),
        target_bars=primer_bars + new_bars,
        new_bars=new_bars,
        prompt=prompt,
        primer_len=len(primer),
        expected_tokens=int(new_bars * per_bar) + 2,
    )


def _key_index(req: GenerationRequest, gstats: dict[str, Any], rng: torch.Generator) -> int:
    if req.key:
        try:
            return parse_key(req.key).index
        except ValueError as e:
            raise BadInput(str(e)) from e
    pick = _pick(gstats.get("keys", {}), rng)
    return int(pick) if pick is not None else KEY_NAMES.index("C major")


def _pick(freqs: dict[str, int], rng: torch.Generator) -> str | None:
    """A value drawn in proportion to its frequency, reproducibly from the row's generator."""
    if not freqs:
        return None
    names = sorted(freqs)
    weights = torch.tensor([float(freqs[n]) for n in names])
    return names[int(torch.multinomial(weights, 1, generator=rng).item())]


def _primer_value(tok: CadenzaTokenizer, primer: list[int], prefix: str) -> str | None:
    for t in primer:
        name = tok.id_to_token.get(t, "")
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


def _float(text: str | None) -> float | None:
    return float(text) if text else None
