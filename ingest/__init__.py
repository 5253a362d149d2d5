"""Uploaded clips and MIDI files become primers to continue: validated, decoded, transcribed.

Public API: `ingest_upload` (async) / `ingest_bytes` (sync) -> `Primer`; `IngestSettings`;
`warm_up()` at start-up; `transcribe_clip` for audio already in memory.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.pipeline import ingest_bytes, ingest_upload, warm_up
    from ingest.primer import CHORD_TRACK, MELODY_TRACK, Primer
    from ingest.settings import IngestSettings
    from ingest.sniff import ACCEPTED, UploadKind, sniff_upload
    from ingest.transcribe import Transcription, transcribe_clip

# Names load their module on first use: reading config (ingest.settings) must not pull in scipy,
# librosa and pretty_midi for every `cadenza` command (`cadenza train` on a GPU machine has none).
_LAZY = {
    "ingest_bytes": "ingest.pipeline",
    "ingest_upload": "ingest.pipeline",
    "warm_up": "ingest.pipeline",
    "CHORD_TRACK": "ingest.primer",
    "MELODY_TRACK": "ingest.primer",
    "Primer": "ingest.primer",
    "IngestSettings": "ingest.settings",
    "ACCEPTED": "ingest.sniff",
    "UploadKind": "ingest.sniff",
    "sniff_upload": "ingest.sniff",
    "Transcription": "ingest.transcribe",
    "transcribe_clip": "ingest.transcribe",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ingest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
