"""What a reply says about what was made: what was kept and what is new, and a key the music missed."""

from __future__ import annotations

from typing import Protocol

from model.parts import part_name
from model.request import GeneratedPiece, Task


class ComposeRequest(Protocol):
    """What the remarks read of a bot.pipeline.ComposeRequest."""

    @property
    def genre(self) -> str: ...
    @property
    def key(self) -> str | None: ...
    @property
    def task(self) -> Task: ...
    @property
    def given_parts(self) -> tuple[int, ...]: ...


def key_remarks(req: ComposeRequest, piece: GeneratedPiece) -> tuple[str, ...]:
    """Say so when the music settled in another key than the one the member asked for."""
    if req.key and piece.key != piece.key_requested:
        return (f"You asked for {piece.key_requested}; the music settled in {piece.key}.",)
    return ()


def task_remarks(req: ComposeRequest, piece: GeneratedPiece) -> tuple[str, ...]:
    """What was kept and what is new, in the member's words ("bars 1–4 and 9–16 are yours; 5–8 are new")."""
    if req.task is Task.INFILL and piece.new_bars:
        a, b = piece.new_bars
        kept = [r for r in ((1, a - 1), (b + 1, piece.bars)) if r[0] <= r[1]]
        new = f"{_bar_range((a, b))} {'is' if a == b else 'are'} new"
        if not kept:
            return (f"{new[0].upper()}{new[1:]}.",)
        yours = " and ".join(_bar_range(r) for r in kept)
        return (f"{yours[0].upper()}{yours[1:]} {'is' if kept == [(a - 1, a - 1)] else 'are'} yours; {new}.",)
    if req.task is Task.FILL:
        count = len(piece.score.tracks)
        written = sorted({int(t.program) for t in piece.score.tracks} - set(req.given_parts))
        names = [part_name(req.genre, p, count) for p in written]
        if not names:
            return ("Cadenza found nothing to add under your melody.",)
        listed = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
        return (f"Your melody, unchanged, with {listed} by Cadenza.",)
    return ()


def _bar_range(r: tuple[int, int]) -> str:
    return f"bar {r[0]}" if r[0] == r[1] else f"bars {r[0]}–{r[1]}"
