"""Composer v2's grammar as logit masks: every sampled sequence decodes, given material comes back verbatim.

After the prompt, a row writes bars: `Bar TimeSig Left` (both forced: the asked metre, and the bars
left), then part blocks `Part_p (Position Pitch Duration)*` with parts ascending and positions moving
forward inside a block, then the next `Bar` — or EOS where the asked number of bars is written. In the
fill task the given parts' blocks of each bar are queued as forced tokens right after its `Left`, so
the model writes the other parts under them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from model.grammar import TYPES as V1_TYPES
from model.grammar import Vocabulary
from model.parts import MAX_PARTS, PartTokenizer

# v1's token types plus v2's, and "Start": no token has it, it is the state after a prompt (only a Bar may come).
TYPES = (*V1_TYPES, "Left", "Part", "Task", "Given", "FillAfter", "FillBefore", "Start")
NEXT: dict[str, tuple[str, ...]] = {
    "Start": ("Bar",),
    "Bar": ("TimeSig",),
    "TimeSig": ("Left",),
    "Left": ("Part", "Bar", "EOS"),
    "Part": ("Position",),
    "Position": ("Pitch",),
    "Pitch": ("Duration",),
    "Duration": ("Pitch", "Position", "Part", "Bar", "EOS"),
    "EOS": ("PAD",),
    "PAD": ("PAD",),
}
MAX_NOTES_PER_POSITION = 4  # a part may play a chord (double stops, a piano part), not a cluster


def part_vocabulary(tok: PartTokenizer) -> Vocabulary:
    """Per-id facts for v2 tokens (the v1 class, with v2's types and order)."""
    return Vocabulary(tok, TYPES, NEXT)


@dataclass
class PartGrammar:
    """Grammar state of one v2 row, from the end of its prompt."""

    vocab: Vocabulary
    tok: PartTokenizer
    time_sig_id: int
    new_bars: int  # bars this row writes; EOS comes where bar new_bars + 1 would start
    first_left: int  # bars left (the Left value) of the first bar written
    max_parts: int = 6  # parts the model may write: Part_0 .. Part_{max_parts - 1}
    given_bars: Sequence[list[int]] = ()  # fill task: forced tokens for each written bar
    given_parts: frozenset[int] = frozenset()
    last_type: str = "Start"
    bars: int = 0
    part: int = -1  # the part block being written (-1 between blocks)
    free_part: int = -1  # highest non-given part written in this bar
    position: int = -1
    notes_here: int = 0
    notes_total: int = 0
    finished: bool = False
    forced: deque[int] = field(default_factory=deque)
    returns: dict[int, int] = field(default_factory=dict)  # bar -> earlier bar whose top part it repeats
    bodies: list[list[int]] = field(default_factory=list)  # each written bar's top-part block (Part_0 ...)
    closed_part: int = -1  # a phrase return's top part: written as forced, nothing may be added to it

    def __post_init__(self) -> None:
        v = self.vocab
        self._positions = torch.from_numpy(v.position)
        self._bar_len = int(v.bar_positions[self.time_sig_id])
        self._part_ids = [self.tok.part_id(p) for p in range(MAX_PARTS)]
        self._cache: dict[tuple[object, ...], torch.Tensor] = {}

    @property
    def bars_left(self) -> int:
        """The Left value of the bar being written (1: the piece's last bar; 0 before the first)."""
        return self.first_left - self.bars + 1 if self.bars else 0

    def allowed(self) -> torch.Tensor:
        """Boolean mask (V,) of ids that may come next (shared between calls: do not modify it)."""
        if self.forced:
            return self._one(self.forced[0])
        if self.last_type == "Bar":
            return self._one(self.time_sig_id)
        if self.last_type == "TimeSig":
            return self._one(self.tok.left_id(self.first_left - self.bars + 1))
        key = (
            self.last_type,
            self.position,
            self.free_part,
            self.bars >= self.new_bars,
            self.notes_here >= MAX_NOTES_PER_POSITION,
            self.notes_total > 0,
            self.part in self.given_parts or self.part == self.closed_part,
            self.closed_part,
        )
        mask = self._cache.get(key)
        if mask is None:
            mask = self._cache[key] = self._build_mask()
        return mask

    def _one(self, token_id: int) -> torch.Tensor:
        key = ("one", token_id)
        mask = self._cache.get(key)
        if mask is None:
            mask = torch.zeros(self.vocab.size, dtype=torch.bool)
            mask[token_id] = True
            self._cache[key] = mask
        return mask

    def _build_mask(self) -> torch.Tensor:
        v = self.vocab
        mask = v.next_masks[self.last_type].clone()
        inside = (self._positions > self.position) & (self._positions < self._bar_len)
        mask &= ~v.type_masks["Position"] | inside
        for p, pid in enumerate(self._part_ids):
            writable = (
                p < self.max_parts
                and p > self.free_part
                and p not in self.given_parts
                and p != self.closed_part
            )
            mask[pid] = bool(mask[pid]) and writable
        if self.notes_here >= MAX_NOTES_PER_POSITION:
            mask &= ~v.type_masks["Pitch"]
        if self.part in self.given_parts or self.part == self.closed_part:  # exactly what was given
            mask &= ~v.type_masks["Pitch"] & ~v.type_masks["Position"]
        ending = self.bars >= self.new_bars
        mask[v.eos_id] = bool(mask[v.bar_id] or mask[v.eos_id]) and ending and self.notes_total > 0
        if ending:
            mask[v.bar_id] = False
        if not mask.any():
            mask[v.eos_id] = True
        return mask

    def advance(self, token_id: int) -> None:
        """Update the state with the token that was chosen (or forced)."""
        if self.forced and self.forced[0] == token_id:
            self.forced.popleft()
        kind = self.vocab.type_of(token_id)
        if kind == "Bar":
            self.bars += 1
            self.part = self.free_part = self.position = -1
            self.closed_part = -1
            if self.returns:
                self.bodies.append([])
        elif kind == "Left":
            if self.bars <= len(self.given_bars):
                self.forced.extend(self.given_bars[self.bars - 1])
            elif self.bars in self.returns:  # a phrase return: the earlier bar's tune, note for note
                block = self.bodies[self.returns[self.bars] - 1]
                self.forced.extend(block)
                self.closed_part = 0  # a silent opening returns as silence: no Part_0 block is opened
        elif kind == "Part":
            self.part = int(self.tok.part_of[token_id])
            if self.part not in self.given_parts:
                self.free_part = self.part
            self.position, self.notes_here = -1, 0
        elif kind == "Position":
            self.position, self.notes_here = int(self.vocab.position[token_id]), 0
        elif kind == "Pitch":
            self.notes_here += 1
            self.notes_total += 1
        elif kind == "EOS":
            self.finished = True
        if self.bodies and self.part == 0 and kind in ("Part", "Position", "Pitch", "Duration"):
            self.bodies[-1].append(token_id)
        self.last_type = kind
