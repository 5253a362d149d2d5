"""MIDI uploads are checked before parsing, cleaned, and trimmed to the primer length."""

from __future__ import annotations

import struct

import pretty_midi
import pytest

from cadenza.errors import BadInput, TooLong
from ingest import IngestSettings, UploadKind, ingest_bytes
from tests.ingest.conftest import midi_bytes, simple_score

SETTINGS = IngestSettings()


def _smf(*tracks: bytes, ppq: int = 480) -> bytes:
    """A format-1 Standard MIDI File from raw track bodies."""
    head = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), ppq)
    return head + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


END = b"\x00\xff\x2f\x00"


def test_reads_a_midi_file_into_a_primer() -> None:
    primer = ingest_bytes(midi_bytes(simple_score()), SETTINGS)
    assert primer.kind is UploadKind.MIDI and primer.audio is None
    assert primer.tempo_bpm == pytest.approx(120.0)
    assert primer.key.name == "C major"
    assert sum(len(i.notes) for i in primer.score.instruments) == 16


def test_drum_tracks_are_dropped_and_the_user_told() -> None:
    primer = ingest_bytes(midi_bytes(simple_score(drums=True)), SETTINGS)
    assert not any(i.is_drum for i in primer.score.instruments)
    assert "dropped 1 drum track" in primer.notes


def test_long_midi_is_trimmed_to_the_primer_length() -> None:
    primer = ingest_bytes(midi_bytes(simple_score(notes=200, seconds_per_note=0.5)), SETTINGS)  # 100 s
    assert primer.score.get_end_time() <= SETTINGS.max_seconds
    assert primer.duration_s == SETTINGS.max_seconds
    assert "used the first 30 s" in primer.notes


def test_empty_midi_is_refused() -> None:
    with pytest.raises(BadInput, match="no notes"):
        ingest_bytes(_smf(END), SETTINGS)


def test_midi_without_tracks_is_refused() -> None:
    with pytest.raises(BadInput, match="no tracks"):
        ingest_bytes(b"MThd" + struct.pack(">IHHH", 6, 1, 0, 480), SETTINGS)


def test_a_million_notes_are_refused_by_size_before_parsing() -> None:
    body = b"\x00\x90\x3c\x40" + b"\x01\x3c\x00\x00\x3c\x40" * 1_000_000 + END
    with pytest.raises(TooLong, match="too large"):
        ingest_bytes(_smf(body), SETTINGS)


def test_a_million_notes_are_refused_by_count_when_size_allows() -> None:
    body = b"\x00\x90\x3c\x40" + b"\x01\x3c\x00\x00\x3c\x40" * 1_000_000 + END
    settings = IngestSettings(max_upload_bytes=64 << 20, midi_max_bytes=64 << 20)
    with pytest.raises(TooLong, match="more than 20,000 notes"):
        ingest_bytes(_smf(body), settings)


@pytest.mark.parametrize(
    ("tempo", "shown"),
    [(b"\x00\x00\x00", "zero"), (b"\x00\x00\x01", "6e\\+07 bpm"), (b"\xff\xff\xff", "3.576 bpm")],
)
def test_zero_or_absurd_tempo_is_refused(tempo: bytes, shown: str) -> None:
    body = b"\x00\xff\x51\x03" + tempo + b"\x00\x90\x3c\x40\x60\x80\x3c\x00" + END
    with pytest.raises(BadInput, match=f"impossible tempo \\({shown}\\)"):
        ingest_bytes(_smf(body), SETTINGS)


def test_a_delta_time_of_years_is_refused_without_allocating() -> None:
    body = b"\x00\x90\x3c\x40\xff\xff\xff\x7f\x80\x3c\x00" + END  # 268 million ticks
    with pytest.raises(TooLong, match="absurdly long"):
        ingest_bytes(_smf(body), SETTINGS)


def test_too_many_tracks_are_refused() -> None:
    with pytest.raises(TooLong, match="more than 64 tracks"):
        ingest_bytes(_smf(*[END] * 65), SETTINGS)


@pytest.mark.parametrize(
    "data",
    [
        _smf(b"\x00\x90\x3c"),  # a note cut in half
        _smf(b"\x00\x3c\x40" + END),  # running status with nothing to run on
        _smf(END)[:-2],  # the chunk is shorter than it says
        b"MThd\x00\x00\x00\x06\x00\x01",  # header cut off
    ],
)
def test_truncated_or_damaged_midi_is_refused(data: bytes) -> None:
    with pytest.raises(BadInput, match="truncated or damaged"):
        ingest_bytes(data, SETTINGS)


def test_smpte_timed_midi_is_refused() -> None:
    with pytest.raises(BadInput, match="SMPTE"):
        ingest_bytes(_smf(END, ppq=0xE728), SETTINGS)


def test_declared_key_signature_wins_over_estimate() -> None:
    score = simple_score()
    score.key_signature_changes.append(
        pretty_midi.KeySignature(pretty_midi.key_name_to_key_number("D minor"), 0.0)
    )
    assert ingest_bytes(midi_bytes(score), SETTINGS).key.name == "D minor"
