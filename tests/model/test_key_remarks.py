"""A piece that settled in another key than the member asked for says so."""

from __future__ import annotations

import symusic

from bot.pipeline import ComposeRequest
from bot.remarks import key_remarks
from model.request import GeneratedPiece, GenerationRequest


def piece(key: str, asked: str) -> GeneratedPiece:
    return GeneratedPiece(
        request=GenerationRequest(genre="classical", seconds=10),
        tokens=[], score=symusic.Score(), key=key, key_requested=asked, tempo=100.0,
        time_signature="4/4", bars=4, primer_tokens=0, primer_end_s=0.0, model_name="t",
    )  # fmt: skip


def test_a_missed_key_is_said_and_a_met_one_is_not() -> None:
    asked = ComposeRequest(genre="classical", seconds=10, key="C minor")
    assert key_remarks(asked, piece("A♭ major", "C minor")) == (
        "You asked for C minor; the music settled in A♭ major.",
    )
    assert key_remarks(asked, piece("C minor", "C minor")) == ()
    assert key_remarks(ComposeRequest(genre="classical", seconds=10), piece("G major", "D major")) == ()
