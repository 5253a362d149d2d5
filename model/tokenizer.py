"""Cadenza's token vocabulary: miditok REMI for the music, plus conditioning tokens in front.

A sequence reads `BOS Genre_<g> Key_<k> Bar TimeSig_4/4 Position_0 Tempo_96.0 Pitch_60 Duration_1.0.8 ...
EOS`. All voices of a piece share one stream (no Program tokens: render voices the parts itself) and
velocities are dropped (our corpus has none worth learning), so a note costs ~2.4 tokens: the cheapest
REMI that still keeps bars, positions, tempo and metre, which the engine needs to honour controls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import miditok
import numpy as np
import symusic

from cadenza.errors import CheckpointError
from cadenza.theory import KEY_NAMES


@dataclass(frozen=True)
class TokenizerParams:
    """The REMI configuration, kept as plain JSON-able values so checkpoints describe themselves."""

    pitch_range: tuple[int, int] = (21, 109)  # piano range; everything in the corpus fits
    beat_res: tuple[tuple[int, int, int], ...] = ((0, 4, 8), (4, 12, 4))  # (from beat, to beat, steps/beat)
    num_tempos: int = 32  # tempo buckets between tempo_range (about 7 bpm apart)
    tempo_range: tuple[int, int] = (40, 250)
    time_signature_range: dict[int, list[int]] = field(
        default_factory=lambda: {8: [3, 6, 9, 12], 4: [1, 2, 3, 4, 5, 6], 2: [1, 2, 3, 4]}
    )

    def to_miditok(self) -> miditok.TokenizerConfig:
        """The equivalent miditok config."""
        return miditok.TokenizerConfig(
            pitch_range=tuple(self.pitch_range),
            beat_res={(a, b): r for a, b, r in self.beat_res},
            special_tokens=["PAD", "BOS", "EOS"],
            use_velocities=False,
            use_tempos=True,
            use_time_signatures=True,
            use_programs=False,
            num_tempos=self.num_tempos,
            tempo_range=tuple(self.tempo_range),
            # Denominators in descending order whatever the source order (JSON may sort keys): token ids depend on it.
            time_signature_range={
                int(k): list(v)
                for k, v in sorted(self.time_signature_range.items(), key=lambda kv: -int(kv[0]))
            },
            delete_equal_successive_tempo_changes=True,
            delete_equal_successive_time_sig_changes=True,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenizerParams:
        """Inverse of `asdict` after a JSON round trip."""
        return cls(
            pitch_range=(int(data["pitch_range"][0]), int(data["pitch_range"][1])),
            beat_res=tuple((int(a), int(b), int(r)) for a, b, r in data["beat_res"]),
            num_tempos=int(data["num_tempos"]),
            tempo_range=(int(data["tempo_range"][0]), int(data["tempo_range"][1])),
            time_signature_range={
                int(k): [int(x) for x in v] for k, v in data["time_signature_range"].items()
            },
        )


class CadenzaTokenizer:
    """REMI tokens for the music plus `Genre_*` and `Key_*` conditioning tokens appended to the vocabulary."""

    def __init__(self, genres: Sequence[str], params: TokenizerParams | None = None) -> None:
        self.params = params or TokenizerParams()
        self.genres = list(genres)
        self.remi = miditok.REMI(self.params.to_miditok())
        self.vocab: dict[str, int] = dict(self.remi.vocab)
        base = len(self.vocab)
        for i, g in enumerate(self.genres):
            self.vocab[f"Genre_{g}"] = base + i
        for i in range(len(KEY_NAMES)):
            self.vocab[f"Key_{i}"] = base + len(self.genres) + i
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.pad_id, self.bos_id, self.eos_id = (
            self.vocab["PAD_None"],
            self.vocab["BOS_None"],
            self.vocab["EOS_None"],
        )
        self.bar_id = self.vocab["Bar_None"]
        # pitch_of[id] = MIDI pitch for Pitch_* tokens, -1 otherwise; pitch_token[p] = id of Pitch_p or -1.
        self.pitch_of = np.full(len(self.vocab), -1, dtype=np.int16)
        self.pitch_token = np.full(128, -1, dtype=np.int64)
        for tok, i in self.vocab.items():
            if tok.startswith("Pitch_"):
                p = int(tok.split("_")[1])
                self.pitch_of[i], self.pitch_token[p] = p, i

    def __len__(self) -> int:
        return len(self.vocab)

    def genre_id(self, genre: str) -> int:
        """Token id of a genre's conditioning token."""
        return self.vocab[f"Genre_{genre}"]

    def key_id(self, key_index: int) -> int:
        """Token id of a key's conditioning token (0-11 major C..B, 12-23 minor)."""
        return self.vocab[f"Key_{key_index}"]

    def prefix(self, genre: str, key_index: int) -> list[int]:
        """The conditioning prefix that starts every sequence."""
        return [self.bos_id, self.genre_id(genre), self.key_id(key_index)]

    def encode_score(self, score: symusic.Score) -> list[int]:
        """REMI ids of a score, all tracks merged into one stream (no prefix, no EOS)."""
        seqs = self.remi.encode(merge_tracks(score))
        seq = seqs[0] if isinstance(seqs, list) else seqs
        return list(seq.ids)

    def decode(self, ids: Sequence[int]) -> symusic.Score:
        """A score from ids; conditioning and special tokens are ignored."""
        music = [
            i for i in ids if i < len(self.remi.vocab) and i not in (self.pad_id, self.bos_id, self.eos_id)
        ]
        return self.remi.decode([music])

    def transpose(self, ids: np.ndarray, semitones: int) -> np.ndarray:
        """Shift every Pitch token (and a Key token) by `semitones`; the caller keeps pitches in range."""
        out = ids.copy()
        is_pitch = self.pitch_of[out] >= 0
        out[is_pitch] = self.pitch_token[self.pitch_of[out[is_pitch]] + semitones]
        key_base = self.vocab["Key_0"]
        is_key = (out >= key_base) & (out < key_base + 24)
        k = out[is_key] - key_base
        out[is_key] = key_base + (k // 12) * 12 + (k % 12 + semitones) % 12
        return out

    def to_json(self) -> dict[str, Any]:
        """What a checkpoint stores to rebuild (and verify) this tokenizer."""
        return {"params": asdict(self.params), "genres": self.genres, "vocab": self.vocab}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CadenzaTokenizer:
        """Rebuild from `to_json`; a vocabulary that differs from the stored one is a CheckpointError."""
        tok = cls(data["genres"], TokenizerParams.from_json(data["params"]))
        if tok.vocab != {str(k): int(v) for k, v in data["vocab"].items()}:
            raise CheckpointError(
                "the checkpoint's token vocabulary does not match this version of the tokenizer "
                "(miditok version or tokenizer settings changed); retrain or install the matching version"
            )
        return tok


def merge_tracks(score: symusic.Score) -> symusic.Score:
    """One non-drum track holding every note of the score (drums dropped), tempos and metres kept."""
    merged = symusic.Score(score.ticks_per_quarter)
    track = symusic.Track(program=0, is_drum=False)
    notes = [n for tr in score.tracks if not tr.is_drum for n in tr.notes]
    notes.sort(key=lambda n: (n.time, n.pitch, n.duration))
    for n in notes:
        track.notes.append(n)
    merged.tracks.append(track)
    merged.tempos = score.tempos
    merged.time_signatures = score.time_signatures
    return merged
