"""The bot's side of the pipeline: turning a `Work` into a `ComposeRequest`, progress into words.

The only module of the bot that knows the pipeline's request and progress types, so a change there
is a change here only.
"""

from __future__ import annotations

from bot.options import Work
from bot.pipeline import ComposeRequest, Pipeline, PipelineProgress, Stage
from bot.progress import bar
from bot.storage import Piece, PieceKind
from model.request import Task
from model.sampling import Creativity
from render.presets import PRESETS

BUILDS_ON_PARENT = (PieceKind.CONTINUE, PieceKind.REMIX, PieceKind.REWRITE, PieceKind.HARMONIZE)
KIND_TASKS = {  # the model's task for a kind of piece (every other kind continues)
    PieceKind.REWRITE: Task.INFILL,
    PieceKind.ACCOMPANY: Task.FILL,
    PieceKind.HARMONIZE: Task.FILL,  # a session turn's melody (parent_midi) with parts under it
}


def compose_request(work: Work, clip: bytes | None, parent: Piece | None) -> ComposeRequest:
    """The pipeline request for a job (a clip's bytes, or the parent piece's MIDI to build on)."""
    spec = work.spec
    builds_on_parent = parent is not None and work.kind in BUILDS_ON_PARENT
    return ComposeRequest(
        genre=spec.genre,
        seconds=float(spec.seconds),
        key=spec.key,
        tempo=float(spec.tempo) if spec.tempo else None,
        sound=spec.sound,
        creativity=Creativity(spec.creativity),
        seed=spec.seed,
        clip=clip,
        clip_name=work.clip.filename if work.clip else None,
        parent_midi=parent.midi if builds_on_parent and parent is not None else None,
        remix=work.kind is PieceKind.REMIX,
        task=KIND_TASKS.get(work.kind, Task.CONTINUE),
        bars=work.bars if work.kind is PieceKind.REWRITE else None,
    )


def describe_progress(event: PipelineProgress) -> str:
    """A progress event as one line for the member: queue position, percent composed, rendering."""
    if event.stage is Stage.QUEUED:
        return f"⏳ In the queue: {event.queue_position} ahead of you…"
    if event.stage is Stage.READING:
        return "👂 Listening to your clip…"
    if event.stage is Stage.RENDERING:
        return "🎻 Rendering the audio…"
    return f"🎼 Composing… {bar(event.fraction)} {event.fraction:.0%}"


def genres_of(pipeline: Pipeline) -> list[str]:
    """The loaded model's genres (the choices of every genre option)."""
    return list(pipeline.genres)


def sounds() -> list[str]:
    """The render presets members can choose."""
    return list(PRESETS)
