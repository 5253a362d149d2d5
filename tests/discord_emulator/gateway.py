"""The gateway websocket: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay, dispatches.

Transport compression is what the client asks for in the URL query (`compress=zlib-stream` or
`compress=zstd-stream`, the latter when discord.py finds `zstandard`): one compression context per
connection, each message flushed (zlib: Z_SYNC_FLUSH, zstd: a flushed block) in its own binary frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .world import APP_FLAGS

if TYPE_CHECKING:
    from .core import DiscordCore

log = logging.getLogger(__name__)
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, MEMBERS, INVALID_SESSION, HELLO, ACK = (
    0,
    1,
    2,
    3,
    4,
    6,
    7,
    8,
    9,
    10,
    11,
)
CONTENT_FIELDS = ("content", "embeds", "attachments", "components", "poll")


class Connection:
    """One websocket connection with its compression context."""

    def __init__(self, ws: web.WebSocketResponse, compression: str | None) -> None:
        self.ws = ws
        self.compression = compression
        self.heartbeats = 0
        self.session: Session | None = None
        self._lock = asyncio.Lock()  # compress-then-send must not interleave, or the stream breaks
        self._compress: Any = None
        if compression == "zlib-stream":
            z = zlib.compressobj()
            self._compress = lambda b: z.compress(b) + z.flush(zlib.Z_SYNC_FLUSH)
        elif compression == "zstd-stream":
            import zstandard

            zc = zstandard.ZstdCompressor().compressobj()
            self._compress = lambda b: zc.compress(b) + zc.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one gateway message (compressed when asked)."""
        text = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            if self._compress is None:
                await self.ws.send_str(text)
            else:
                await self.ws.send_bytes(self._compress(text.encode()))


@dataclass
class Session:
    """A gateway session: survives its connection, so a RESUME replays what was missed."""

    session_id: str
    identify: dict[str, Any]
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None
    resumes: list[dict[str, Any]] = field(default_factory=list)  # RESUME payloads received
    active: bool = True  # False once invalidated or superseded

    def handles(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events of `guild_id` (DMs: shard 0)."""
        shard_id, count = self.shard
        return (0 if guild_id is None else (guild_id >> 22) % count) == shard_id


class Gateway:
    """Serves the websocket and dispatches events to the bot's sessions."""

    def __init__(self, core: DiscordCore) -> None:
        self.core = core
        self._next_barrier: asyncio.Future[None] | None = None  # the round trip new callers join
        self._barrier_task: asyncio.Future[None] | None = None
        self.url = ""  # ws://127.0.0.1:PORT/ once started
        self.sessions: list[Session] = []
        self.connections: list[Connection] = []
        self.close_codes: list[int | None] = []  # close code of every finished connection

    @property
    def session(self) -> Session | None:
        """The newest active session (there is one per shard; tests mostly run one)."""
        active = [s for s in self.sessions if s.active]
        return active[-1] if active else None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compression = request.query.get("compress")
        if (
            compression not in (None, "zlib-stream", "zstd-stream")
            or request.query.get("encoding", "json") != "json"
        ):
            await ws.close(code=4002, message=b"Error while decoding payload.")
            return ws
        conn = Connection(ws, compression)
        self.connections.append(conn)
        self.core.signal.notify()
        await conn.send(
            {
                "op": HELLO,
                "d": {"heartbeat_interval": self.core.settings.heartbeat_interval_ms, "_trace": ["emulator"]},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_message(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
        finally:
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self.close_codes.append(ws.close_code)
            self.core.signal.notify()
        return ws

    async def _on_message(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": ACK, "d": None, "s": None, "t": None})
            self.core.signal.notify()
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == MEMBERS:
            await self._member_chunk(conn, data or {})
        elif op in (PRESENCE, VOICE):
            pass  # accepted, nothing to emulate
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.core.settings.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if "intents" not in data:
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        shard = tuple(data.get("shard") or (0, 1))
        for old in self.sessions:
            if old.shard == shard:
                old.active = False  # a new IDENTIFY replaces the shard's old session
        session = Session(
            secrets.token_hex(16), data, (int(shard[0]), int(shard[1])), int(data["intents"]), connection=conn
        )
        conn.session = session
        self.sessions.append(session)
        world = self.core.world
        user = {**world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}
        guilds = [{"id": str(world.guild.id), "unavailable": True}] if session.handles(world.guild.id) else []
        ready = {
            "v": 10,
            "user": user,
            "guilds": guilds,
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "shard": list(session.shard),
            "application": {"id": str(world.application_id), "flags": APP_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["emulator"],
        }
        await self._send_event(session, "READY", ready)
        if guilds:
            await self._send_event(session, "GUILD_CREATE", world.guild_payload())
        self.core.signal.notify()

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = next(
            (s for s in self.sessions if s.session_id == data.get("session_id") and s.active), None
        )
        if session is None or data.get("token") != self.core.settings.token:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session.connection = conn
        conn.session = session
        session.resumes.append(data)
        last = int(data.get("seq") or 0)
        for missed in [p for p in session.sent if p["s"] > last]:
            await conn.send(missed)
        await self._send_event(session, "RESUMED", {"_trace": ["emulator"]})
        self.core.signal.notify()

    async def _member_chunk(self, conn: Connection, data: dict[str, Any]) -> None:
        if conn.session is None:
            return
        world = self.core.world
        members = [world.guild.member_payload(world.users[uid]) for uid in world.guild.member_roles]
        chunk = {
            "guild_id": str(world.guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
            "nonce": data.get("nonce"),
        }
        await self._send_event(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_event(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(payload)
        if session.connection is not None:
            await session.connection.send(payload)

    async def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        intent: int | None = None,
        content_intent: bool = False,
    ) -> int:
        """Send an event to each active session that handles the guild and has the intent; returns how many."""
        count = 0
        for session in [s for s in self.sessions if s.active and s.handles(guild_id)]:
            if intent is not None and not session.intents & intent:
                continue
            payload = data
            if content_intent and not session.intents & (1 << 15):
                payload = {
                    k: ([] if isinstance(v, list) else "") if k in CONTENT_FIELDS else v
                    for k, v in data.items()
                }
            await self._send_event(session, event, payload)
            count += 1
        return count

    async def barrier(self, timeout: float = 10.0) -> None:
        """Ask the bot for a heartbeat (op 1, as Discord may) and wait for it.

        The bot answers only after reading everything sent before; HTTP responses written earlier
        have reached it by then too. So an interaction injected after the barrier cannot overtake
        the bot's handling of the reply it acts on (discord.py registers a message's view only when
        the response that created the message comes back).

        With `share_barriers` on, concurrent callers share round trips: a caller joins the next request sent
        after it arrived (never one already in flight), so 200 simultaneous injections cost two
        requests, not 200 (discord.py allows a client 120 gateway sends a minute).
        """
        if not self.core.settings.share_barriers:
            await self._heartbeat_round_trip(timeout)
            return
        loop = asyncio.get_running_loop()
        task = self._barrier_task
        if task is None or task.done() or task.get_loop() is not loop:
            # No live round trip runner in this loop (first call, or a test's loop ended): start afresh.
            self._next_barrier = None
            self._barrier_task = None
        if self._next_barrier is None:
            self._next_barrier = loop.create_future()
            if self._barrier_task is None:
                self._barrier_task = asyncio.ensure_future(self._run_barriers(timeout))
        await asyncio.wait_for(asyncio.shield(self._next_barrier), 2 * timeout + 1)

    async def _run_barriers(self, timeout: float) -> None:
        while self._next_barrier is not None:
            waiting, self._next_barrier = self._next_barrier, None
            try:
                await self._heartbeat_round_trip(timeout)
            except BaseException as e:  # every caller of this round learns of it; nobody waits forever
                if not waiting.done():
                    waiting.set_exception(
                        e if isinstance(e, Exception) else ConnectionError("barrier cancelled")
                    )
                if not isinstance(e, Exception):
                    raise
            else:
                waiting.set_result(None)

    async def _heartbeat_round_trip(self, timeout: float) -> None:
        session = self.session
        if session is None or session.connection is None or session.connection.ws.closed:
            return
        conn, seen = session.connection, session.connection.heartbeats
        await conn.send({"op": HEARTBEAT, "d": None, "s": None, "t": None})
        await self.core.signal.wait_for(
            lambda: True if conn.heartbeats > seen or conn.ws.closed else None,
            timeout,
            "the bot to answer a heartbeat request",
        )

    async def send_op(self, op: int, data: Any = None) -> None:
        """Send a raw opcode (e.g. 7 RECONNECT, 9 INVALID_SESSION) to every active session."""
        for session in [s for s in self.sessions if s.active and s.connection is not None]:
            assert session.connection is not None
            await session.connection.send({"op": op, "d": data, "s": None, "t": None})
            if op == INVALID_SESSION and not data:
                session.active = False

    async def close_connections(self, code: int = 4000) -> None:
        """Drop every open connection with `code` (4000: resumable, like a network blip)."""
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.ws.close(code=code, message=b"emulator closed the connection")
