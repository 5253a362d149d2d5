"""An emulator of the parts of Discord a bot uses, for end-to-end tests over the real protocol.

An unmodified discord.py client logs in to it exactly as to Discord: REST under /api/v10, the
gateway websocket (zlib-stream or zstd-stream), and a CDN for attachments, all on 127.0.0.1.
See `emulator.Emulator` (driving it), `launch` (starting a bot pointed at it; not imported here,
as it runs with -m), `process.BotProcess`
and `fixtures` (pytest), and `server` (how the bot reaches REST, gateway and CDN).
"""

from .emulator import Emulator
from .gateway import Session
from .process import BotProcess, StartBot
from .records import CallbackType, CdnFile, InteractionTrace, RecordedRequest, Refusal, Reply, ReplyKind
from .settings import EmulatorSettings

__all__ = [
    "BotProcess",
    "CallbackType",
    "CdnFile",
    "Emulator",
    "EmulatorSettings",
    "InteractionTrace",
    "RecordedRequest",
    "Refusal",
    "Reply",
    "ReplyKind",
    "Session",
    "StartBot",
]
