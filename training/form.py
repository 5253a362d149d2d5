"""Form and endings of a piece: do phrases return, does it close on the tonic, do its onsets lean on strong beats.

All figures are read from the notes alone (any model, any token format, real music alike):

- `repeats_2_bars`: the top line has a 2-bar phrase (its intervals and onsets) that comes back later,
  starting on a bar line at least two bars on (transposed returns count: a sequence is form too).
- `self_repeat_share`: the longest run of bars that recurs exactly, as a share of the piece's bars
  (form is not copying: a piece that is half one repeated block scores 0.5).
- `ends_on_tonic`: the final sonority's lowest note is the key's tonic. (Whether it also starts on a
  bar line is not asked: music21 exports pickup bars unpadded, so a real chorale's final chord often
  sits off the MIDI bar grid.)
- `strong_beat_share`: share of onsets on the metre's strong beats (the downbeat, and the middle of
  4/4, 6/8 and 12/8 bars).
- `end_pileup`: the final sonority holds two or more notes more than the piece's 95th-percentile one.
- `tripled_pitch`: some sonority strikes one pitch three times or more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadenza.theory import KEY_NAMES
from model.notes import Notes, notes_of
from model.originality import top_line
from model.request import GeneratedPiece
from model.tokenizer import CadenzaTokenizer
from training.token_store import TokenSplit

STRONG_SPLIT = (4, 6, 12)  # metres (by numerator) whose bar has a second strong beat half-way


@dataclass(frozen=True)
class Form:
    """The form figures of one piece."""

    repeats_2_bars: bool
    self_repeat_share: float
    ends_on_tonic: bool
    strong_beat_share: float
    end_pileup: bool
    tripled_pitch: bool


def form_of(notes: Notes, tonic: int, numerator: int) -> Form:
    """Form figures of a piece whose key has pitch class `tonic` and whose metre has `numerator` beats."""
    groups = _onset_groups(notes)
    sizes = np.array([len(g) for g in groups]) if groups else np.zeros(0, int)
    last = groups[-1] if groups else np.zeros(0, int)
    return Form(
        repeats_2_bars=_repeats(top_line(notes), 2),
        self_repeat_share=_self_repeat_share(notes),
        ends_on_tonic=_ends_on_tonic(notes, last, tonic),
        strong_beat_share=_strong_share(notes, numerator),
        end_pileup=bool(len(sizes) and sizes[-1] >= np.percentile(sizes, 95) + 2),
        tripled_pitch=any(np.bincount(notes.pitch[g].astype(np.int64)).max() >= 3 for g in groups),
    )


def _onset_groups(notes: Notes) -> list[np.ndarray]:
    """Indices of the notes starting together, onset by onset (notes are sorted by onset)."""
    if len(notes) == 0:
        return []
    cuts = np.flatnonzero(np.diff(notes.onset) > 1e-6) + 1
    return np.split(np.arange(len(notes)), cuts)


def _bar_signatures(line: Notes) -> dict[int, tuple[tuple[float, int], ...]]:
    """Per bar: (onset in the bar, interval from the previous note) of each top-line note."""
    qpb = line.quarters_per_bar
    bars: dict[int, list[tuple[float, int]]] = {}
    prev = None
    for onset, pitch in zip(line.onset, line.pitch.astype(int), strict=True):
        bar = int(onset // qpb + 1e-9)
        step = 0 if prev is None else pitch - prev
        bars.setdefault(bar, []).append((round(float(onset - bar * qpb), 3), step))
        prev = pitch
    return {b: tuple(v) for b, v in bars.items()}


def _repeats(line: Notes, span: int) -> bool:
    """Whether a `span`-bar phrase (3+ notes) of the line returns, starting `span` or more bars later."""
    sig = _bar_signatures(line)
    if not sig:
        return False
    n = max(sig) + 1
    seen: dict[tuple[object, ...], int] = {}
    for b in range(n - span + 1):
        phrase = tuple(_relative(sig.get(b + k, ())) if k == 0 else sig.get(b + k, ()) for k in range(span))
        if sum(len(p) for p in phrase) < 3:
            continue
        if phrase in seen and b - seen[phrase] >= span:
            return True
        seen.setdefault(phrase, b)
    return False


def _relative(bar: tuple[tuple[float, int], ...]) -> tuple[tuple[float, int], ...]:
    """A phrase's first note carries no interval from what came before it (so a phrase may return anywhere)."""
    return ((bar[0][0], 0), *bar[1:]) if bar else bar


def _self_repeat_share(notes: Notes) -> float:
    """Longest run of bars that recurs exactly (all voices, same pitches), over the piece's bars."""
    qpb = notes.quarters_per_bar
    bar_of = (notes.onset // qpb + 1e-9).astype(int)
    if len(bar_of) == 0:
        return 0.0
    n = int(bar_of.max()) + 1
    content = [
        tuple(
            zip(
                np.round(notes.onset[bar_of == b] - b * qpb, 3),
                notes.pitch[bar_of == b].astype(int),
                strict=True,
            )
        )
        for b in range(n)
    ]
    best = 0
    for i in range(n):
        for j in range(i + 1, n):
            k = 0
            while j + k < n and i + k < j and content[i + k] and content[i + k] == content[j + k]:
                k += 1
            best = max(best, k)
    return best / n


def _ends_on_tonic(notes: Notes, last: np.ndarray, tonic: int) -> bool:
    return bool(len(last) and int(notes.pitch[last].min()) % 12 == tonic % 12)


def _strong_share(notes: Notes, numerator: int) -> float:
    if len(notes) == 0:
        return float("nan")
    unit = notes.quarters_per_bar / (2 if numerator in STRONG_SPLIT else 1)
    onsets = np.unique(np.round(notes.onset, 4))
    return float(np.mean(np.isclose(np.mod(onsets + 1e-6, unit), 0.0, atol=1e-3)))


def summarise(forms: list[Form]) -> dict[str, float | None]:
    """Shares (and the mean strong-beat share) over a set of pieces, in the report's JSON keys."""
    if not forms:
        return {}
    share = lambda attr: round(float(np.mean([getattr(f, attr) for f in forms])), 3)  # noqa: E731
    strong = [f.strong_beat_share for f in forms if np.isfinite(f.strong_beat_share)]
    return {
        "pieces": len(forms),
        "repeats_2_bars": share("repeats_2_bars"),
        "ends_on_tonic": share("ends_on_tonic"),
        "strong_beat_share": round(float(np.mean(strong)), 3) if strong else None,
        "end_pileup": share("end_pileup"),
        "tripled_pitch": share("tripled_pitch"),
        "self_repeat_share_max": round(max(f.self_repeat_share for f in forms), 3),
        "self_repeat_over_half": share_over_half(forms),
    }


def share_over_half(forms: list[Form]) -> float:
    """Share of pieces whose longest exact self-repeat covers more than half of them."""
    return round(float(np.mean([f.self_repeat_share > 0.5 for f in forms])), 3)


def generated_form(pieces: dict[str, list[GeneratedPiece]]) -> dict[str, dict[str, float | None]]:
    """Per genre: the form summary of sampled pieces, against the key each was asked for."""
    out = {}
    for genre, ps in pieces.items():
        forms = [
            form_of(
                notes_of(p.score), KEY_NAMES.index(p.key_requested) % 12, int(p.time_signature.split("/")[0])
            )
            for p in ps
        ]
        out[genre] = summarise(forms)
    return out


def real_form(
    test: TokenSplit, tok: CadenzaTokenizer, seconds: float, per_genre: int
) -> dict[str, dict[str, float | None]]:
    """Per genre: the form summary of the last `seconds` of held-out real pieces (real endings)."""
    out = {}
    for gi, genre in enumerate(tok.genres):
        forms = []
        for i in np.flatnonzero(test.index["genre"] == gi)[:per_genre]:
            score = tok.decode(np.asarray(test.piece(int(i))).tolist())
            notes = notes_of(score)
            if len(notes) < 4:
                continue
            start = int(np.searchsorted(notes.seconds, notes.end_seconds - seconds))
            start = _bar_start(notes, start)
            ts = score.time_signatures[0].numerator if len(score.time_signatures) else 4
            forms.append(form_of(notes.excerpt(start, seconds + 60.0), int(test.index[i]["key"]) % 12, ts))
        if forms:
            out[genre] = summarise(forms)
    return out


def _bar_start(notes: Notes, i: int) -> int:
    """The first note at or after index i that starts on a bar line (else i)."""
    qpb = notes.quarters_per_bar
    for j in range(min(i, len(notes) - 1), len(notes)):
        if abs(notes.onset[j] / qpb - round(notes.onset[j] / qpb)) < 1e-3:
            return j
    return min(i, len(notes) - 1)
