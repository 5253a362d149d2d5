"""`Emulator`: the emulated Discord that tests start, drive as users, and read back.

async with Emulator() as emu:                       # serving on 127.0.0.1:<free port>
    ... start the bot with emu.launcher_args() and emu.bot_env() ...
    await emu.wait_ready(); await emu.wait_synced({"compose"})
    clip = await emu.upload_attachment("tune.mid", data)
    ix = await emu.slash("compose", {"genre": "bach", "clip": clip}, user="alice")
    first = await ix.response()                      # the callback (deferral, message, modal)
    done = await ix.followup()                       # file bytes in done.files[i].data
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from aiohttp import web

from .commands import CHAT_INPUT
from .core import DiscordCore
from .gateway import INVALID_SESSION, RECONNECT, Gateway, Session
from .injection import component_data, context_menu_data, interaction_payload, modal_data, slash_data
from .records import CdnFile, InteractionTrace, Reply
from .server import API_PREFIX, build_app
from .settings import EmulatorSettings
from .world import Channel, User

T = TypeVar("T")
UserRef = User | str | None
ChannelRef = Channel | str | int | None
MessageRef = Reply | dict[str, Any] | int


class Emulator(DiscordCore):
    """Discord's REST API, gateway and CDN on 127.0.0.1, with a user-facing API for tests."""

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        super().__init__(settings)
        self.gateway: Gateway = Gateway(self)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.signal.diagnostics = self.summary

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1 (port 0: a free one)."""
        self._runner = web.AppRunner(build_app(self), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.gateway.url = f"ws://127.0.0.1:{self.port}/"

    async def stop(self) -> None:
        """Close gateway connections (1001: going away) and stop serving."""
        if self._runner is not None:
            await self.gateway.close_connections(code=1001)
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- where things are --------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """What `discord.http.Route.BASE` must be: http://127.0.0.1:PORT/api/v10."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` must be: ws://127.0.0.1:PORT/."""
        return self.gateway.url

    @property
    def cdn_host(self) -> str:
        """host:port of attachment URLs; put it in the bot's attachment-host allow-list (config)."""
        return f"127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        """The bot token the emulator accepts."""
        return self.settings.token

    def launcher_args(self) -> list[str]:
        """`--rest URL --gateway URL` for `python -m tests.discord_emulator.launch`."""
        return ["--rest", self.rest_url, "--gateway", self.gateway_url]

    def bot_env(self) -> dict[str, str]:
        """Environment a bot process needs (its token)."""
        return {"DISCORD_TOKEN": self.token}

    def user(self, who: UserRef = None) -> User:
        """A user by name (None: the first test user, "alice" by default)."""
        if who is None:
            return self.world.people[0]
        return who if isinstance(who, User) else self.world.user_named(who)

    def channel(self, where: ChannelRef = None) -> Channel:
        """A channel by name or id (None: the first text channel, "general" by default)."""
        if where is None:
            return next(c for c in self.world.channels.values() if c.guild_id is not None and not c.is_thread)
        if isinstance(where, Channel):
            return where
        return self.world.channels[where] if isinstance(where, int) else self.world.channel_named(where)

    def message(self, ref: MessageRef) -> dict[str, Any]:
        """The current state of a stored message (from a Reply, a message dict or an id)."""
        message_id = (
            ref.message_id if isinstance(ref, Reply) else int(ref["id"]) if isinstance(ref, dict) else ref
        )
        if message_id is None or message_id not in self.messages:
            raise ValueError(f"no stored message {message_id!r}")
        return copy.deepcopy(self.messages[message_id])

    # -- what users do -----------------------------------------------------------------------

    async def upload_attachment(
        self, filename: str, data: bytes, content_type: str | None = None, *, channel: ChannelRef = None
    ) -> CdnFile:
        """Put a user's file on the CDN, to pass as an attachment option or in post_message()."""
        return self.store_file(self.channel(channel).id, filename, data, content_type)

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: UserRef = None,
        channel: ChannelRef = None,
        validate: bool = True,
    ) -> InteractionTrace:
        """Run a slash command ("name" or "group sub") with options, as `user` in `channel`."""
        where = self.channel(channel)
        data = slash_data(self, name, options or {}, where.guild_id, validate)
        return await self._inject(
            interaction_payload(self, type=2, user=self.user(user), channel=where, data=data)
        )

    async def press_button(
        self, message: MessageRef, custom_id: str, *, user: UserRef = None, validate: bool = True
    ) -> InteractionTrace:
        """Click the button `custom_id` on a message."""
        return await self._component(message, custom_id, None, user, validate)

    async def select(
        self,
        message: MessageRef,
        custom_id: str,
        values: list[str],
        *,
        user: UserRef = None,
        validate: bool = True,
    ) -> InteractionTrace:
        """Choose `values` in the select menu `custom_id` on a message."""
        return await self._component(message, custom_id, values, user, validate)

    async def submit_modal(
        self,
        opened_by: InteractionTrace,
        values: dict[str, Any],
        *,
        user: UserRef = None,
        validate: bool = True,
    ) -> InteractionTrace:
        """Fill in and submit the modal that the bot opened in answer to `opened_by`."""
        reply = await opened_by.response()
        if reply.modal is None:
            raise ValueError(
                f"interaction {opened_by.id} was answered with callback {reply.callback_type!r}, not a modal"
            )
        where = self.channel(int(opened_by.payload["channel_id"]))
        who = self.user(user) if user is not None else self._user_of(opened_by)
        data = modal_data(reply.modal, values, validate)
        message = opened_by.payload.get("message")
        return await self._inject(
            interaction_payload(self, type=5, user=who, channel=where, data=data, message=message)
        )

    async def context_menu(
        self, name: str, target: MessageRef | User, *, user: UserRef = None, channel: ChannelRef = None
    ) -> InteractionTrace:
        """Run a message context-menu command on a message, or a user command on a User."""
        message_target = None if isinstance(target, User) else self.message(target)
        where = self.channel(
            channel
            if channel is not None
            else (int(message_target["channel_id"]) if message_target else None)
        )
        kind = 2 if isinstance(target, User) else 3
        command = self.commands.get(name, kind, where.guild_id)
        if command is None:
            raise ValueError(f"no synced {'user' if kind == 2 else 'message'} command {name!r}")
        data = context_menu_data(self, command, target if isinstance(target, User) else message_target)
        return await self._inject(
            interaction_payload(self, type=2, user=self.user(user), channel=where, data=data)
        )

    async def post_message(
        self,
        content: str = "",
        *,
        user: UserRef = None,
        channel: ChannelRef = None,
        attachments: Iterable[CdnFile] = (),
        mention_bot: bool = False,
    ) -> dict[str, Any]:
        """A user's message in a channel (MESSAGE_CREATE to the bot, subject to its intents)."""
        author, where = self.user(user), self.channel(channel)
        extra: dict[str, Any] = {"mentions": [self.world.bot.payload()]} if mention_bot else {}
        if mention_bot:
            content = f"<@{self.world.bot.id}> {content}".strip()
        files = [
            {
                "id": str(f.id),
                "filename": f.filename,
                "size": len(f.data),
                "url": f.url,
                "proxy_url": f.url,
                "content_type": f.content_type,
            }
            for f in attachments
        ]
        message, _ = await self.create_message(
            where, author, {"content": content}, flags=0, extra={**extra, "attachments": files}, check=False
        )
        self.signal.notify()
        return message

    async def _component(
        self, ref: MessageRef, custom_id: str, values: list[str] | None, user: UserRef, validate: bool
    ) -> InteractionTrace:
        message = self.message(ref)
        data = component_data(message, custom_id, values, validate)
        where = self.channel(int(message["channel_id"]))
        return await self._inject(
            interaction_payload(self, type=3, user=self.user(user), channel=where, data=data, message=message)
        )

    def _user_of(self, trace: InteractionTrace) -> User:
        user = (trace.payload.get("member") or {}).get("user") or trace.payload["user"]
        return self.world.users[int(user["id"])]

    async def _inject(self, payload: dict[str, Any]) -> InteractionTrace:
        """Register the interaction (its 3-second clock starts now) and dispatch it."""
        await (
            self.gateway.barrier()
        )  # the bot has taken in every earlier reply, as a human would have seen it
        trace = InteractionTrace(
            int(payload["id"]), payload["token"], payload, asyncio.get_running_loop().time(), self.signal
        )
        self.traces[trace.id] = trace
        self.traces_by_token[trace.token] = trace
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        if not await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id):
            raise RuntimeError(
                "no gateway session to deliver the interaction to (is the bot connected? await wait_ready())"
            )
        self.signal.notify()
        return trace

    # -- gateway control ---------------------------------------------------------------------

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client should reconnect and RESUME."""
        await self.gateway.send_op(RECONNECT)

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (resumable=False makes the client IDENTIFY afresh)."""
        await self.gateway.send_op(INVALID_SESSION, resumable)

    async def drop_connections(self, code: int = 4000) -> None:
        """Close the websockets as a network failure would (4000: the client resumes)."""
        await self.gateway.close_connections(code)

    @contextlib.asynccontextmanager
    async def cdn_slowed(self) -> AsyncIterator[None]:
        """A stalled CDN: attachment downloads wait until the block ends (`cdn_held` counts them).

        A bot that downloads a member's clip as part of a job then holds that job open for as long
        as the test needs: the way to have a job certainly running, whatever the machine's speed.
        """
        self.cdn_hold = asyncio.Event()
        try:
            yield
        finally:
            self.cdn_hold.set()
            self.cdn_hold = None

    async def wait_cdn_held(self, count: int, timeout: float = 30.0) -> int:
        """Wait until `count` downloads are waiting on (or went through) a stalled CDN."""
        return await self.wait_for(
            lambda: self.cdn_held if self.cdn_held >= count else None, timeout, f"{count} held CDN downloads"
        )

    # -- waiting -----------------------------------------------------------------------------

    async def wait_for(
        self, check: Callable[[], T | None], timeout: float = 10.0, what: str = "a condition"
    ) -> T:
        """The first non-None value of `check()`, re-checked whenever the emulator records something."""
        return await self.signal.wait_for(check, timeout, what)

    async def wait_ready(self, timeout: float = 15.0) -> Session:
        """The bot identified and was sent READY and GUILD_CREATE."""

        def ready() -> Session | None:
            session = self.gateway.session
            return session if session is not None and session.connection is not None else None

        return await self.wait_for(ready, timeout, "the bot to IDENTIFY")

    async def wait_synced(
        self, names: Iterable[str] = (), *, guild: bool = False, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """The synced command list (global, or the guild's) once it holds every name in `names`."""
        wanted, scope = set(names), (self.world.guild.id if guild else None)

        def synced() -> list[dict[str, Any]] | None:
            listed = self.commands.synced(scope)
            if self.commands.sync_count and wanted <= {c["name"] for c in listed}:
                return listed
            return None

        return await self.wait_for(synced, timeout, f"commands {sorted(wanted)} to be synced")

    def command(self, name: str, *, type: int = CHAT_INPUT, guild: bool = False) -> dict[str, Any]:
        """A synced command as Discord stored it (options, choices, ranges, descriptions)."""
        found = self.commands.get(name, type, self.world.guild.id if guild else None)
        if found is None:
            raise KeyError(f"command {name!r} (type {type}) is not synced")
        return found

    async def wait_resumed(self, count: int = 1, timeout: float = 15.0) -> Session:
        """A session that has RESUMEd `count` times and is connected again."""

        def resumed() -> Session | None:
            return next(
                (s for s in self.gateway.sessions if len(s.resumes) >= count and s.connection is not None),
                None,
            )

        return await self.wait_for(resumed, timeout, f"RESUME #{count}")

    async def wait_heartbeats(self, count: int = 1, timeout: float = 15.0) -> int:
        """Heartbeats received on the current connection, once there are at least `count`."""

        def beats() -> int | None:
            session = self.gateway.session
            n = session.connection.heartbeats if session is not None and session.connection is not None else 0
            return n if n >= count else None

        return await self.wait_for(beats, timeout, f"{count} heartbeat(s)")

    async def wait_reply(
        self, where: Callable[[Reply], bool], timeout: float = 10.0, what: str = "a matching reply"
    ) -> Reply:
        """The first reply of any kind (callbacks, followups, channel messages...) matching `where`."""
        return await self.wait_for(lambda: next((r for r in self.replies if where(r)), None), timeout, what)

    # -- checks and diagnostics --------------------------------------------------------------

    def assert_no_unknown_routes(self) -> None:
        """Fail if the bot called an API route the emulator does not know, or the emulator failed."""
        if self.internal_errors:
            raise AssertionError("the emulator failed (answered 500):\n" + "\n".join(self.internal_errors))
        if self.unknown_requests:
            calls = ", ".join(f"{r.method} {r.path}" for r in self.unknown_requests)
            raise AssertionError(f"the bot called routes the emulator does not emulate: {calls}")

    def summary(self) -> str:
        """A few lines on what happened, appended to timeout errors."""
        lines = [
            f"sessions={len(self.gateway.sessions)} connections={len(self.gateway.connections)} replies={len(self.replies)}"
        ]
        lines += [f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-8:]]
        lines += [
            f"  refused {r.method} {r.path}: {r.status} {r.code} {r.message}" for r in self.refusals[-5:]
        ]
        lines += [f"  unknown route {r.method} {r.path}" for r in self.unknown_requests]
        lines += [f"  EMULATOR ERROR {e}" for e in self.internal_errors[-2:]]
        return "\nemulator: " + "\n".join(lines)
