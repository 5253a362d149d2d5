"""The token grammar as logit masks, so every sampled sequence decodes (anticipation's `safe_logits` idea).

Per row we track the last token's type, the current bar's position and length, and how many bars
were written. From that, `allowed()` says which ids may come next: types follow the REMI order
(Bar TimeSig Position [Tempo] Pitch Duration ...), positions only move forward inside the bar, the
time signature and tempo stay those the user asked for, and EOS comes exactly at the target bar line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.tokenizer import CadenzaTokenizer

MAX_NOTES_PER_POSITION = 8  # densest chord the grammar lets through
TYPES = (
    "PAD",
    "BOS",
    "EOS",
    "Bar",
    "TimeSig",
    "Position",
    "Tempo",
    "Pitch",
    "Duration",
    "PitchDrum",
    "Genre",
    "Key",
)
NEXT: dict[str, tuple[str, ...]] = {
    "BOS": ("Genre",),
    "Genre": ("Key",),
    "Key": ("Bar",),
    "Bar": ("TimeSig",),
    "TimeSig": ("Position", "Bar"),
    "Position": ("Tempo", "Pitch"),
    "Tempo": ("Pitch", "Position", "Bar"),
    "Pitch": ("Duration",),
    "Duration": ("Pitch", "Position", "Bar", "EOS"),
    "EOS": ("PAD",),
    "PAD": ("PAD",),
}


class Vocabulary:
    """Per-id facts the grammar needs, computed once per tokenizer."""

    def __init__(
        self,
        tok: CadenzaTokenizer,
        types: tuple[str, ...] = TYPES,
        next_types: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.types = types
        nxt = NEXT if next_types is None else next_types
        self.size = len(tok)
        self.type_index = np.zeros(self.size, dtype=np.int64)
        self.position = np.full(self.size, -1, dtype=np.int64)  # Position_k -> k
        self.bar_positions = np.zeros(self.size, dtype=np.int64)  # TimeSig_n/d -> positions per bar
        self.tempo = np.zeros(self.size, dtype=np.float64)  # Tempo_x -> bpm
        for token, i in tok.vocab.items():
            kind, _, value = token.partition("_")
            self.type_index[i] = types.index(kind)
            if kind == "Position":
                self.position[i] = int(value)
            elif kind == "TimeSig":
                self.bar_positions[i] = int(value.split("/")[0]) * max(r for _, _, r in tok.params.beat_res)
            elif kind == "Tempo":
                self.tempo[i] = float(value)
        self.type_masks = {t: torch.from_numpy(self.type_index == types.index(t)) for t in types}
        self.next_masks = {
            t: torch.stack([self.type_masks[n] for n in after]).any(0) for t, after in nxt.items()
        }
        self.eos_id, self.bar_id = tok.eos_id, tok.bar_id
        self.ids_of = {t: np.flatnonzero(self.type_index == types.index(t)) for t in types}
        self._after: dict[int, torch.Tensor] = {}
        # Grammar states repeat endlessly (a few hundred per metre and tempo), so each state's mask is
        # built once and shared by every row: a decode step costs a dict lookup per row, not ten tensor ops.
        self.mask_cache: dict[tuple[int, int, str, int, bool, bool, bool], torch.Tensor] = {}

    def positions_after(self, time_sig_id: int) -> torch.Tensor:
        """(bar_len + 1, V) masks: row p + 1 allows every non-Position token and positions after p in the bar."""
        if time_sig_id not in self._after:
            bar_len = int(self.bar_positions[time_sig_id])
            pos = torch.from_numpy(self.position)
            not_pos = ~self.type_masks["Position"]
            rows = [not_pos | ((pos > p) & (pos < bar_len)) for p in range(-1, bar_len)]
            self._after[time_sig_id] = torch.stack(rows)
        return self._after[time_sig_id]

    def type_of(self, token_id: int) -> str:
        """The type name of a token id."""
        return self.types[int(self.type_index[token_id])]

    def nearest_tempo(self, bpm: float) -> int:
        """Id of the Tempo token closest to bpm."""
        ids = self.ids_of["Tempo"]
        return int(ids[np.argmin(np.abs(self.tempo[ids] - bpm))])


@dataclass
class RowGrammar:
    """Grammar state of one sequence being generated."""

    vocab: Vocabulary
    time_sig_id: int  # the only TimeSig token allowed
    tempo_id: int  # the only Tempo token allowed
    target_bars: int  # EOS is forced at the start of bar target_bars + 1
    last_type: str = "BOS"
    position: int = -1
    bars: int = 0
    finished: bool = False
    notes_here: int = 0  # notes started at the current position (caps polyphony, guarantees an end)
    notes_total: int = 0

    def __post_init__(self) -> None:
        v = self.vocab
        # Fixed for the whole row: only the requested metre and tempo may appear.
        self._static = (~v.type_masks["TimeSig"] | _only(v, self.time_sig_id)) & (
            ~v.type_masks["Tempo"] | _only(v, self.tempo_id)
        )
        self._after = v.positions_after(self.time_sig_id)
        self._no_pitch = ~v.type_masks["Pitch"]

    def allowed(self) -> torch.Tensor:
        """Boolean mask (V,) of ids that may come next (shared between rows: do not modify it)."""
        row = min(self.position + 1, self._after.shape[0] - 1)
        key = (
            self.time_sig_id,
            self.tempo_id,
            self.last_type,
            row,
            self.bars >= self.target_bars,
            self.notes_total > 0,
            self.notes_here >= MAX_NOTES_PER_POSITION,
        )
        mask = self.vocab.mask_cache.get(key)
        if mask is None:
            mask = self.vocab.mask_cache[key] = self._build_mask(row)
        return mask

    def _build_mask(self, row: int) -> torch.Tensor:
        v = self.vocab
        mask = v.next_masks[self.last_type] & self._static & self._after[row]
        if self.bars >= self.target_bars:
            # Long enough: the next bar line becomes the end of the piece (never a note-less one).
            mask[v.eos_id] = bool(mask[v.bar_id]) and self.notes_total > 0
            mask[v.bar_id] = False
        else:
            mask[v.eos_id] = False
        if self.notes_here >= MAX_NOTES_PER_POSITION:
            mask &= self._no_pitch
        if not mask.any():  # cannot happen with the rules above; never sample from an empty set
            mask[v.eos_id] = True
        return mask

    def advance(self, token_id: int) -> None:
        """Update the state with the token that was chosen."""
        kind = self.vocab.type_of(token_id)
        if kind == "Bar":
            self.bars += 1
            self.position, self.notes_here = -1, 0
        elif kind == "Position":
            self.position, self.notes_here = int(self.vocab.position[token_id]), 0
        elif kind == "Pitch":
            self.notes_here += 1
            self.notes_total += 1
        elif kind == "EOS":
            self.finished = True
        self.last_type = kind


def _only(v: Vocabulary, token_id: int) -> torch.Tensor:
    m = torch.zeros(v.size, dtype=torch.bool)
    m[token_id] = True
    return m
