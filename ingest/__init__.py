"""Uploaded clips and MIDI files become primers to continue: validated, decoded, transcribed.

Public API: `ingest_upload` (async) / `ingest_bytes` (sync) -> `Primer`; `IngestSettings`;
`warm_up()` at start-up; `transcribe_clip` for audio already in memory.
"""

from ingest.pipeline import ingest_bytes, ingest_upload, warm_up
from ingest.primer import CHORD_TRACK, MELODY_TRACK, Primer
from ingest.settings import IngestSettings
from ingest.sniff import ACCEPTED, UploadKind, sniff_upload
from ingest.transcribe import Transcription, transcribe_clip

__all__ = [
    "ACCEPTED",
    "CHORD_TRACK",
    "MELODY_TRACK",
    "IngestSettings",
    "Primer",
    "Transcription",
    "UploadKind",
    "ingest_bytes",
    "ingest_upload",
    "sniff_upload",
    "transcribe_clip",
    "warm_up",
]
