"""One pipeline for the bot and `cadenza compose`: request -> ingest -> engine -> render -> files.

The composer is anything with `async generate(request, on_progress)`: the in-process batch engine
by default, or the Redis queue client when `queue.backend = "redis"`. Rendering runs in its pool.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pretty_midi
import symusic

from bot.options import PieceFacts
from bot.remarks import key_remarks, task_remarks
from bot.serving import ServingConfig
from cadenza.errors import BadInput
from ingest.melody_line import melody_line
from model.notes import notes_of
from model.originality import OriginalityIndex, find_copied_run, top_line
from model.parts import BarTokens, PartTokenizer
from model.request import GeneratedPiece, GenerationRequest, Progress, Task
from model.sampling import Creativity
from model.tokenizer import CadenzaTokenizer
from render import RenderedPiece, RenderJob, RenderPool, midi_from_bytes
from render.edits import midi_to_bytes, trim_at

log = logging.getLogger(__name__)
REMIX_BARS = 2  # a remix keeps the parent's first bars as its motif and re-composes the rest


class Stage(enum.Enum):
    """Where a job is, for live progress."""

    QUEUED = "queued"
    READING = "reading your clip"
    COMPOSING = "composing"
    RENDERING = "rendering"


@dataclass(frozen=True)
class PipelineProgress:
    """A progress event for the user: stage, share done, place in the queue."""

    stage: Stage
    fraction: float = 0.0
    queue_position: int = 0


ProgressCallback = Callable[[PipelineProgress], None]


class Composer(Protocol):
    """What the pipeline needs from the engine or the queue client."""

    async def generate(
        self, request: GenerationRequest, on_progress: Callable[[Progress], None] | None = None
    ) -> GeneratedPiece: ...


@dataclass(frozen=True)
class ComposeRequest:
    """One user request, as the bot or the CLI received it (already validated for ranges)."""

    genre: str
    seconds: float
    key: str | None = None
    tempo: float | None = None
    time_signature: str | None = None
    sound: str | None = None  # a render preset; None = the genre's default
    creativity: Creativity = Creativity.BALANCED
    seed: int | None = None  # None = a fresh random seed (reported back)
    clip: bytes | None = field(default=None, repr=False)  # an uploaded clip or MIDI file to continue
    parent_midi: bytes | None = field(default=None, repr=False)  # a stored piece to continue (or remix)
    clip_name: str | None = None  # the upload's file name, for messages
    remix: bool = False  # with parent_midi: keep only its opening bars and compose anew over them
    title: str | None = None
    task: Task = Task.CONTINUE  # INFILL: rewrite `bars` of parent_midi; FILL: parts under the clip's melody
    bars: tuple[int, int] | None = None  # INFILL: first and last bar to rewrite (1-based)
    given_parts: tuple[int, ...] = (0,)  # FILL: the parts kept (0 = the melody)
    parts: int | None = None  # FILL: parts in the result; None = the genre's usual number
    sheet: bool = True  # engrave sheet music too (score.png, piece.musicxml, a clean piece.mid)


@dataclass
class ComposedPiece:
    """Everything a reply needs: files plus the facts for the embed and the database."""

    audio: bytes
    audio_format: str
    midi: bytes
    png: bytes
    meta: dict[str, Any]  # the full record, as `cadenza compose` writes it to piece.json
    piece: GeneratedPiece
    rendered: RenderedPiece
    facts: PieceFacts  # what the bot reads: the reply's figures and the stored piece's


@dataclass(frozen=True)
class _Primer:
    tokens: tuple[int, ...]
    tempo: float | None
    time_signature: str | None
    key: str | None
    clip: Any = None  # mono float audio of the user's clip, aligned to score time 0
    clip_rate: int = 44100
    remarks: tuple[str, ...] = ()


class Pipeline:
    """Ties a composer, the render pool and (optionally) ingest together."""

    def __init__(
        self,
        composer: Composer,
        tokenizer: CadenzaTokenizer,
        render_pool: RenderPool,
        ingest: Any = None,
        model_name: str = "",
        originality: OriginalityIndex | None = None,
        corpus_fingerprint: str = "",
    ) -> None:
        self.composer, self.tok, self.render_pool, self.ingest = composer, tokenizer, render_pool, ingest
        self.model_name, self.corpus_fingerprint = model_name, corpus_fingerprint
        self.originality = originality  # the index shipped with the checkpoint (None: no figure)

    @property
    def does_tasks(self) -> bool:
        """True when the model can rewrite bars and write parts (a v2 checkpoint); a v1 only continues."""
        return isinstance(self.tok, PartTokenizer)

    @property
    def genres(self) -> list[str]:
        """Genres the loaded model knows."""
        return list(self.tok.genres)

    async def compose(
        self, req: ComposeRequest, on_progress: ProgressCallback | None = None
    ) -> ComposedPiece:
        """Run one request end to end."""
        notify = on_progress or (lambda p: None)
        started = time.monotonic()
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        continuing = req.task is Task.CONTINUE
        primer = await (self._primer(req, notify) if continuing else self._source(req, notify))
        gen_req = GenerationRequest(
            genre=req.genre,
            seconds=req.seconds,
            seed=seed,
            key=req.key or (primer.key if primer else None),
            tempo=req.tempo or (primer.tempo if primer else None),
            time_signature=req.time_signature or (primer.time_signature if primer else None),
            creativity=req.creativity,
            primer=primer.tokens if primer and continuing else None,
            task=req.task,
            source=primer.tokens if primer and not continuing else None,
            bars=req.bars,
            given_parts=req.given_parts,
            parts=req.parts,
        )

        def engine_progress(p: Progress) -> None:
            if p.queue_position:
                notify(PipelineProgress(Stage.QUEUED, 0.0, p.queue_position))
            else:
                notify(PipelineProgress(Stage.COMPOSING, p.fraction))

        piece = await self.composer.generate(gen_req, engine_progress)
        composed_s = time.monotonic() - started
        notify(PipelineProgress(Stage.RENDERING, 1.0))
        midi = piece.midi_bytes()
        rendered = await self.render_pool.render(self._render_job(req, piece, midi, primer, seed))
        meta = self._meta(req, piece, rendered, seed, composed_s, time.monotonic() - started)
        meta.update(await asyncio.to_thread(self._originality, piece))
        facts = PieceFacts(
            key=piece.key,
            tempo=piece.tempo,
            sound=rendered.preset,
            model=piece.model_name or self.model_name,
            corpus=self.corpus_fingerprint,
            bars=piece.bars,
            duration_s=round(rendered.duration_s, 3),
            seed=seed,
            primer_end_s=round(piece.primer_end_s, 3),
            originality=meta.get("originality"),
            remarks=(
                *(primer.remarks if primer else ()),
                *task_remarks(req, piece),
                *key_remarks(req, piece),
            ),
        )
        return ComposedPiece(
            rendered.audio, rendered.audio_format, midi, rendered.png, meta, piece, rendered, facts
        )

    async def _primer(self, req: ComposeRequest, notify: ProgressCallback) -> _Primer | None:
        """Tokens to continue: an uploaded clip/MIDI (through ingest) or a stored parent piece."""
        if req.clip is not None:
            if self.ingest is None:
                raise BadInput("continuing uploads is not available on this server")
            notify(PipelineProgress(Stage.READING))
            primer = await self.ingest(req.clip)
            tokens = self._tokens(midi_to_bytes(primer.score))
            clip = None
            if primer.audio is not None:
                clip = primer.audio[int(primer.offset_s * primer.sample_rate) :]
            return _Primer(
                tokens=tokens,
                tempo=float(primer.tempo_bpm),
                time_signature=f"{primer.beats_per_bar}/4",
                key=primer.key.name,
                clip=clip,
                clip_rate=int(primer.sample_rate or 44100),
                remarks=tuple(primer.notes),
            )
        if req.parent_midi is not None:
            tokens = self._tokens(req.parent_midi)
            if req.remix:
                tokens = self._opening_bars(tokens, REMIX_BARS)
            return _Primer(tokens=tokens, tempo=None, time_signature=None, key=None)
        return None

    async def _source(self, req: ComposeRequest, notify: ProgressCallback) -> _Primer:
        """The piece a task works on: a stored piece (rewrite, harmonize) or an upload's melody (accompany)."""
        if req.task is Task.FILL and req.clip is not None:
            if self.ingest is None:
                raise BadInput("accompanying uploads is not available on this server")
            notify(PipelineProgress(Stage.READING))
            upload = await self.ingest(req.clip)
            melody = pretty_midi.PrettyMIDI(initial_tempo=float(upload.tempo_bpm))
            melody.instruments = [melody_line(upload)]
            tokens = self._tokens(midi_to_bytes(melody))
            return _Primer(
                tokens, float(upload.tempo_bpm), None, upload.key.name, remarks=tuple(upload.notes)
            )
        midi = req.parent_midi if req.parent_midi is not None else req.clip
        if midi is None:
            raise BadInput("there is no piece to work on")
        tokens = self._tokens(midi)
        if req.task is Task.FILL:
            tokens = self._top_part(tokens)
        return _Primer(tokens=tokens, tempo=None, time_signature=None, key=None)

    def _top_part(self, tokens: tuple[int, ...]) -> tuple[int, ...]:
        """Only the top part of a piece in part tokens (what harmonizing a stored piece keeps)."""
        tok = self.tok
        if not isinstance(tok, PartTokenizer):
            raise BadInput("this model can only continue music")
        bars = tok.parse_bars(tokens)
        top = [BarTokens(b.time_sig, {0: b.parts[0]} if 0 in b.parts else {}) for b in bars]
        return (tokens[0], *tok.bars_tokens(top, len(top)))

    def _opening_bars(self, tokens: tuple[int, ...], bars: int) -> tuple[int, ...]:
        """The first `bars` bars of a token sequence (a remix keeps the motif, not the piece)."""
        starts = [i for i, t in enumerate(tokens) if t == self.tok.bar_id]
        return tokens[: starts[bars]] if len(starts) > bars else tokens

    def _tokens(self, midi: bytes) -> tuple[int, ...]:
        """Music tokens of a MIDI file (all tracks merged), for the engine's primer."""
        try:
            tokens = self.tok.encode_score(symusic.Score.from_midi(midi))
        except Exception as e:
            raise BadInput("I couldn't read the music in that file") from e
        if not any(self.tok.pitch_of[t] >= 0 for t in tokens):
            raise BadInput("that file has no notes I can continue")
        return tuple(tokens)

    def _render_job(
        self, req: ComposeRequest, piece: GeneratedPiece, midi: bytes, primer: _Primer | None, seed: int
    ) -> RenderJob:
        score = midi_from_bytes(midi)
        if req.task is Task.CONTINUE:
            trim_at(score, piece.primer_end_s + req.seconds)
        title = req.title or f"{req.genre.capitalize()} in {piece.key}"
        return RenderJob(
            midi=score,
            title=title,
            genre=req.genre,
            preset=req.sound,
            seed=seed,
            key=piece.key,
            primer_end_s=piece.primer_end_s or None,
            clip=primer.clip if primer else None,
            clip_rate=primer.clip_rate if primer else 44100,
            rewritten_bars=piece.new_bars if req.task is Task.INFILL else None,
            sheet=req.sheet,
        )

    def _originality(self, piece: GeneratedPiece) -> dict[str, Any]:
        """Share of the melody not copied from any training piece (1.0 = nothing of 8+ notes copied)."""
        if self.originality is None or piece.primer_tokens or piece.request.task is not Task.CONTINUE:
            return {}
        melody_notes = len(top_line(notes_of(piece.score)).onset)
        match = find_copied_run(piece.score, self.originality)
        share = 1.0 - match.notes / max(melody_notes, 1)
        return {
            "originality": round(max(0.0, share), 3),
            "longest_copied_notes": match.notes,
            "longest_copied_bars": match.bars,
        }

    def _meta(
        self,
        req: ComposeRequest,
        piece: GeneratedPiece,
        rendered: RenderedPiece,
        seed: int,
        compose_s: float,
        total_s: float,
    ) -> dict[str, Any]:
        return {
            "genre": req.genre,
            "seconds": req.seconds,
            "key": piece.key,
            "key_requested": piece.key_requested,
            "tempo": piece.tempo,
            "time_signature": piece.time_signature,
            "bars": piece.bars,
            "sound": rendered.preset,
            "creativity": req.creativity.value,
            "seed": seed,
            "model": piece.model_name or self.model_name,
            "corpus_fingerprint": self.corpus_fingerprint or None,
            "continuation": piece.primer_tokens > 0,
            "task": req.task.value,
            "new_bars": list(piece.new_bars) if piece.new_bars else None,
            "primer_end_s": round(piece.primer_end_s, 3),
            "duration_s": round(rendered.duration_s, 3),
            "loudness_lufs": round(rendered.loudness_lufs, 2),
            "true_peak_dbfs": round(rendered.true_peak_dbfs, 2),
            "timings_s": {
                "queue": round(piece.queue_s, 3),
                "compose": round(piece.compute_s, 3),
                "until_composed": round(compose_s, 3),
                "render": round(total_s - compose_s, 3),
                "total": round(total_s, 3),
            },
        }

    @classmethod
    async def create(
        cls,
        config: ServingConfig,
        checkpoint_path: Path | None = None,
        ingest: Any = None,
        metrics: Any = None,
    ) -> Pipeline:
        """Load the model, open the queue (in-process engine or Redis) and start the render pool."""
        from model.checkpoint import load_checkpoint
        from model.engine import Engine
        from model.queues.base import open_queue

        path = checkpoint_path or (
            Path(config.model.checkpoint) if config.model.checkpoint else default_checkpoint()
        )
        checkpoint = await asyncio.to_thread(load_checkpoint, path)
        queue = open_queue(config.queue, config.secrets.redis_url, lambda: Engine(checkpoint, config.engine))
        if metrics is not None:
            from bot.metrics import MeteredQueue

            queue = MeteredQueue(queue, metrics)
        await queue.start()
        pool = RenderPool(config.render)
        await pool.start()
        if ingest is None:
            ingest = _ingest_function(config)
        fingerprint = str(checkpoint.meta.get("corpus_fingerprint") or "")
        return cls(
            queue,
            checkpoint.tokenizer,
            pool,
            ingest,
            checkpoint.name,
            OriginalityIndex.beside(path),
            fingerprint,
        )

    async def close(self) -> None:
        """Stop the render pool and the composer."""
        await self.render_pool.close()
        close = getattr(self.composer, "close", None)
        if close is not None:
            await close()


def _ingest_function(config: ServingConfig) -> Any:
    """ingest's async entry point bound to the configured limits (None if ingest is unavailable)."""
    try:
        from ingest import ingest_upload
    except ImportError:
        return None

    async def run(data: bytes) -> Any:
        return await ingest_upload(data, config.ingest)

    return run


def default_checkpoint() -> Path:
    """The transformer checkpoint shipped in the package."""
    return Path(__file__).resolve().parent.parent / "model" / "checkpoints" / "transformer"
