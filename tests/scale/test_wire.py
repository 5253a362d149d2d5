"""What crosses Redis: requests, pieces, errors and progress survive the trip, and bad input is refused."""

from __future__ import annotations

import json
import pickle

import pytest
import symusic

from cadenza.errors import BadInput, Busy, CadenzaError, GenerationFailed, TooLong
from model.queues.wire import (
    error_from_json,
    error_to_json,
    piece_from_fields,
    piece_to_fields,
    progress_from_json,
    progress_to_json,
    request_from_json,
    request_to_json,
)
from model.request import GeneratedPiece, GenerationRequest, Progress
from model.sampling import Creativity, SamplingParams

REQUESTS = [
    GenerationRequest(genre="folk", seconds=20.0),
    GenerationRequest(
        genre="chorale",
        seconds=7.5,
        seed=2**62,
        key="D minor",
        tempo=72.0,
        time_signature="3/4",
        creativity=Creativity.ADVENTUROUS,
        sampling=SamplingParams(temperature=0.9, top_k=20, top_p=0.8),
        primer=(4, 5, 6, 7),
        timeout_s=30.0,
        request_id="abc123",
    ),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=["defaults", "every-field"])
def test_request_round_trips_through_json(request_: GenerationRequest) -> None:
    assert request_from_json(request_to_json(request_)) == request_


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"evil": 1}, "unknown request field 'evil'"),
        ({"seed": "7"}, "'seed' has the wrong type"),
        ({"seed": True}, "'seed' has the wrong type"),
        ({"seed": 2**64}, "seed must fit in 64 bits"),
        ({"creativity": "reckless"}, "invalid request"),
        ({"sampling": {"temperature": 99.0}}, "invalid request"),
        ({"sampling": {"nope": 1}}, "invalid request"),
        ({"primer": [1, "two"]}, "invalid request"),
    ],
)
def test_request_from_json_rejects_bad_fields_by_name(change: dict[str, object], message: str) -> None:
    data = json.loads(request_to_json(REQUESTS[0])) | change
    with pytest.raises(BadInput, match=message):
        request_from_json(json.dumps(data))


def test_request_without_genre_is_refused() -> None:
    with pytest.raises(BadInput, match="needs 'genre' and 'seconds'"):
        request_from_json('{"seconds": 3}')


def test_a_pickled_request_is_refused_not_unpickled() -> None:
    with pytest.raises(BadInput, match="not valid JSON"):
        request_from_json(pickle.dumps(REQUESTS[0]))


def _piece() -> GeneratedPiece:
    score = symusic.Score(480)
    track = symusic.Track("melody", 73, False)
    for i, pitch in enumerate((62, 65, 69, 74)):
        track.notes.append(symusic.Note(i * 480, 480, pitch, 90))
    score.tracks.append(track)
    score.tempos.append(symusic.Tempo(0, 72.0))
    return GeneratedPiece(
        request=REQUESTS[1],
        tokens=[1, 2, 3, 4, 5],
        score=score,
        key="D minor",
        key_requested="D minor",
        tempo=72.0,
        time_signature="3/4",
        bars=2,
        primer_tokens=4,
        primer_end_s=1.25,
        model_name="transformer@30",
        queue_s=0.5,
        compute_s=1.5,
    )


def test_piece_round_trip_rebuilds_the_score_from_midi() -> None:
    piece = _piece()
    fields = {
        k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in piece_to_fields(piece).items()
    }
    back = piece_from_fields(fields, piece.request)
    assert back.midi_bytes() == piece.midi_bytes()
    assert [(n.time, n.pitch) for n in back.score.tracks[0].notes] == [
        (0, 62),
        (480, 65),
        (960, 69),
        (1440, 74),
    ]
    assert back.score.tracks[0].program == 73
    for name in (
        "tokens",
        "key",
        "tempo",
        "time_signature",
        "bars",
        "primer_tokens",
        "primer_end_s",
        "model_name",
    ):
        assert getattr(back, name) == getattr(piece, name), name


def test_damaged_piece_becomes_generation_failed() -> None:
    with pytest.raises(GenerationFailed, match="damaged piece"):
        piece_from_fields({b"body": b"{}", b"midi": b"not midi"}, REQUESTS[0])


@pytest.mark.parametrize(
    "error",
    [
        BadInput("unknown genre 'x'"),
        TooLong("too long"),
        GenerationFailed("took too long"),
        Busy("busy", retry_after=12.5),
    ],
)
def test_errors_keep_their_class_and_message(error: CadenzaError) -> None:
    back = error_from_json(error_to_json(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    if isinstance(error, Busy):
        assert isinstance(back, Busy) and back.retry_after == 12.5


def test_a_foreign_exception_is_reported_as_generation_failed_without_details() -> None:
    back = error_from_json(error_to_json(RuntimeError("CUDA error: secret/path/to/weights")))
    assert isinstance(back, GenerationFailed)
    assert "secret" not in str(back)


def test_unknown_error_kind_becomes_generation_failed() -> None:
    back = error_from_json(json.dumps({"kind": "SystemExit", "message": "bye"}))
    assert type(back) is GenerationFailed


def test_progress_round_trips() -> None:
    assert progress_from_json(progress_to_json(Progress("r1", 16, 40, 2)), "r1") == Progress("r1", 16, 40, 2)
