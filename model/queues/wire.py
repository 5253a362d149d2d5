"""What crosses Redis: jobs, results, progress and errors as JSON (plus raw MIDI bytes). Never pickle.

A worker must not run code chosen by whoever can write to Redis, so everything is plain data, checked
field by field on the way in; a malformed job becomes `BadInput` for its asker, not a crash.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import symusic

from cadenza import errors
from cadenza.errors import BadInput, CadenzaError, GenerationFailed
from model.request import GeneratedPiece, GenerationRequest, Progress, Task
from model.sampling import Creativity, SamplingParams

Fields = dict[bytes, bytes]  # a stream entry as redis-py returns it (decode_responses=False)
Entry = tuple[bytes, Fields]  # (entry id, fields)

# Field name -> accepted JSON types. bool is excluded from numbers on purpose (JSON true is not a seed).
_REQUEST_TYPES: dict[str, tuple[type, ...]] = {
    "genre": (str,),
    "seconds": (int, float),
    "seed": (int,),
    "key": (str, type(None)),
    "tempo": (int, float, type(None)),
    "time_signature": (str, type(None)),
    "creativity": (str,),
    "sampling": (dict, type(None)),
    "primer": (list, type(None)),
    "timeout_s": (int, float, type(None)),
    "request_id": (str,),
    "task": (str,),
    "source": (list, type(None)),
    "bars": (list, type(None)),
    "given_parts": (list,),
    "parts": (int, type(None)),
}
SEED_LIMIT = (
    2**63
)  # torch.Generator.manual_seed takes a 64-bit signed seed; bigger ones would kill the engine loop
# Errors a reply may carry, by name: only our own user-safe family is ever rebuilt on the bot side.
_ERRORS: dict[str, type[CadenzaError]] = {
    name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, CadenzaError)
}


def request_to_json(req: GenerationRequest) -> str:
    """The request as a JSON object (enums by value, tuples as lists)."""
    data = dataclasses.asdict(req)
    data["creativity"] = req.creativity.value
    data["primer"] = list(req.primer) if req.primer is not None else None
    data["task"] = req.task.value
    data["source"] = list(req.source) if req.source is not None else None
    data["bars"] = list(req.bars) if req.bars is not None else None
    data["given_parts"] = list(req.given_parts)
    return json.dumps(data, separators=(",", ":"))


def request_from_json(text: str | bytes) -> GenerationRequest:
    """Parse and check a request; anything unexpected raises BadInput naming the field."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"the job is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise BadInput("the job's request must be a JSON object")
    unknown = sorted(set(data) - set(_REQUEST_TYPES))
    if unknown:
        raise BadInput(f"unknown request field {unknown[0]!r}")
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, _REQUEST_TYPES[name]):
            raise BadInput(f"request field {name!r} has the wrong type ({type(value).__name__})")
    if "genre" not in data or "seconds" not in data:
        raise BadInput("a request needs 'genre' and 'seconds'")
    if not -SEED_LIMIT <= data.get("seed", 0) < SEED_LIMIT:
        raise BadInput("seed must fit in 64 bits")
    try:
        return _build_request(data)
    except (TypeError, ValueError) as e:
        raise BadInput(f"invalid request: {e}") from e


def _build_request(data: dict[str, Any]) -> GenerationRequest:
    primer = data.get("primer")
    if primer is not None and not all(isinstance(t, int) and not isinstance(t, bool) for t in primer):
        raise ValueError("primer must be a list of token ids")
    sampling = data.get("sampling")
    lists = {name: _ints(data, name) for name in ("source", "bars", "given_parts")}
    bars = lists["bars"]
    if bars is not None and len(bars) != 2:
        raise ValueError("bars must be [first, last]")
    special = ("creativity", "sampling", "primer", "task", "source", "bars", "given_parts")
    return GenerationRequest(
        **{k: v for k, v in data.items() if k not in special},
        creativity=Creativity(data.get("creativity", Creativity.BALANCED.value)),
        sampling=SamplingParams(**sampling) if sampling is not None else None,
        primer=tuple(primer) if primer is not None else None,
        task=Task(data.get("task", Task.CONTINUE.value)),
        source=lists["source"],
        bars=(bars[0], bars[1]) if bars is not None else None,
        given_parts=lists["given_parts"] if lists["given_parts"] is not None else (0,),
    )


def _ints(data: dict[str, Any], name: str) -> tuple[int, ...] | None:
    """A list field of ints as a tuple (None stays None)."""
    value = data.get(name)
    if value is None:
        return None
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        raise ValueError(f"{name} must be a list of integers")
    return tuple(value)


def piece_to_fields(piece: GeneratedPiece) -> dict[str, bytes | str]:
    """A finished piece as reply fields: metadata JSON plus the MIDI file (the score travels as MIDI)."""
    meta = {
        "tokens": piece.tokens,
        "key": piece.key,
        "key_requested": piece.key_requested,
        "tempo": piece.tempo,
        "time_signature": piece.time_signature,
        "bars": piece.bars,
        "primer_tokens": piece.primer_tokens,
        "primer_end_s": piece.primer_end_s,
        "model_name": piece.model_name,
        "queue_s": piece.queue_s,
        "compute_s": piece.compute_s,
        "new_bars": list(piece.new_bars) if piece.new_bars else None,
    }
    return {"body": json.dumps(meta, separators=(",", ":")), "midi": piece.midi_bytes()}


def piece_from_fields(fields: Fields, request: GenerationRequest) -> GeneratedPiece:
    """Rebuild the piece a worker sent (the score re-read from its MIDI bytes)."""
    try:
        meta = json.loads(fields[b"body"])
        score = symusic.Score.from_midi(fields[b"midi"])
        new_bars = meta.pop("new_bars", None)
        span = (int(new_bars[0]), int(new_bars[1])) if new_bars else None
        return GeneratedPiece(request=request, score=score, new_bars=span, **meta)
    except (KeyError, ValueError, TypeError, RuntimeError) as e:
        raise GenerationFailed("The composer sent back a damaged piece; please try again.") from e


def error_to_json(error: BaseException) -> str:
    """A user-safe error as JSON; anything outside our family becomes a generic GenerationFailed."""
    if not isinstance(error, CadenzaError):
        error = GenerationFailed("The composer hit an internal error; please try again.")
    body: dict[str, Any] = {"kind": type(error).__name__, "message": str(error)}
    if isinstance(error, errors.Busy):
        body["retry_after"] = error.retry_after
    return json.dumps(body)


def error_from_json(text: str | bytes) -> CadenzaError:
    """The error a worker reported, as the same class (unknown kinds become GenerationFailed)."""
    try:
        body = json.loads(text)
        cls = _ERRORS.get(str(body["kind"]), GenerationFailed)
        message = str(body["message"])
    except (ValueError, KeyError, TypeError):
        return GenerationFailed("The composer failed and its error was unreadable; please try again.")
    if issubclass(cls, errors.Busy):
        return cls(message, retry_after=float(body.get("retry_after", 0.0)))
    return cls(message)


def progress_to_json(p: Progress) -> str:
    """A progress event (the request id is implied by the job)."""
    return json.dumps([p.tokens_done, p.tokens_expected, p.queue_position])


def progress_from_json(text: str | bytes, request_id: str) -> Progress:
    """Rebuild a progress event for `request_id`."""
    done, expected, position = json.loads(text)
    return Progress(request_id, int(done), int(expected), int(position))


@dataclass(frozen=True)
class Job:
    """One entry of the job stream: a request, who asked, and when they stop caring."""

    job_id: str
    reply_key: str
    request: GenerationRequest
    enqueued_at: float  # wall-clock seconds (time.time()) when the bot added it
    expires_at: float  # after this the asker has given up; a worker skips it
    wants_progress: bool = False

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields."""
        return {
            "job": self.job_id,
            "reply": self.reply_key,
            "request": request_to_json(self.request),
            "enqueued_at": repr(self.enqueued_at),
            "expires_at": repr(self.expires_at),
            "progress": "1" if self.wants_progress else "0",
        }


def stream_entries(response: Any) -> list[Entry]:
    """The entries of an XREAD / XREADGROUP reply (RESP2 list of [name, entries] or RESP3 map), in order."""
    if not response:
        return []
    streams = response.values() if isinstance(response, dict) else (entries for _name, entries in response)
    return [(bytes(entry_id), dict(fields or {})) for entries in streams for entry_id, fields in entries]


def job_header(fields: Fields) -> tuple[str, str]:
    """(job id, reply key) of an entry, readable even when its request is not; KeyError if absent."""
    return fields[b"job"].decode(), fields[b"reply"].decode()


def job_from_fields(fields: Fields) -> Job:
    """Parse a stream entry; a bad request raises BadInput (the header must already be readable)."""
    job_id, reply_key = job_header(fields)
    try:
        enqueued, expires = float(fields[b"enqueued_at"]), float(fields[b"expires_at"])
    except (KeyError, ValueError) as e:
        raise BadInput("the job lacks its timestamps") from e
    request = request_from_json(fields.get(b"request", b""))
    return Job(job_id, reply_key, request, enqueued, expires, fields.get(b"progress") == b"1")
